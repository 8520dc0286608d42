"""GraphQL about the read side itself: each projection's position, lag and errors."""

from __future__ import annotations

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import actor_of, host_of, page_size


@strawberry.type(description="an event a projection could not apply, or skipped because its aggregate is quarantined")
class DeadLetter:
    position: int
    aggregate_id: str
    version: int
    event: str
    error: str


@strawberry.type
class ProjectionStatus:
    name: str
    position: int
    head: int
    lag: int
    running: bool
    error: str | None
    dead_letter_count: int = strawberry.field(description="events this projection could not apply (listed below)")
    view: strawberry.Private[object]

    @strawberry.field(description="the first dead letters, by position")
    async def dead_letters(self, first: int = 20) -> list[DeadLetter]:
        rows = await anyio.to_thread.run_sync(self.view.dead_letters, page_size(first))  # type: ignore[attr-defined]
        return [DeadLetter(position=r["position"], aggregate_id=r["originator_id"], version=r["originator_version"],
                           event=r["topic"].rsplit(":", 1)[-1], error=r["error"]) for r in rows]


@strawberry.type
class ProjectionsQuery:
    @strawberry.field(description="each projection's position and lag behind the event store")
    async def projection_status(self, info: Info) -> list[ProjectionStatus]:
        actor_of(info)
        host = host_of(info)
        statuses = await anyio.to_thread.run_sync(host.status)
        return [ProjectionStatus(name=s.name, position=s.position, head=s.head, lag=s.lag, running=s.running,
                                 error=s.error, dead_letter_count=s.dead_letters, view=host.view(s.name))
                for s in statuses]
