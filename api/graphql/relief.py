"""GraphQL reads of relief: the roster (花名册), fund balances, 冬春 statistics, overdue work.

`ReliefQuery` is merged into the root query in `api.graphql.schema`
(`strawberry.tools.merge_types("Query", (Query, ReliefQuery))`, with
`config=StrawberryConfig(scalar_map=RELIEF_SCALARS)` for the `Fen` scalar);
it uses the same context (actor, runtime, host) and the same scope and
`minPosition` helpers. Personal data is always masked here: unmasked reads go through the
REST `GET /v1/relief/cases/{id}?reveal=true&purpose=…`, which records them.
Money is integer fen in the `Fen` scalar (a JSON integer; sums can pass the
32 bits of GraphQL's `Int`).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, NewType
from uuid import UUID

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import (
    PageInfo,
    actor_of,
    context,
    graphql_error,
    host_of,
    narrowed,
    page_size,
    scoped_area,
    wait_for,
)
from api.graphql.housing import HousingOverdueItem, housing_overdue_items
from api.graphql.relief_checks import SeasonDeadline, deadline
from ledger.households.household import names_visible
from ledger.relief.applications import check_period
from ledger.relief.programmes import Programme
from ledger.relief.service import CHINA
from ledger.store.errors import InvalidInput, Problems
from projections.relief.overdue import OVERDUE_KINDS
from projections.relief.season import current_season, season_flags
from projections.relief.statistics import FIGURES

MAX_OVERDUE_PER_KIND = 1000


Fen = NewType("Fen", int)


# The schema maps Fen to its scalar: strawberry.Schema(..., config=StrawberryConfig(scalar_map=RELIEF_SCALARS)).
RELIEF_SCALARS: dict[object, Any] = {
    Fen: strawberry.scalar(name="Fen", description="money in fen (分) as a JSON integer (may exceed 32 bits)",
                           serialize=int, parse_value=int),
}


@strawberry.type(description="one household of the roster (花名册, 应急统表10 columns); personal data masked")
class RosterRow:
    case_id: strawberry.ID
    programme: str
    period: str
    county: str
    township: str
    village: str
    village_name: str | None
    head_name: str = strawberry.field(description="户主姓名 D03001: in clear for officers within their scope "
                                                  "(it is on the 公示 list), masked for auditors and others")
    id_number: str = strawberry.field(description="户主身份证号 D03002, masked (320921********1234)")
    phone: str = strawberry.field(description="户主联系方式 D03003, masked")
    household_type: str = strawberry.field(description="家庭类型 D03004")
    household_size: int = strawberry.field(description="家庭人口 D03005 (人)")
    address: str = strawberry.field(description="家庭住址 D03006: like the name")
    people_in_need: int = strawberry.field(description="需救助人口 D03007 (人)")
    paid_fen: Fen = strawberry.field(description="已发放救助款 D03008: paid minus returned / reversed (fen)")
    goods_fen: Fen = strawberry.field(description="已发放救助物资折款 D03009 (fen)")
    payment_form: str = strawberry.field(description="救助资金发放形式 D03010")
    card_number: str = strawberry.field(description="一卡通 account, masked")
    masked: bool
    stage: str = strawberry.field(description="applied | assessed | posted | township_reviewed | approved | paid | "
                                              "rejected | withdrawn")
    approved_fen: Fen
    returned_fen: Fen = strawberry.field(description="payments that came back (退回 / 冲正), fen")
    payment_count: int
    returned_count: int
    review_flags: list[str]
    posting_start: date | None
    posting_end: date | None
    open_objections: int
    applied_on: date
    updated_at: datetime


@strawberry.type
class RosterEdge:
    cursor: str
    node: RosterRow


@strawberry.type
class RosterConnection:
    edges: list[RosterEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="救灾资金: one county's fund for a programme and period (fen)")
class ReliefFundBalance:
    fund_id: strawberry.ID
    county: str
    county_name: str | None
    programme: str
    period: str
    allocated_central_fen: Fen
    allocated_provincial_fen: Fen
    allocated_city_fen: Fen
    allocated_county_fen: Fen
    allocated_fen: Fen
    given_back_fen: Fen
    paid_fen: Fen
    returned_fen: Fen
    balance_fen: Fen
    documents: list[str]
    version: int
    updated_at: datetime


@strawberry.type(description="需救助: passed 乡审, not rejected or withdrawn; 已救助: money standing or goods issued")
class WinterSpringFigures:
    need_households: int
    need_people: int
    aided_households: int
    aided_people: int
    paid_fen: Fen
    goods_fen: Fen


@strawberry.type
class WinterSpringArea:
    code: str
    name: str | None
    figures: WinterSpringFigures


@strawberry.type(description="受灾人员冬春生活需救助 / 已救助情况 for an area and period")
class WinterSpringStatistics:
    area: str
    area_name: str | None
    period: str
    spring_festival: date | None
    totals: WinterSpringFigures
    breakdown: list[WinterSpringArea]
    narrowed_from: str | None = strawberry.field(
        default=None, description="the area asked for, when the figures are only the account's narrower scope")


@strawberry.type(description="one case whose next step is overdue")
class OverdueItem:
    kind: str = strawberry.field(description="posting_ended_not_reviewed | approved_unpaid | "
                                             "payment_returned_not_reissued | unpaid_before_spring_festival")
    case_id: strawberry.ID
    programme: str
    period: str
    county: str
    township: str
    village: str
    village_name: str | None
    head_name: str
    stage: str
    approved_fen: Fen
    paid_fen: Fen
    returned_fen: Fen
    posting_end: date | None
    open_objections: int
    since: date | None = strawberry.field(description="the day the work became due")
    due: date | None = strawberry.field(description="春节 of the period (unpaid_before_spring_festival)")
    days_overdue: int | None


@strawberry.type
class OverdueCount:
    kind: str
    count: int


@strawberry.type
class OverdueWork:
    today: date
    counts: list[OverdueCount]
    items: list[OverdueItem]
    season_deadlines: list[SeasonDeadline] = strawberry.field(
        description="the current 冬春 season's clocks that are late (迟报) or missing (未报)")
    housing: list[HousingOverdueItem] = strawberry.field(
        description="housing files past the agreed dates, the progress rhythm or the last tranche")


def _check_programme_period(programme: str | None, period: str | None) -> None:
    problems = Problems()
    if programme is not None and programme not in Programme.__members__.values():
        problems.add("programme", "bad_programme", ", ".join(p.value for p in Programme))
    if period is not None:
        check_period(period, problems)
    try:
        problems.raise_if_any("查询参数有误", "invalid query arguments")
    except InvalidInput as exc:
        raise graphql_error(exc) from None


def _name(info: Info, code: str) -> str | None:
    area = context(info)["runtime"].areas.get(code)
    return area.name if area else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _names(info: Info, area: str) -> Any:
    """Decrypts names and addresses for officers within their scope; None (masked) for everyone else."""
    actor = actor_of(info)
    return context(info)["runtime"].pii.decrypt if names_visible(actor, area) else None


def _shown(r: dict[str, Any], column: str, names: Any) -> str:
    cipher = r.get(f"{column}_cipher")
    return names(cipher) if names is not None and cipher else str(r[column])


def _roster_row(info: Info, r: dict[str, Any], names: Any = None) -> RosterRow:
    return RosterRow(
        case_id=strawberry.ID(r["case_id"]), programme=r["programme"], period=r["period"], county=r["county"],
        township=r["township"], village=r["village"], village_name=_name(info, r["village"]),
        head_name=_shown(r, "head_name", names), id_number=r["id_masked"], phone=r["phone_masked"],
        household_type=r["household_type"], household_size=int(r["household_size"]),
        address=_shown(r, "address", names),
        people_in_need=int(r["people_in_need"]), paid_fen=Fen(int(r["paid_fen"])), goods_fen=Fen(int(r["goods_fen"])),
        payment_form=r["payment_form"], card_number=r["card_masked"], masked=True, stage=r["stage"],
        approved_fen=Fen(int(r["approved_fen"])), returned_fen=Fen(int(r["returned_fen"])),
        payment_count=int(r["payment_count"]), returned_count=int(r["returned_count"]),
        review_flags=json.loads(r["review_flags"]), posting_start=_day(r["posting_start"]),
        posting_end=_day(r["posting_end"]), open_objections=int(r["open_objections"]),
        applied_on=date.fromisoformat(r["applied_on"]), updated_at=datetime.fromisoformat(r["updated_at"]),
    )


def _fund(info: Info, r: dict[str, Any]) -> ReliefFundBalance:
    return ReliefFundBalance(
        fund_id=strawberry.ID(r["fund_id"]), county=r["county"], county_name=_name(info, r["county"]),
        programme=r["programme"], period=r["period"], allocated_central_fen=r["allocated_central"],
        allocated_provincial_fen=r["allocated_provincial"], allocated_city_fen=r["allocated_city"],
        allocated_county_fen=r["allocated_county"], allocated_fen=r["allocated_total"],
        given_back_fen=r["given_back"], paid_fen=r["paid"], returned_fen=r["returned"], balance_fen=r["balance"],
        documents=r["documents"], version=int(r["version"]), updated_at=datetime.fromisoformat(r["updated_at"]),
    )


def _figures(values: dict[str, int]) -> WinterSpringFigures:
    v = {k: int(values.get(k, 0)) for k in FIGURES}
    return WinterSpringFigures(
        need_households=v["need_households"], need_people=v["need_people"], aided_households=v["aided_households"],
        aided_people=v["aided_people"], paid_fen=Fen(v["paid_fen"]), goods_fen=Fen(v["goods_fen"]),
    )


def _overdue_item(info: Info, r: dict[str, Any], names: Any = None) -> OverdueItem:
    return OverdueItem(
        kind=r["kind"], case_id=strawberry.ID(r["case_id"]), programme=r["programme"], period=r["period"],
        county=r["county"], township=r["township"], village=r["village"], village_name=_name(info, r["village"]),
        head_name=_shown(r, "head_name", names), stage=r["stage"], approved_fen=r["approved_fen"],
        paid_fen=r["paid_fen"],
        returned_fen=r["returned_fen"], posting_end=_day(r["posting_end"]), open_objections=r["open_objections"],
        since=r["since"], due=r["due"], days_overdue=r["days_overdue"],
    )


@strawberry.type
class ReliefQuery:
    @strawberry.field(description="花名册: the households of a programme and period in an area, by case id "
                                  "(cursor pagination); personal data masked")
    async def roster(
        self, info: Info, programme: str, period: str, area: str | None = None, first: int = 20,
        after: str | None = None, min_position: int | None = None,
    ) -> RosterConnection:
        actor = actor_of(info)
        _check_programme_period(programme, period)
        if after:
            try:
                after = str(UUID(after))
            except ValueError:
                raise graphql_error(InvalidInput("游标无效", "invalid cursor")) from None
        await wait_for(info, min_position, ["roster"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("roster")
        limit = page_size(first)
        rows, total = await anyio.to_thread.run_sync(
            lambda: (view.rows(programme, period, scope, after, limit + 1), view.count(programme, period, scope))
        )
        names = _names(info, scope)
        edges = [RosterEdge(cursor=r["case_id"], node=_roster_row(info, r, names)) for r in rows[:limit]]
        return RosterConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
            total_count=total,
        )

    @strawberry.field(description="救灾资金 balances by source for the counties in an area")
    async def funds(
        self, info: Info, area: str | None = None, programme: str | None = None, period: str | None = None,
        min_position: int | None = None,
    ) -> list[ReliefFundBalance]:
        actor = actor_of(info)
        _check_programme_period(programme, period)
        await wait_for(info, min_position, ["funds"])
        scope = scoped_area(actor, area)
        view = host_of(info).view("funds")
        rows = await anyio.to_thread.run_sync(lambda: view.funds(scope, programme, period))
        return [_fund(info, r) for r in rows]

    @strawberry.field(description="冬春 需救助 / 已救助 for an area and period, with a breakdown by the next level")
    async def winter_spring_statistics(
        self, info: Info, period: str, area: str | None = None, min_position: int | None = None,
    ) -> WinterSpringStatistics:
        actor = actor_of(info)
        _check_programme_period(None, period)
        await wait_for(info, min_position, ["roster"])
        scope = scoped_area(actor, area, narrow=True)
        view = host_of(info).view("roster")
        result = await anyio.to_thread.run_sync(lambda: view.winter_spring_statistics(scope, period))
        festival = context(info)["runtime"].relief_rules.spring_festival.get(period)
        return WinterSpringStatistics(
            narrowed_from=narrowed(area, scope),
            area=scope, area_name=_name(info, scope), period=period, spring_festival=festival,
            totals=_figures(result.totals),
            breakdown=[WinterSpringArea(code=c, name=_name(info, c), figures=_figures(f))
                       for c, f in result.breakdown.items()],
        )

    @strawberry.field(description="relief work past its time in an area (today in Asia/Shanghai)")
    async def overdue_work(
        self, info: Info, area: str | None = None, kinds: list[str] | None = None, first: int = 100,
        min_position: int | None = None,
    ) -> OverdueWork:
        actor = actor_of(info)
        unknown = [k for k in kinds or [] if k not in OVERDUE_KINDS]
        if unknown:
            raise graphql_error(InvalidInput(f"未知的类型 {', '.join(unknown)}", f"unknown kinds {', '.join(unknown)}; "
                                      f"known: {', '.join(OVERDUE_KINDS)}"))
        await wait_for(info, min_position, ["roster"])
        scope = scoped_area(actor, area)
        runtime = context(info)["runtime"]
        today = runtime.now().astimezone(CHINA).date()
        rules = runtime.relief_rules
        view = host_of(info).view("roster")
        limit = page_size(first, MAX_OVERDUE_PER_KIND)
        items, counts, clocks = await anyio.to_thread.run_sync(
            lambda: (view.overdue(scope, today, rules, kinds, limit), view.overdue_counts(scope, today, rules),
                     season_flags(view, rules, current_season(today), scope, today,
                                  runtime.season_filings.filed_at(current_season(today))))
        )
        return OverdueWork(
            today=today,
            counts=[OverdueCount(kind=k, count=counts.get(k, 0)) for k in OVERDUE_KINDS if not kinds or k in kinds],
            items=[_overdue_item(info, r, _names(info, scope)) for r in items],
            season_deadlines=[deadline(f) for f in clocks if f.status in ("late", "missing")],
            housing=await anyio.to_thread.run_sync(
                lambda: housing_overdue_items(info, host_of(info).view("housing"), scope, today)),
        )
