"""GraphQL: the plans' safety targets of the jurisdictions in an area — on track or off track, with the figures.

Figures per year: what users loaded as reference figures (denominators; baselines; published
figures), which take precedence for the years and measures they give; otherwise, for the years of
the plan's current period up to this year, the ledger's own records — the accident register
(withdrawn accidents excluded; deaths with the missing when the accident rules say so; 工矿商贸 and
道路运输 by sector) and the disaster statistics (因灾死亡, 受灾人口 as 人次, 直接经济损失). Years before
the current period count only from loaded figures: no record is not zero.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import actor_of, context, host_of, scoped_area, wait_for
from ledger.accidents.rules import GRADES
from ledger.targets.tracking import TargetResult, track
from projections.disasters.statistics import StatisticsQuery

CHINA = ZoneInfo("Asia/Shanghai")


@strawberry.type(description="one year's figures of a target's indicator")
class TargetYear:
    year: int
    numerator: str | None
    denominator: str | None
    value: str | None
    sources: list[str] = strawberry.field(description="measure:reference (loaded) or measure:ledger (recorded)")


@strawberry.type(description="one target of one plan for one jurisdiction: on track, off track or unknown")
class TargetStatus:
    plan_id: str
    plan_name: str
    jurisdiction: str
    indicator: str
    indicator_name: str
    comparison: str = strawberry.field(description="cumulative_vs_previous | year_on_year | ceiling")
    target: str = strawberry.field(description="the plan's wording: 下降15%, ≤1, <1500 …")
    binding: str
    comparison_stated: bool = strawberry.field(description="false: the plan does not say; the configured reading")
    year: int
    status: str = strawberry.field(description="on_track | off_track | unknown")
    value: str | None
    limit: str | None = strawberry.field(description="the most the value may be to be on track")
    baseline: str | None
    years: list[TargetYear]
    missing: list[str] = strawberry.field(description="figures that would be needed (year measure)")
    note: str
    targets_version: str
    reference_versions: list[str] = strawberry.field(description="the loads of reference figures used")


def _text(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


class LedgerFigures:
    """Yearly figures of one jurisdiction from the accident register and the disaster statistics."""

    def __init__(self, runtime: Any, host: Any, jurisdiction: str, first: int, last: int) -> None:
        rules = runtime.accident_rules
        self.by_year: dict[int, dict[str, Decimal]] = {y: {} for y in range(first, last + 1)}
        industrial = {s.code for s in rules.sectors.values() if s.industrial}
        road = {s.code for s in rules.sectors.values() if s.road}
        for y in self.by_year:
            base = dict.fromkeys(("accidents", "accident_deaths", "industrial_accident_deaths", "road_accident_deaths",
                                  "larger_accidents", "larger_and_above_accidents", "major_and_above_accidents"),
                                 Decimal(0))
            self.by_year[y].update(base)
        for row in host.view("accidents").yearly(jurisdiction, first, last):
            figures = self.by_year[int(row["year"])]
            dead = Decimal(int(row["deaths"] or 0) + (int(row["missing"] or 0) if rules.missing_counts_as_dead else 0))
            count = Decimal(int(row["accidents"]))
            figures["accidents"] += count
            figures["accident_deaths"] += dead
            if row["sector"] in industrial:
                figures["industrial_accident_deaths"] += dead
            if row["sector"] in road:
                figures["road_accident_deaths"] += dead
            rank = GRADES.index(row["grade"])
            if rank == 1:
                figures["larger_accidents"] += count
            if rank >= 1:
                figures["larger_and_above_accidents"] += count
            if rank >= 2:
                figures["major_and_above_accidents"] += count
        statistics = host.view("statistics")
        for y in self.by_year:
            totals = statistics.statistics(StatisticsQuery(jurisdiction, f"{y}-01-01", f"{y}-12-31")).totals
            self.by_year[y].update(disaster_deaths=totals.get("deaths", Decimal(0)),
                                   disaster_affected=totals.get("affected_population", Decimal(0)),
                                   disaster_loss_10k_yuan=totals.get("direct_loss_10k_yuan", Decimal(0)))


def _status(r: TargetResult, version: str, loads: list[str]) -> TargetStatus:
    return TargetStatus(
        plan_id=r.plan.id, plan_name=r.plan.name, jurisdiction=r.jurisdiction, indicator=r.target.indicator.key,
        indicator_name=r.target.indicator.name, comparison=r.target.comparison, target=r.target.text,
        binding=r.target.binding, comparison_stated=r.target.stated, year=r.year, status=r.status,
        value=_text(r.value), limit=_text(r.limit), baseline=_text(r.baseline),
        years=[TargetYear(year=y.year, numerator=_text(y.numerator), denominator=_text(y.denominator),
                          value=_text(y.value), sources=y.sources) for y in r.years],
        missing=r.missing, note=r.note, targets_version=version, reference_versions=loads)


def tracking(runtime: Any, host: Any, area: str, year: int) -> list[TargetStatus]:
    out = []
    for plan, jurisdiction in runtime.target_plans.for_area(area):
        reference = runtime.targets.reference(jurisdiction)
        ledger_years = LedgerFigures(runtime, host, jurisdiction, plan.period[0], min(year, plan.period[1]))
        loads = [f"{x['version']}: {x['label']} ({x['file_name']}, sha256 {x['sha256'][:12]}…)"
                 for x in (reference.loads if reference else [])]

        def lookup(y: int, measure: str, ref: Any = reference, led: LedgerFigures = ledger_years
                   ) -> tuple[Decimal, str] | None:
            value = ref.value(y, measure) if ref is not None else None
            if value is not None:
                return value, "reference"
            found = led.by_year.get(y, {}).get(measure)
            return (found, "ledger") if found is not None else None

        for target in plan.targets:
            out.append(_status(track(plan, jurisdiction, target, year, lookup), runtime.target_plans.version, loads))
    return out


@strawberry.type
class TargetsQuery:
    @strawberry.field(description="the plans' safety targets of the jurisdictions in an area, as of a year "
                                  "(default: this year): on track / off track with the figures")
    async def target_tracking(self, info: Info, area: str | None = None, year: int | None = None,
                              min_position: int | None = None) -> list[TargetStatus]:
        await wait_for(info, min_position, ["accidents", "statistics"])
        scope = scoped_area(actor_of(info), area)
        runtime = context(info)["runtime"]
        host = host_of(info)
        as_of = year or runtime.now().astimezone(CHINA).year
        return await anyio.to_thread.run_sync(lambda: tracking(runtime, host, scope, as_of))
