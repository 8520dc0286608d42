"""GraphQL reads of housing reconstruction: files (因灾倒塌损坏住房户), progress, reconciliation with the
reported 住房 figures, overdue files. Same context, scope and `minPosition` waits as the other modules;
names in clear for officers within their scope, numbers always masked here."""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import actor_of, context, host_of, page_size, scoped_area, wait_for
from ledger.households.household import names_visible
from ledger.relief.service import CHINA
from projections.housing.reconcile import reconciliation_of


@strawberry.type(description="one household's housing file (一户一档)")
class HousingFile:
    case_id: strawberry.ID
    disaster_id: strawberry.ID
    village: str
    head_name: str
    id_number: str = strawberry.field(description="masked")
    damage: str
    rooms: int
    mode: str
    step: str
    subsidy_fen: int
    paid_fen: int
    planned_start: date | None
    planned_completion: date | None
    delays: str = strawberry.field(description="JSON: step → days later than agreed")
    table_version: str | None


@strawberry.type
class HousingProgressFigures:
    kind: str = strawberry.field(description="rebuild (原址/异地/集中) | purchase (购房安置) | repair (维修加固)")
    households: int
    started: int
    completed: int
    accepted: int
    moved_in: int
    closed: int
    approved_fen: int
    paid_fen: int
    outstanding_fen: int


@strawberry.type(description="files against the reported 住房 figures: more is possible 漏报, fewer is to explain")
class ReconciliationDifference:
    disaster_id: strawberry.ID
    township: str
    damage: str
    unit: str
    indicator: str
    cases: int
    reported: int
    difference: int
    status: str = strawberry.field(description="possible_underreport | to_explain")


@strawberry.type
class HousingOverdueItem:
    kind: str = strawberry.field(description="start_late | completion_late | progress_report_due | final_tranche_due")
    case_id: strawberry.ID
    disaster_id: strawberry.ID
    village: str
    head_name: str
    mode: str
    step: str
    since: date
    days_overdue: int
    subsidy_fen: int
    paid_fen: int


def _name(r: dict[str, Any], names: Any) -> str:
    return names(r["head_name_cipher"]) if names is not None and r.get("head_name_cipher") else r["head_name"]


def housing_overdue_items(info: Info, view: Any, scope: str, today: date) -> list[HousingOverdueItem]:
    runtime = context(info)["runtime"]
    names = runtime.pii.decrypt if names_visible(actor_of(info), scope) else None
    return [HousingOverdueItem(kind=r["kind"], case_id=strawberry.ID(r["case_id"]),
                               disaster_id=strawberry.ID(r["disaster_id"]), village=r["village"],
                               head_name=_name(r, names), mode=r["mode"], step=r["step"], since=r["since"],
                               days_overdue=r["days_overdue"], subsidy_fen=r["subsidy_fen"], paid_fen=r["paid_fen"])
            for r in view.overdue(scope, today, runtime.housing_rules)]


def _file(r: dict[str, Any], names: Any) -> HousingFile:
    return HousingFile(
        case_id=strawberry.ID(r["case_id"]), disaster_id=strawberry.ID(r["disaster_id"]), village=r["village"],
        head_name=_name(r, names), id_number=r["id_masked"], damage=r["damage"], rooms=int(r["rooms"]),
        mode=r["mode"], step=r["step"], subsidy_fen=int(r["subsidy_fen"] or 0), paid_fen=int(r["paid_fen"] or 0),
        planned_start=date.fromisoformat(r["planned_start"]) if r["planned_start"] else None,
        planned_completion=date.fromisoformat(r["planned_completion"]) if r["planned_completion"] else None,
        delays=r["delays"] or "{}", table_version=r["table_version"])


@strawberry.type
class HousingQuery:
    @strawberry.field(description="因灾倒塌损坏住房户: the housing files of an area (and process), by case id")
    async def housing_files(self, info: Info, area: str | None = None, disaster_id: strawberry.ID | None = None,
                            first: int = 50, after: str | None = None,
                            min_position: int | None = None) -> list[HousingFile]:
        actor = actor_of(info)
        limit = page_size(first)
        await wait_for(info, min_position, ["housing"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("housing")
        names = context(info)["runtime"].pii.decrypt if names_visible(actor, scope) else None
        rows = await anyio.to_thread.run_sync(
            lambda: view.rows(scope, str(disaster_id) if disaster_id else None, after, limit))
        return [_file(r, names) for r in rows]

    @strawberry.field(description="需重建 / 已开工 / 已竣工 / 已入住 (维修加固 likewise) and the subsidy")
    async def housing_progress(self, info: Info, area: str | None = None, disaster_id: strawberry.ID | None = None,
                               min_position: int | None = None) -> list[HousingProgressFigures]:
        actor = actor_of(info)
        await wait_for(info, min_position, ["housing"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("housing")
        figures = await anyio.to_thread.run_sync(lambda: view.progress(scope, str(disaster_id) if disaster_id else None))
        return [HousingProgressFigures(kind=k, **v) for k, v in sorted(figures.items())]

    @strawberry.field(description="per township and process: files by damage class against the reported figures")
    async def housing_reconciliation(self, info: Info, area: str | None = None,
                                     disaster_id: strawberry.ID | None = None,
                                     min_position: int | None = None) -> list[ReconciliationDifference]:
        actor = actor_of(info)
        await wait_for(info, min_position, ["housing", "board"])
        scope = scoped_area(actor, area)
        host = host_of(info)
        housing, board = host.view("housing"), host.view("board")
        found = await anyio.to_thread.run_sync(
            lambda: reconciliation_of(housing, board, scope, str(disaster_id) if disaster_id else None))
        return [ReconciliationDifference(disaster_id=strawberry.ID(did), **{
            k: v for k, v in d.as_dict().items() if k != "status_name"}) for did, d in found]

    @strawberry.field(description="housing files past the agreed dates, the progress rhythm or the last tranche")
    async def housing_overdue(self, info: Info, area: str | None = None,
                              min_position: int | None = None) -> list[HousingOverdueItem]:
        actor = actor_of(info)
        await wait_for(info, min_position, ["housing"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("housing")
        today = context(info)["runtime"].now().astimezone(CHINA).date()
        return await anyio.to_thread.run_sync(lambda: housing_overdue_items(info, view, scope, today))



