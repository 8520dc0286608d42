"""GraphQL reads of the checks relief must pass: people, cards and phones in two households, the 冬春
season's clocks, relief timeliness from the disaster, 不得平均分配.

Merged into the root query in `api.graphql.schema`; same context, scope and `minPosition` waits as
`api.graphql.relief`. Cases are named by id and village only (no personal data).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import actor_of, context, graphql_error, host_of, scoped_area, wait_for
from ledger.relief.applications import check_period
from ledger.relief.service import CHINA
from ledger.store.errors import DomainError, InvalidInput, NotFound, Problems
from projections.relief.season import current_season, season_flags
from projections.relief.timeliness import timeliness_of


@strawberry.type(description="two open cases of one programme and period that share a person, a card or a phone")
class HouseholdMatch:
    kind: str = strawberry.field(description="member_in_two_cases | shared_card | shared_phone")
    kind_name: str
    programme: str
    period: str
    case_a: strawberry.ID
    case_b: strawberry.ID
    role_a: str = strawberry.field(description="head | member (for a person)")
    role_b: str
    village_a: str
    village_b: str


@strawberry.type(description="one clock of the 冬春 season: the survey or an upward filing")
class SeasonDeadline:
    rule: str
    rule_name: str
    level: str
    area: str
    period: str
    due_on: date
    arrived_at: datetime | None
    status: str = strawberry.field(description="on_time | late (迟报) | missing (未报) | pending")
    days_late: int | None


@strawberry.type
class HouseholdRelief:
    case_id: strawberry.ID
    village: str
    first_relief_at: datetime | None
    hours: float | None
    within_target: bool
    breach: str | None = strawberry.field(description="late | not_yet_relieved")


@strawberry.type(description="灾害发生后得到有效救助时间: per process, households relieved within the target")
class ReliefTimeliness:
    disaster_id: strawberry.ID
    occurred_at: datetime
    target_hours: int
    households: int
    relieved: int
    within_target: int
    share_within_target: float | None
    breaches: list[HouseholdRelief]
    items: list[HouseholdRelief]


@strawberry.type(description="不得平均分配: a village where every approved household got the same amount")
class EqualAmountFlag:
    village: str
    programme: str
    period: str
    households: int
    amount_fen: int


@strawberry.type(description="受灾人员冬春生活需救助情况 as an area filed it upward (the last correction's figures)")
class NeedsFiling:
    period: str
    level: str
    area: str
    households: int
    people: int
    by_need: strawberry.scalars.JSON
    roster_households: int | None = strawberry.field(description="the roster's 需救助户数 at the (last) filing")
    roster_people: int | None
    filed_at: datetime
    filed_by: str
    corrections: int


def deadline(flag: Any) -> SeasonDeadline:
    return SeasonDeadline(rule=flag.rule, rule_name=flag.rule_name, level=flag.level, area=flag.area,
                          period=flag.period, due_on=flag.due_on, arrived_at=flag.arrived_at, status=flag.status,
                          days_late=flag.days_late)


def _period(period: str) -> None:
    problems = Problems()
    check_period(period, problems)
    try:
        problems.raise_if_any("查询参数有误", "invalid query arguments")
    except InvalidInput as exc:
        raise graphql_error(exc) from None


def _relief(i: Any) -> HouseholdRelief:
    return HouseholdRelief(case_id=strawberry.ID(i.case_id), village=i.village, first_relief_at=i.first_relief_at,
                           hours=i.hours, within_target=i.within_target, breach=i.breach)


@strawberry.type
class ReliefChecksQuery:
    @strawberry.field(description="open cases sharing a family member, a 一卡通 account or a phone (C38, C51)")
    async def household_matches(self, info: Info, area: str | None = None, programme: str | None = None,
                                period: str | None = None, min_position: int | None = None) -> list[HouseholdMatch]:
        actor = actor_of(info)
        await wait_for(info, min_position, ["roster"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("roster")
        rows = await anyio.to_thread.run_sync(lambda: view.matches(scope, programme, period))
        return [HouseholdMatch(kind=r["kind"], kind_name=r["kind_name"], programme=r["programme"],
                               period=r["period"], case_a=strawberry.ID(r["case_a"]), case_b=strawberry.ID(r["case_b"]),
                               role_a=r["role_a"], role_b=r["role_b"], village_a=r["village_a"],
                               village_b=r["village_b"]) for r in rows]

    @strawberry.field(description="the 冬春 season's clocks (survey, upward filings) with 迟报 / 未报 flags")
    async def winter_spring_deadlines(self, info: Info, period: str | None = None, area: str | None = None,
                                      min_position: int | None = None) -> list[SeasonDeadline]:
        actor = actor_of(info)
        runtime = context(info)["runtime"]
        today = runtime.now().astimezone(CHINA).date()
        period = period or current_season(today)
        _period(period)
        await wait_for(info, min_position, ["roster"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("roster")
        filings = runtime.season_filings.filed_at(period)
        flags = await anyio.to_thread.run_sync(
            lambda: season_flags(view, runtime.relief_rules, period, scope, today, filings))
        return [deadline(f) for f in flags]

    @strawberry.field(description="an area's filed 冬春 需救助 figures (county 6, city 4, province 2 digits), or null")
    async def winter_spring_needs_filing(self, info: Info, area: str, period: str | None = None
                                         ) -> NeedsFiling | None:
        actor = actor_of(info)
        runtime = context(info)["runtime"]
        period = period or current_season(runtime.now().astimezone(CHINA).date())
        _period(period)
        try:
            found = await anyio.to_thread.run_sync(lambda: runtime.season_filings.get(actor, period, area))
        except NotFound:
            return None
        except DomainError as exc:
            raise graphql_error(exc) from None
        return NeedsFiling(period=period, level=found.level, area=area, households=found.figures["households"],
                           people=found.figures["people"], by_need=found.figures["by_need"],
                           roster_households=found.roster.get("households"), roster_people=found.roster.get("people"),
                           filed_at=found.filed_at, filed_by=found.filed_by["username"], corrections=found.corrections)

    @strawberry.field(description="time from each disaster to the first effective relief of each household")
    async def relief_timeliness(self, info: Info, area: str | None = None, disaster_id: strawberry.ID | None = None,
                                min_position: int | None = None) -> list[ReliefTimeliness]:
        actor = actor_of(info)
        runtime = context(info)["runtime"]
        await wait_for(info, min_position, ["roster", "board"])
        scope = scoped_area(actor, area)
        host = host_of(info)
        roster, board = host.view("roster"), host.view("board")
        figures = await anyio.to_thread.run_sync(
            lambda: timeliness_of(roster, board, scope, str(disaster_id) if disaster_id else None,
                                  runtime.relief_rules.timeliness_target_hours, runtime.now()))
        return [ReliefTimeliness(
            disaster_id=strawberry.ID(t.disaster_id), occurred_at=t.occurred_at, target_hours=t.target_hours,
            households=t.households, relieved=t.relieved, within_target=t.within_target,
            share_within_target=t.share_within_target, breaches=[_relief(i) for i in t.breaches],
            items=[_relief(i) for i in t.items]) for t in figures]

    @strawberry.field(description="不得平均分配: villages where every approved household got the same amount")
    async def equal_amounts(self, info: Info, area: str | None = None, programme: str | None = None,
                            period: str | None = None, min_position: int | None = None) -> list[EqualAmountFlag]:
        actor = actor_of(info)
        runtime = context(info)["runtime"]
        await wait_for(info, min_position, ["roster"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("roster")
        least = runtime.relief_rules.equal_amount_min_households
        rows = await anyio.to_thread.run_sync(lambda: view.equal_amounts(scope, least, programme, period))
        return [EqualAmountFlag(village=r["village"], programme=r["programme"], period=r["period"],
                                households=r["households"], amount_fen=r["amount_fen"]) for r in rows]
