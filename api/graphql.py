"""GraphQL at /graphql: reads from the projections (board, statistics).

Resolvers are async and reach the (synchronous) views through worker
threads, so a `minPosition` wait never blocks the event loop. A client that
just wrote passes the `position` a command returned as `minPosition` and
reads its own write. Every field applies the caller's scope.
"""

from __future__ import annotations

import asyncio
import json
import time
from calendar import monthrange
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import anyio.to_thread
import strawberry
from fastapi import Request
from strawberry.dataloader import DataLoader
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import Info

from ledger.actors import Actor, Role
from ledger.areas import AreaCode
from ledger.deadlines import RULE_NAMES, evaluate
from ledger.errors import DomainError, InvalidInput, NotAuthenticated, NotPermitted, Unavailable
from projections import disaster_state as ds
from projections.board import BoardFilter
from projections.statistics import StatisticsQuery

MAX_PAGE = 100
MAX_WAIT_SECONDS = 10.0
MAX_COMPLIANCE_PROCESSES = 5000


class Context(dict[str, Any]):
    pass


def _error(exc: DomainError) -> Exception:
    from graphql import GraphQLError

    return GraphQLError(exc.message, extensions={"code": exc.code, "fields": [f.as_dict() for f in exc.fields]})


def _ctx(info: Info) -> Any:
    return info.context


def _actor(info: Info) -> Actor:
    actor = _ctx(info)["actor"]
    if actor is None:
        raise _error(NotAuthenticated("缺少或无效的令牌", "missing or invalid bearer token"))
    return actor


def _host(info: Info) -> Any:
    host = _ctx(info)["host"]
    if host is None:
        raise _error(Unavailable("读模型未在本进程运行", "projections are not running in this process"))
    return host


async def _wait(info: Info, position: int | None, names: list[str]) -> None:
    if not position:
        return
    host = _host(info)
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    delay = 0.01
    while True:
        positions = await anyio.to_thread.run_sync(lambda: [host.followers[n].position() for n in names])
        if min(positions) >= position:
            return
        if time.monotonic() >= deadline:
            raise _error(Unavailable(
                f"读模型尚未处理到位置 {position}", f"the read model has not reached position {position} yet",
            ))
        host.wake.set()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


def _scoped_area(actor: Actor, area: str | None) -> str:
    """The area to read: the requested one, which must lie within the caller's scope."""
    if not area:
        return actor.scope
    try:
        prefix = AreaCode.parse(area, "area").prefix
    except InvalidInput as exc:
        raise _error(exc) from None
    if not prefix.startswith(actor.scope):
        if actor.role is Role.TOWNSHIP and actor.scope.startswith(prefix):
            return actor.scope
        raise _error(NotPermitted(f"{area} 不在本账号的管辖范围内", f"{area} is outside this account's scope"))
    return prefix


@strawberry.type(description="One indicator's value (exact decimal as a string)")
class Figure:
    indicator: str
    name: str
    unit: str
    value: str


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


def _figures(info: Info, values: dict[str, Any]) -> list[Figure]:
    indicators = _ctx(info)["runtime"].indicators.indicators
    out = []
    for key in indicators:
        if key in values:
            i = indicators[key]
            value = Decimal(str(values[key])).quantize(Decimal(1).scaleb(-i.scale))  # the indicator's scale
            out.append(Figure(indicator=key, name=i.name_zh, unit=i.unit, value=str(value)))
    return out


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
        area = _ctx(info)["runtime"].areas.get(self.row["county"])
        return area.name if area else None

    @strawberry.field
    def hazard(self) -> str:
        return str(self.row["hazard"])

    @strawberry.field
    def hazard_name(self, info: Info) -> str:
        hazard = _ctx(info)["runtime"].hazards.hazards.get(self.row["hazard"])
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
        actor = _actor(info)
        if actor.role is Role.TOWNSHIP:
            totals: dict[str, Decimal] = {}
            for figures in self._townships(actor).values():
                for k, v in figures.items():
                    totals[k] = totals.get(k, Decimal(0)) + v
            return _figures(info, totals)
        return _figures(info, json.loads(self.row["totals"]))

    @strawberry.field(description="per township (统计单位 = 乡镇), the figures that count")
    def townships(self, info: Info) -> list[TownshipFigures]:
        areas = _ctx(info)["runtime"].areas
        out = []
        for code, figures in sorted(self._townships(_actor(info)).items()):
            area = areas.get(code)
            out.append(TownshipFigures(code=code, name=area.name if area else None, figures=_figures(info, figures)))
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
        events = await _ctx(info)["history_loader"].load(self.row["disaster_id"])
        actor = _actor(info)
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
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


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


@strawberry.type
class ProjectionStatus:
    name: str
    position: int
    head: int
    lag: int
    running: bool
    error: str | None


@strawberry.input(description="one of: day, month (YYYY-MM), year, or from/to")
class PeriodInput:
    day: date | None = None
    month: str | None = None
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def _period(p: PeriodInput) -> tuple[date, date]:
    try:
        if p.day:
            return p.day, p.day
        if p.month:
            y, m = (int(x) for x in p.month.split("-"))
            return date(y, m, 1), date(y, m, monthrange(y, m)[1])
        if p.year:
            return date(p.year, 1, 1), date(p.year, 12, 31)
        if p.date_from and p.date_to and p.date_from <= p.date_to:
            return p.date_from, p.date_to
    except ValueError:
        pass
    raise _error(InvalidInput("统计期间无效", "invalid period: give day, month (YYYY-MM), year, or dateFrom ≤ dateTo"))


def _cursor(row: dict[str, Any]) -> str:
    return f"{row['disaster_date']}|{row['disaster_id']}"


@strawberry.type
class Query:
    @strawberry.field(description="disaster processes on the board, newest first (cursor pagination)")
    async def disasters(
        self, info: Info, area: str | None = None, hazard: str | None = None, date_from: date | None = None,
        date_to: date | None = None, stage: str | None = None, first: int = 20, after: str | None = None,
        min_position: int | None = None,
    ) -> DisasterConnection:
        actor = _actor(info)
        await _wait(info, min_position, ["board"])
        scope = _scoped_area(actor, area)
        view = _host(info).view("board")
        f = BoardFilter(area=scope[:6] if len(scope) > 6 else scope, hazard=hazard,
                        date_from=date_from.isoformat() if date_from else None,
                        date_to=date_to.isoformat() if date_to else None, stage=stage)
        limit = max(1, min(first, MAX_PAGE))
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
        actor = _actor(info)
        await _wait(info, min_position, ["board"])
        row = await _ctx(info)["board_loader"].load(str(id))
        if row is None:
            return None
        if not actor.overlaps(row["county"]):
            raise _error(NotPermitted("不在本账号的管辖范围内", "outside this account's scope"))
        return Disaster(row=row)

    @strawberry.field(description="直报 statistics for an area (province/city/county/township) and period")
    async def statistics(
        self, info: Info, area: str, period: PeriodInput, hazard: str | None = None, subtype: str | None = None,
        min_position: int | None = None,
    ) -> Statistics:
        actor = _actor(info)
        await _wait(info, min_position, ["statistics"])
        prefix = _scoped_area(actor, area)
        start, end = _period(period)
        runtime = _ctx(info)["runtime"]
        if hazard is not None and hazard not in runtime.hazards.hazards:
            raise _error(InvalidInput(f"未知的灾种 {hazard}", f"unknown disaster type {hazard}"))
        if subtype is not None and len(prefix) < 6:
            raise _error(InvalidInput(
                "地市和省级统计只按一级灾种", "above county level statistics are by 一级灾种 only; omit subtype",
            ))
        view = _host(info).view("statistics")
        q = StatisticsQuery(area=prefix, date_from=start.isoformat(), date_to=end.isoformat(), hazard=hazard,
                            subtype=subtype)
        result = await anyio.to_thread.run_sync(view.statistics, q)
        area_obj = runtime.areas.get(prefix)

        def named(code: str) -> str | None:
            a = runtime.areas.get(code)
            return a.name if a else None

        return Statistics(
            area=prefix, area_name=area_obj.name if area_obj else None, date_from=start, date_to=end, hazard=hazard,
            processes=result.processes, totals=_figures(info, result.totals),
            breakdown=[AreaFigures(code=c, name=named(c), figures=_figures(info, f))
                       for c, f in result.breakdown.items()],
            by_subtype=None if result.by_subtype is None else [
                AreaFigures(code=s, name=runtime.hazards.hazards[hazard].subtypes.get(s) if hazard else None,
                            figures=_figures(info, f))
                for s, f in result.by_subtype.items()
            ],
        )

    @strawberry.field(description="report deadlines (迟报 / 未报) of the processes in an area and period")
    async def compliance(
        self, info: Info, area: str, period: PeriodInput, status: list[str] | None = None,
        min_position: int | None = None,
    ) -> ComplianceReport:
        actor = _actor(info)
        await _wait(info, min_position, ["board"])
        prefix = _scoped_area(actor, area)
        start, end = _period(period)
        runtime = _ctx(info)["runtime"]
        view = _host(info).view("board")
        f = BoardFilter(area=prefix[:6] if len(prefix) > 6 else prefix, date_from=start.isoformat(),
                        date_to=end.isoformat())
        rows = await anyio.to_thread.run_sync(lambda: view.find(f, None, MAX_COMPLIANCE_PROCESSES))
        now = runtime.now()
        flags = []
        for row in rows:
            for fl in evaluate(json.loads(row["state"]), runtime.deadlines, now):
                flags.append(ComplianceFlag(
                    disaster_id=strawberry.ID(fl.disaster_id), county=row["county"], hazard=row["hazard"],
                    rule=fl.rule, rule_name=RULE_NAMES.get(fl.rule, fl.rule), level=fl.level, unit=fl.unit,
                    due_at=fl.due_at, arrived_at=fl.arrived_at, status=fl.status, delay_seconds=fl.delay_seconds,
                    report_number=fl.report_number, rules_version=fl.rules_version,
                ))
        counts = {s: sum(1 for fl in flags if fl.status == s) for s in ("on_time", "late", "missing", "pending")}
        shown = [fl for fl in flags if not status or fl.status in status]
        return ComplianceReport(flags=shown, **counts)

    @strawberry.field(description="each projection's position and lag behind the event store")
    async def projection_status(self, info: Info) -> list[ProjectionStatus]:
        _actor(info)
        host = _host(info)
        statuses = await anyio.to_thread.run_sync(host.status)
        return [ProjectionStatus(name=s.name, position=s.position, head=s.head, lag=s.lag, running=s.running,
                                 error=s.error) for s in statuses]


def _is_unexpected(error: Any) -> bool:
    """Hide internals of unexpected errors; our own errors carry an extensions code."""
    original = getattr(error, "original_error", None)
    return original is not None and not (error.extensions or {}).get("code")


_EXTENSIONS: list[Any] = [
    lambda: MaskErrors(should_mask_error=_is_unexpected),
    lambda: QueryDepthLimiter(max_depth=8),
    lambda: MaxAliasesLimiter(max_alias_count=15),
    lambda: MaxTokensLimiter(max_token_count=2000),
]


from api.graphql_audit import AuditQuery  # noqa: E402 — it uses this module's helpers
from api.graphql_relief import RELIEF_SCALARS, ReliefQuery  # noqa: E402 — it uses this module's helpers

schema = strawberry.Schema(
    query=merge_types("Query", (Query, ReliefQuery, AuditQuery)),
    config=StrawberryConfig(scalar_map=RELIEF_SCALARS),  # money as 64-bit integers of fen
    extensions=_EXTENSIONS,
)


def graphql_router(runtime: Any, host: Any, graphiql: bool) -> GraphQLRouter:
    async def get_context(request: Request) -> Context:
        actor = None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            try:
                actor = await anyio.to_thread.run_sync(runtime.accounts.authenticate, token.strip())
            except DomainError:
                actor = None
        board = host.view("board") if host is not None else None

        async def load_rows(ids: list[str]) -> list[dict[str, Any] | None]:
            if board is None:
                return [None] * len(ids)
            rows = await anyio.to_thread.run_sync(board.get, ids)
            return [rows.get(i) for i in ids]

        async def load_histories(ids: list[str]) -> list[list[Any]]:
            def read() -> list[list[Any]]:
                return [list(runtime.app.events.get(UUID(i))) for i in ids]

            return await anyio.to_thread.run_sync(read)

        return Context(actor=actor, runtime=runtime, host=host, board_loader=DataLoader(load_fn=load_rows),
                       history_loader=DataLoader(load_fn=load_histories))

    return GraphQLRouter(schema, context_getter=get_context, graphql_ide="graphiql" if graphiql else None)
