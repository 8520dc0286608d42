"""On track / off track: one plan's target for one jurisdiction, as of a year, from yearly figures.

`Lookup(year, measure)` gives a figure and where it came from ("reference" — loaded by users, which
takes precedence for the years it covers — or "ledger", the ledger's own records), or None.

- cumulative_vs_previous: the previous period's total (or Σ numerator / Σ denominator for a rate)
  is the baseline; a rate is on track when the current period so far is at most baseline × (1 +
  change); a count when its sum so far is at most the allowed five-year total × the share of the
  period elapsed (the pace), and it is off track for good once the sum exceeds the whole total;
- year_on_year (同比): the year against the year before, at most × (1 + change);
- ceiling: the cumulative sum, the average rate (Σ numerator / Σ denominator) or the year's own
  value, at most (or, strict, below) the ceiling.
Missing figures give "unknown", naming each one missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.targets.plans import Plan, Target

Lookup = Callable[[int, str], tuple[Decimal, str] | None]


@dataclass
class YearFigures:
    year: int
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    sources: list[str] = field(default_factory=list)


@dataclass
class TargetResult:
    plan: Plan
    jurisdiction: str
    target: Target
    year: int
    status: str  # on_track | off_track | unknown
    value: Decimal | None = None
    limit: Decimal | None = None
    baseline: Decimal | None = None
    years: list[YearFigures] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    note: str = ""


Q = Decimal("0.0001")


def _q(value: Decimal | None) -> Decimal | None:
    return value.quantize(Q) if value is not None else None


class _Series:
    def __init__(self, target: Target, lookup: Lookup) -> None:
        self.indicator = target.indicator
        self.lookup = lookup
        self.missing: list[str] = []

    def year(self, year: int) -> YearFigures:
        num = self._get(year, self.indicator.numerator)
        den = self._get(year, self.indicator.denominator) if self.indicator.denominator else None
        value = num[0] if num else None
        if self.indicator.denominator:
            value = num[0] / (den[0] / self.indicator.per) if num and den and den[0] > 0 else None
        sources = [f"{m}:{s}" for m, got in ((self.indicator.numerator, num),
                                              (self.indicator.denominator, den)) if m and got for s in (got[1],)]
        return YearFigures(year, num[0] if num else None, den[0] if den else None, _q(value), sources)

    def _get(self, year: int, measure: str | None) -> tuple[Decimal, str] | None:
        if measure is None:
            return None
        found = self.lookup(year, measure)
        if found is None:
            self.missing.append(f"{year} {measure}")
        return found

    def total(self, years: list[YearFigures]) -> Decimal | None:
        """Σ numerator, or Σ numerator / Σ denominator for a rate (None when any figure is missing)."""
        if any(y.numerator is None for y in years):
            return None
        num = sum((y.numerator for y in years if y.numerator is not None), Decimal(0))
        if not self.indicator.is_rate:
            return num
        if any(y.denominator is None for y in years):
            return None
        den = sum((y.denominator for y in years if y.denominator is not None), Decimal(0))
        return num / (den / self.indicator.per) if den > 0 else None


def track(plan: Plan, jurisdiction: str, target: Target, year: int, lookup: Lookup) -> TargetResult:
    """The target's status as of `year` (inside the plan's period)."""
    series = _Series(target, lookup)
    first, last = plan.period
    year = max(first, min(year, last))
    current = [series.year(y) for y in range(first, year + 1)]
    result = TargetResult(plan, jurisdiction, target, year, "unknown", years=current)
    if target.comparison == "ceiling":
        assert target.ceiling is not None
        if target.over == "year":
            value = current[-1].value
        else:
            value = series.total(current)
            if target.over == "average" and value is not None and not target.indicator.is_rate:
                value = value / len(current)
        result.value, result.limit = _q(value), target.ceiling
        if value is not None:
            ok = value < target.ceiling if target.strict else value <= target.ceiling
            result.status = "on_track" if ok else "off_track"
    elif target.comparison == "year_on_year":
        assert target.change is not None
        before = series.year(year - 1)
        result.years = [before, *current[-1:]]
        result.value, result.baseline = current[-1].value, before.value
        if current[-1].value is not None and before.value is not None:
            result.limit = _q(before.value * (1 + target.change))
            result.status = "on_track" if current[-1].value <= before.value * (1 + target.change) else "off_track"
    else:
        _cumulative(plan, target, series, current, result)
    result.missing = series.missing
    return result


def _cumulative(plan: Plan, target: Target, series: _Series, current: list[YearFigures],
                result: TargetResult) -> None:
    assert target.change is not None
    previous = [series.year(y) for y in range(plan.previous_period[0], plan.previous_period[1] + 1)]
    baseline, value = series.total(previous), series.total(current)
    result.baseline, result.value = _q(baseline), _q(value)
    if baseline is None or value is None:
        return
    allowed = baseline * (1 + target.change)
    if target.indicator.is_rate:
        result.limit = _q(allowed)
        result.status = "on_track" if value <= allowed else "off_track"
        return
    span = plan.period[1] - plan.period[0] + 1
    pace = allowed * len(current) / span
    result.limit = _q(pace)
    result.status = "on_track" if value <= pace else "off_track"
    if value > allowed:
        result.note = f"已超过五年允许总数 {_q(allowed)} / above the five-year total allowed"
    else:
        result.note = f"五年允许总数 {_q(allowed)}，按进度 {len(current)}/{span} / five-year total allowed, pro rata"
