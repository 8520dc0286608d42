"""GraphQL over the disaster read models: the board, 直报 statistics and deadline compliance."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import (
    Figure,
    PageInfo,
    PeriodInput,
    actor_of,
    context,
    figures_of,
    graphql_error,
    host_of,
    narrowed,
    one_of,
    page_size,
    period_of,
    scoped_area,
    wait_for,
)
from ledger.disasters import state as ds
from ledger.disasters.deadlines import RULE_NAMES, evaluate
from ledger.store.actors import Actor, Role
from ledger.store.errors import InvalidInput, NotPermitted
from projections.disasters.board import BoardFilter
from projections.disasters.statistics import StatisticsQuery

MAX_COMPLIANCE_PROCESSES = 5000
STAGES = ("initial", "follow_up", "final", "retracted")


@strawberry.type
class TownshipFigures:
    code: str
    name: str | None
    figures: list[Figure]


@strawberry.type
class ReportEntry:
    number: int
    kind: str
    review: str
    as_of: datetime | None
    recorded_at: datetime | None
    filed_by: str
    unit: str
    townships: list[str]


@strawberry.type(description="one event in a process's history")
class HistoryEntry:
    version: int
    type: str
    recorded_at: datetime
    actor: str | None
    unit: str | None
    occurred_at: datetime | None
    payload: str = strawberry.field(description="the event's data as JSON")


@strawberry.type(description="One 灾害过程 as the board shows it")
class Disaster:
    row: strawberry.Private[dict[str, Any]]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row["disaster_id"])

    @strawberry.field
    def county(self) -> str:
        return str(self.row["county"])

    @strawberry.field
    def county_name(self, info: Info) -> str | None:
        area = context(info)["runtime"].areas.get(self.row["county"])
        return area.name if area else None

    @strawberry.field
    def hazard(self) -> str:
        return str(self.row["hazard"])

    @strawberry.field
    def hazard_name(self, info: Info) -> str:
        hazard = context(info)["runtime"].hazards.hazards.get(self.row["hazard"])
        return hazard.name if hazard else str(self.row["hazard"])

    @strawberry.field
    def subtype(self) -> str | None:
        return self.row["subtype"]

    @strawberry.field
    def disaster_date(self) -> date:
        return date.fromisoformat(self.row["disaster_date"])

    @strawberry.field
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.row["occurred_at"])

    @strawberry.field(description="initial | follow_up | final | retracted")
    def stage(self) -> str:
        return str(self.row["stage"])

    @strawberry.field(description="1–4 (Ⅰ–Ⅳ) while a response is active")
    def response_level(self) -> int | None:
        return self.row["response_level"]

    @strawberry.field(description="review of the latest report: submitted | accepted | returned")
    def review_status(self) -> str | None:
        return self.row["review_status"]

    @strawberry.field
    def last_report_at(self) -> datetime | None:
        value = self.row["last_report_at"]
        return datetime.fromisoformat(value) if value else None

    @strawberry.field
    def report_count(self) -> int:
        return int(self.row["report_count"])

    @strawberry.field
    def version(self) -> int:
        return int(self.row["version"])

    @strawberry.field(description="county totals of the figures that count (a township account: its township)")
    def totals(self, info: Info) -> list[Figure]:
        actor = actor_of(info)
        if actor.role is Role.TOWNSHIP:
            totals: dict[str, Decimal] = {}
            for figures in self._townships(actor).values():
                for k, v in figures.items():
                    totals[k] = totals.get(k, Decimal(0)) + v
            return figures_of(info, totals)
        return figures_of(info, json.loads(self.row["totals"]))

    @strawberry.field(description="per township (统计单位 = 乡镇), the figures that count")
    def townships(self, info: Info) -> list[TownshipFigures]:
        areas = context(info)["runtime"].areas
        out = []
        for code, figures in sorted(self._townships(actor_of(info)).items()):
            area = areas.get(code)
            out.append(TownshipFigures(code=code, name=area.name if area else None, figures=figures_of(info, figures)))
        return out

    @strawberry.field(description="the reports of the process: kind, review, when filed and by whom")
    def reports(self) -> list[ReportEntry]:
        state = json.loads(self.row["state"])
        return [
            ReportEntry(
                number=r["number"], kind=r["kind"], review=r["review"],
                as_of=datetime.fromisoformat(r["as_of"]) if r.get("as_of") else None,
                recorded_at=datetime.fromisoformat(r["recorded_at"]) if r.get("recorded_at") else None,
                filed_by=r["filed_by"]["username"], unit=r["filed_by"]["unit"], townships=sorted(r["figures"]),
            )
            for r in state["reports"]
        ]

    @strawberry.field(description="every event of the process from the event store: type, actor, unit, times, payload")
    async def history(self, info: Info) -> list[HistoryEntry]:
        events = await context(info)["history_loader"].load(self.row["disaster_id"])
        actor = actor_of(info)
        from api.presenters import history_out

        return [
            HistoryEntry(
                version=e["version"], type=e["type"], recorded_at=datetime.fromisoformat(e["recorded_at"]),
                actor=(e["actor"] or {}).get("username"), unit=e["unit"],
                occurred_at=datetime.fromisoformat(e["occurred_at"]) if e["occurred_at"] else None,
                payload=json.dumps(e["payload"], ensure_ascii=False),
            )
            for e in history_out(actor, events)
        ]

    def _townships(self, actor: Actor) -> dict[str, dict[str, Decimal]]:
        figures = ds.township_figures(json.loads(self.row["state"]))
        if actor.role is Role.TOWNSHIP:
            return {t: f for t, f in figures.items() if actor.covers(t)}
        return figures


@strawberry.type
class DisasterEdge:
    cursor: str
    node: Disaster


@strawberry.type
class DisasterConnection:
    edges: list[DisasterEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class AreaFigures:
    code: str
    name: str | None
    figures: list[Figure]


@strawberry.type(description="直报 statistics: indicators summed over the processes in an area and period (人次)")
class Statistics:
    area: str
    area_name: str | None
    date_from: date
    date_to: date
    hazard: str | None
    processes: int
    totals: list[Figure]
    breakdown: list[AreaFigures]
    by_subtype: list[AreaFigures] | None = strawberry.field(description="county level and below only (亚灾种)")
    narrowed_from: str | None = strawberry.field(
        default=None, description="the area asked for, when it was wider than the account's scope and the "
                                  "figures are only the scope's (a township account asking for its county)")


@strawberry.type(description="one report that was due: on time, late (迟报), missing (未报) or not yet due")
class ComplianceFlag:
    disaster_id: strawberry.ID
    county: str
    hazard: str
    rule: str
    rule_name: str
    level: str = strawberry.field(description="county | city | province")
    unit: str = strawberry.field(description="the responsible unit's area code")
    due_at: datetime
    arrived_at: datetime | None
    status: str = strawberry.field(description="on_time | late | missing | pending")
    delay_seconds: int | None
    report_number: int | None
    rules_version: str


@strawberry.type
class ComplianceReport:
    on_time: int
    late: int
    missing: int
    pending: int
    flags: list[ComplianceFlag]


def _cursor(row: dict[str, Any]) -> str:
    return f"{row['disaster_date']}|{row['disaster_id']}"


@strawberry.type
class DisastersQuery:
    @strawberry.field(description="disaster processes on the board, newest first (cursor pagination)")
    async def disasters(
        self, info: Info, area: str | None = None, hazard: str | None = None, date_from: date | None = None,
        date_to: date | None = None, stage: str | None = None, first: int = 20, after: str | None = None,
        min_position: int | None = None,
    ) -> DisasterConnection:
        actor = actor_of(info)
        await wait_for(info, min_position, ["board"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("board")
        f = BoardFilter(area=scope[:6] if len(scope) > 6 else scope, hazard=hazard,
                        date_from=date_from.isoformat() if date_from else None,
                        date_to=date_to.isoformat() if date_to else None, stage=stage)
        limit = page_size(first)
        one_of(stage, STAGES, "stage")
        after_key = tuple(after.split("|", 1)) if after and "|" in after else None
        rows, total = await anyio.to_thread.run_sync(
            lambda: (view.find(f, after_key, limit + 1), view.count(f))
        )
        edges = [DisasterEdge(cursor=_cursor(r), node=Disaster(row=r)) for r in rows[:limit]]
        return DisasterConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
            total_count=total,
        )

    @strawberry.field(description="one disaster process")
    async def disaster(self, info: Info, id: strawberry.ID, min_position: int | None = None) -> Disaster | None:
        actor = actor_of(info)
        await wait_for(info, min_position, ["board"])
        row = await context(info)["board_loader"].load(str(id))
        if row is None:
            return None
        if not actor.overlaps(row["county"]):
            raise graphql_error(NotPermitted("不在本账号的管辖范围内", "outside this account's scope"))
        return Disaster(row=row)

    @strawberry.field(description="直报 statistics for an area (province/city/county/township) and period")
    async def statistics(
        self, info: Info, area: str, period: PeriodInput, hazard: str | None = None, subtype: str | None = None,
        min_position: int | None = None,
    ) -> Statistics:
        actor = actor_of(info)
        await wait_for(info, min_position, ["statistics"])
        prefix = scoped_area(actor, area, narrow=True)
        start, end = period_of(period)
        runtime = context(info)["runtime"]
        if hazard is not None and hazard not in runtime.hazards.hazards:
            raise graphql_error(InvalidInput(f"未知的灾种 {hazard}", f"unknown disaster type {hazard}"))
        if subtype is not None and len(prefix) < 6:
            raise graphql_error(InvalidInput(
                "地市和省级统计只按一级灾种", "above county level statistics are by 一级灾种 only; omit subtype",
            ))
        view = host_of(info).view("statistics")
        q = StatisticsQuery(area=prefix, date_from=start.isoformat(), date_to=end.isoformat(), hazard=hazard,
                            subtype=subtype)
        result = await anyio.to_thread.run_sync(view.statistics, q)
        area_obj = runtime.areas.get(prefix)

        def named(code: str) -> str | None:
            a = runtime.areas.get(code)
            return a.name if a else None

        return Statistics(
            narrowed_from=narrowed(area, prefix),
            area=prefix, area_name=area_obj.name if area_obj else None, date_from=start, date_to=end, hazard=hazard,
            processes=result.processes, totals=figures_of(info, result.totals),
            breakdown=[AreaFigures(code=c, name=named(c), figures=figures_of(info, f))
                       for c, f in result.breakdown.items()],
            by_subtype=None if result.by_subtype is None else [
                AreaFigures(code=s, name=runtime.hazards.hazards[hazard].subtypes.get(s) if hazard else None,
                            figures=figures_of(info, f))
                for s, f in result.by_subtype.items()
            ],
        )

    @strawberry.field(description="report deadlines (迟报 / 未报) of the processes in an area and period")
    async def compliance(
        self, info: Info, area: str, period: PeriodInput, status: list[str] | None = None,
        min_position: int | None = None,
    ) -> ComplianceReport:
        actor = actor_of(info)
        await wait_for(info, min_position, ["board", "upward"])
        prefix = scoped_area(actor, area)
        start, end = period_of(period)
        runtime = context(info)["runtime"]
        view = host_of(info).view("board")
        upward_view = host_of(info).view("upward")
        f = BoardFilter(area=prefix[:6] if len(prefix) > 6 else prefix, date_from=start.isoformat(),
                        date_to=end.isoformat())
        rows = await anyio.to_thread.run_sync(lambda: view.find(f, None, MAX_COMPLIANCE_PROCESSES, True))
        now = runtime.now()
        upward = await anyio.to_thread.run_sync(lambda: upward_view.for_processes([r["disaster_id"] for r in rows]))
        flags = []
        for row in rows:
            for fl in evaluate(json.loads(row["state"]), runtime.deadlines, now, upward):
                flags.append(ComplianceFlag(
                    disaster_id=strawberry.ID(fl.disaster_id), county=row["county"], hazard=row["hazard"],
                    rule=fl.rule, rule_name=RULE_NAMES.get(fl.rule, fl.rule), level=fl.level, unit=fl.unit,
                    due_at=fl.due_at, arrived_at=fl.arrived_at, status=fl.status, delay_seconds=fl.delay_seconds,
                    report_number=fl.report_number, rules_version=fl.rules_version,
                ))
        counts = {s: sum(1 for fl in flags if fl.status == s) for s in ("on_time", "late", "missing", "pending")}
        shown = [fl for fl in flags if not status or fl.status in status]
        return ComplianceReport(flags=shown, **counts)
