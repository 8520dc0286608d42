"""GraphQL: the city's and the province's upward reports (上报), read from the `upward` projection."""

from __future__ import annotations

from datetime import date, datetime

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import actor_of, host_of, scoped_area, wait_for


@strawberry.type(description="one upward report (上报) of a city or province")
class UpwardReportEntry:
    id: strawberry.ID
    level: str = strawberry.field(description="city | province")
    unit: str
    kind: str = strawberry.field(description="initial (初报) | daily (日报/零报告) | final (核报)")
    day: date | None
    recorded_at: datetime
    disaster_ids: list[strawberry.ID]


@strawberry.type
class UpwardQuery:
    @strawberry.field(description="upward reports filed by the units within an area (newest first)")
    async def upward_reports(self, info: Info, area: str, min_position: int | None = None,
                             limit: int = 100) -> list[UpwardReportEntry]:
        actor = actor_of(info)
        await wait_for(info, min_position, ["upward"])
        prefix = scoped_area(actor, area)
        view = host_of(info).view("upward")
        rows = await anyio.to_thread.run_sync(lambda: view.in_area(prefix.rstrip("0") or prefix, min(limit, 500)))
        return [UpwardReportEntry(
            id=strawberry.ID(r["report_id"]), level=r["level"], unit=r["unit"], kind=r["kind"],
            day=date.fromisoformat(r["day"]) if r["day"] else None,
            recorded_at=datetime.fromisoformat(r["recorded_at"]),
            disaster_ids=[strawberry.ID(d) for d in r["disaster_ids"]]) for r in rows]
