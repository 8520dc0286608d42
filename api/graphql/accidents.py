"""GraphQL over the accident register: accidents of an area and period, one accident with its grades,
reports, findings and report clocks, and the clocks (迟报 / 未报) of an area."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import (
    PageInfo,
    PeriodInput,
    actor_of,
    context,
    graphql_error,
    host_of,
    page_size,
    period_of,
    scoped_area,
    wait_for,
)
from ledger.accidents import state as accident_state
from ledger.accidents.clocks import RULE_NAMES, evaluate
from ledger.accidents.rules import GRADE_NAMES
from ledger.store.errors import NotPermitted

MAX_CLOCK_ACCIDENTS = 2000


@strawberry.type(description="one report clock: on time, late (迟报), missing (未报) or not yet due")
class AccidentClock:
    accident_id: strawberry.ID
    rule: str
    rule_name: str
    level: str = strawberry.field(description="unit | county | city | province | national")
    unit: str = strawberry.field(description="the unit's credit code or name, or a regulator's area code")
    grade: str
    due_at: datetime
    arrived_at: datetime | None
    status: str = strawberry.field(description="on_time | late | missing | pending")
    delay_seconds: int | None
    report_number: int | None
    rules_version: str
    rule_source: str = strawberry.field(description="national, or province:NN for a province's own practice")


@strawberry.type(description="a regrading: from which grade to which, on which report")
class Regrading:
    previous: str | None
    grade: str
    grade_name: str
    as_of: datetime
    recorded_at: datetime
    report_number: int
    basis: list[str]
    rules_version: str


@strawberry.type(description="a finding of 迟报 / 漏报 / 谎报 / 瞒报 with the definition applied and the evidence")
class AccidentFinding:
    id: str
    kind: str
    name: str
    definition: str
    source: str
    against: str = strawberry.field(description="the unit, or a regulator's level and area code")
    evidence: list[str] = strawberry.field(description="sha256:<hex> (type) name")
    text: str
    recorded_by: str
    recorded_at: datetime
    withdrawn: bool


def _clock(fl: Any) -> AccidentClock:
    return AccidentClock(
        accident_id=strawberry.ID(fl.accident_id), rule=fl.rule, rule_name=RULE_NAMES.get(fl.rule, fl.rule),
        level=fl.level, unit=fl.unit, grade=fl.grade, due_at=fl.due_at, arrived_at=fl.arrived_at, status=fl.status,
        delay_seconds=fl.delay_seconds, report_number=fl.report_number, rules_version=fl.rules_version,
        rule_source=fl.rule_source)


@strawberry.type(description="one 生产安全事故 as the register shows it")
class Accident:
    row: strawberry.Private[dict[str, Any]]

    def _state(self) -> dict[str, Any]:
        return accident_state.fold(json.loads(self.row["entries"]))

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row["accident_id"])

    @strawberry.field
    def county(self) -> str:
        return str(self.row["county"])

    @strawberry.field
    def township(self) -> str:
        return str(self.row["township"])

    @strawberry.field
    def sector(self) -> str:
        return str(self.row["sector"])

    @strawberry.field
    def occurred_date(self) -> date:
        return date.fromisoformat(self.row["occurred_date"])

    @strawberry.field(description="ordinary (一般) | larger (较大) | major (重大) | especially_major (特别重大)")
    def grade(self) -> str:
        return str(self.row["grade"])

    @strawberry.field
    def grade_name(self) -> str:
        return GRADE_NAMES[self.row["grade"]]

    @strawberry.field(description="open | rescue_concluded | investigating | closed | withdrawn")
    def status(self) -> str:
        return str(self.row["status"])

    @strawberry.field
    def unit_name(self) -> str:
        return str(self._state()["unit"]["name"])

    @strawberry.field
    def credit_code(self) -> str | None:
        return self._state()["unit"]["credit_code"]

    @strawberry.field
    def park(self) -> str | None:
        return self._state()["park"]

    @strawberry.field
    def deaths(self) -> int:
        return int(self.row["deaths"])

    @strawberry.field
    def missing(self) -> int:
        return int(self.row["missing"])

    @strawberry.field(description="重伤 including 急性工业中毒")
    def seriously_injured(self) -> int:
        return int(self.row["seriously_injured"])

    @strawberry.field
    def direct_loss_fen(self) -> int:
        return int(self.row["direct_loss_fen"])

    @strawberry.field
    def report_count(self) -> int:
        return len(self._state()["reports"])

    @strawberry.field(description="every grade it had, the first when recorded, then each regrading")
    def grades(self) -> list[Regrading]:
        return [Regrading(previous=g["previous"], grade=g["grade"], grade_name=GRADE_NAMES[g["grade"]],
                          as_of=datetime.fromisoformat(g["as_of"]), recorded_at=datetime.fromisoformat(g["recorded_at"]),
                          report_number=g["report_number"], basis=list(g["basis"]), rules_version=g["rules_version"])
                for g in self._state()["grades"]]

    @strawberry.field
    def findings(self) -> list[AccidentFinding]:
        out = []
        for f in self._state()["findings"]:
            party = f["against"]
            against = "unit" if party.get("party") == "unit" else f"{party.get('level')} {party.get('unit')}"
            out.append(AccidentFinding(
                id=f["id"], kind=f["kind"], name=f["definition"]["name"], definition=f["definition"]["definition"],
                source=f["definition"]["source"], against=against,
                evidence=[f"{e['ref']} ({e['type']}) {e['name']}" for e in f["evidence"]], text=f["text"],
                recorded_by=(f["actor"] or {}).get("username", ""), recorded_at=datetime.fromisoformat(f["recorded_at"]),
                withdrawn=f["withdrawn"] is not None))
        return out

    @strawberry.field(description="its report clocks, evaluated now")
    def clocks(self, info: Info, status: list[str] | None = None) -> list[AccidentClock]:
        runtime = context(info)["runtime"]
        flags = evaluate(self._state(), runtime.accident_rules, runtime.now())
        return [_clock(f) for f in flags if not status or f.status in status]


@strawberry.type
class AccidentEdge:
    cursor: str
    node: Accident


@strawberry.type
class AccidentConnection:
    edges: list[AccidentEdge]
    page_info: PageInfo


@strawberry.type
class AccidentClockReport:
    on_time: int
    late: int
    missing: int
    pending: int
    clocks: list[AccidentClock]


@strawberry.type
class AccidentsQuery:
    @strawberry.field(description="生产安全事故 of an area (by the date they happened), newest first")
    async def accidents(self, info: Info, area: str | None = None, period: PeriodInput | None = None,
                        grade: str | None = None, sector: str | None = None, first: int = 20,
                        after: str | None = None, min_position: int | None = None) -> AccidentConnection:
        await wait_for(info, min_position, ["accidents"])
        scope = scoped_area(actor_of(info), area)
        start, end = period_of(period) if period else (None, None)
        view = host_of(info).view("accidents")
        limit = page_size(first)
        key = tuple(after.split("|", 1)) if after and "|" in after else None
        rows = await anyio.to_thread.run_sync(lambda: view.find(
            scope, start.isoformat() if start else None, end.isoformat() if end else None, grade, sector,
            limit + 1, key))
        edges = [AccidentEdge(cursor=f"{r['occurred_date']}|{r['accident_id']}", node=Accident(row=r))
                 for r in rows[:limit]]
        return AccidentConnection(edges=edges, page_info=PageInfo(
            has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None))

    @strawberry.field(description="one accident")
    async def accident(self, info: Info, id: strawberry.ID, min_position: int | None = None) -> Accident | None:
        actor = actor_of(info)
        await wait_for(info, min_position, ["accidents"])
        view = host_of(info).view("accidents")
        row = await anyio.to_thread.run_sync(view.get, str(id))
        if row is None:
            return None
        if not actor.overlaps(row["county"]):
            raise graphql_error(NotPermitted("不在本账号的管辖范围内", "outside this account's scope"))
        return Accident(row=row)

    @strawberry.field(description="report clocks (迟报 / 未报) of the accidents of an area that happened in a period")
    async def accident_clocks(self, info: Info, area: str, period: PeriodInput, status: list[str] | None = None,
                              min_position: int | None = None) -> AccidentClockReport:
        await wait_for(info, min_position, ["accidents"])
        scope = scoped_area(actor_of(info), area)
        start, end = period_of(period)
        runtime = context(info)["runtime"]
        view = host_of(info).view("accidents")
        rows = await anyio.to_thread.run_sync(lambda: view.find(scope, start.isoformat(), end.isoformat(),
                                                                limit=MAX_CLOCK_ACCIDENTS))
        now = runtime.now()
        flags = [f for r in rows for f in evaluate(accident_state.fold(json.loads(r["entries"])),
                                                   runtime.accident_rules, now)]
        counts = {s: sum(1 for f in flags if f.status == s) for s in ("on_time", "late", "missing", "pending")}
        return AccidentClockReport(clocks=[_clock(f) for f in flags if not status or f.status in status], **counts)
