"""The 快报 indicator set and the figures reported against it.

Indicators are data (`data/indicators.csv`: key, name, unit, decimal scale,
parent "其中", 累计/实时 series, only-grows flag). Figures are per township
(统计单位 = 乡镇): `{indicator key: Decimal}`. Values are exact decimals —
people, houses and counts are whole numbers, hectares and 万元 have two
decimals — and never floats. In events they are kept as strings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from ledger.store.errors import FieldProblem

Figures = dict[str, Decimal]
"""One township's figures: indicator key → exact value."""


# Consistency rules that the CSV's "parent" column does not express by itself
# (自然灾害情况统计调查制度 definitions; reporting-rules.md §1.6).
AT_LEAST = [
    # (larger, smaller): 受灾 ⊇ 成灾 ⊇ 绝收
    ("crop_affected_ha", "crop_damaged_ha"),
    ("crop_damaged_ha", "crop_lost_ha"),
    ("grain_affected_ha", "grain_damaged_ha"),
    ("grain_damaged_ha", "grain_lost_ha"),
    # 户 <= 间, against every 间 figure a 住房户 count lies within: the 住房间数 and the 房屋间数
    ("collapsed_dwelling_rooms", "collapsed_dwelling_households"),
    ("collapsed_rooms", "collapsed_dwelling_households"),
    ("severely_damaged_dwelling_rooms", "severely_damaged_dwelling_households"),
    ("severely_damaged_rooms", "severely_damaged_dwelling_households"),
    ("slightly_damaged_dwelling_rooms", "slightly_damaged_dwelling_households"),
    ("slightly_damaged_rooms", "slightly_damaged_dwelling_households"),
    # 实时值 <= 累计值
    ("relocated_total", "relocated_current"),
    ("relocated_centralized_total", "relocated_centralized_current"),
    ("relocated_dispersed_total", "relocated_dispersed_current"),
    ("shelters_total", "shelters_current"),
    ("need_emergency_aid_total", "need_emergency_aid_current"),
    ("drought_need_aid_total", "drought_need_aid_current"),
    ("drought_drinking_water_total", "drought_drinking_water"),
]


# parent = sum of the parts, when the parent and every part are given
# (集中 + 分散 = 紧急转移安置).
SUM_EQUALS: list[tuple[str, tuple[str, ...]]] = [
    ("relocated_total", ("relocated_centralized_total", "relocated_dispersed_total")),
    ("relocated_current", ("relocated_centralized_current", "relocated_dispersed_current")),
]


# parent >= sum of the given parts.
SUM_AT_MOST: list[tuple[str, tuple[str, ...]]] = [
    ("livestock_dead", ("large_livestock_dead", "small_livestock_dead")),
    (
        "direct_loss_10k_yuan",
        (
            "loss_housing_property_10k_yuan",
            "loss_agriculture_10k_yuan",
            "loss_industry_commerce_10k_yuan",
            "loss_infrastructure_10k_yuan",
            "loss_public_services_10k_yuan",
            "loss_other_10k_yuan",
        ),
    ),
]


# Per township the count of flooded townships is 0 or 1.
AT_MOST_ONE = ["flooded_townships"]


@dataclass(frozen=True)
class Indicator:
    key: str
    name_zh: str
    unit: str
    scale: int
    parent: str | None
    series: str | None
    only_grows: bool
    group: str
    rule: str


@dataclass(frozen=True)
class Jump:
    """A change that needs a written explanation (激增激减须书面说明)."""

    township: str
    indicator: str
    previous: Decimal
    reported: Decimal
    kind: str  # "decrease" | "surge"

    def as_dict(self) -> dict[str, str]:
        return {
            "township": self.township,
            "indicator": self.indicator,
            "previous": str(self.previous),
            "reported": str(self.reported),
            "kind": self.kind,
        }


class IndicatorSet:
    """The indicators in force, with parsing and consistency checks."""

    def __init__(self, indicators: list[Indicator]) -> None:
        self.indicators = {i.key: i for i in indicators}
        self.keys = list(self.indicators)

    @classmethod
    def load(cls, path: Path | None = None) -> IndicatorSet:
        if path is None:
            text = (resources.files("ledger") / "data" / "indicators.csv").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        rows = csv.DictReader(io.StringIO(text))
        return cls(
            [
                Indicator(
                    key=row["key"],
                    name_zh=row["name_zh"],
                    unit=row["unit"],
                    scale=int(row["scale"]),
                    parent=row["parent"] or None,
                    series=row["series"] or None,
                    only_grows=row["only_grows"].strip().lower() == "yes",
                    group=row["group"],
                    rule=row["rule"],
                )
                for row in rows
            ]
        )

    # --- parsing -----------------------------------------------------------

    def parse(self, raw: Mapping[str, Any], where: str) -> tuple[Figures, list[FieldProblem]]:
        """Turn reported values into exact decimals; collect every problem."""
        figures: Figures = {}
        problems: list[FieldProblem] = []
        for key, value in raw.items():
            field = f"{where}.{key}"
            indicator = self.indicators.get(key)
            if indicator is None:
                problems.append(FieldProblem(field, "unknown_indicator", f"unknown indicator {key}"))
                continue
            amount = _to_decimal(value)
            if amount is None:
                problems.append(FieldProblem(field, "not_a_number", f"{key} must be a number, not {value!r}"))
                continue
            if amount < 0:
                problems.append(FieldProblem(field, "negative", f"{key} must not be negative"))
                continue
            decimals = _decimal_places(amount)
            if decimals > indicator.scale:
                unit = f"{indicator.scale} decimal places" if indicator.scale else "a whole number"
                problems.append(
                    FieldProblem(field, "bad_scale", f"{key} ({indicator.unit}) must be {unit}")
                )
                continue
            if amount >= Decimal("1e12"):
                problems.append(FieldProblem(field, "too_large", f"{key} is implausibly large"))
                continue
            figures[key] = (amount + 0).quantize(Decimal(1).scaleb(-indicator.scale))  # + 0 turns -0 into 0
        return figures, problems

    # --- consistency ---------------------------------------------------------

    def check(self, figures: Figures, where: str) -> list[FieldProblem]:
        """The definitions' consistency rules, on one township's figures."""
        problems: list[FieldProblem] = []

        def fail(key: str, code: str, message: str) -> None:
            problems.append(FieldProblem(f"{where}.{key}", code, message))

        for key, indicator in self.indicators.items():
            parent = indicator.parent
            if parent and key in figures and parent not in figures:
                # A 其中 item without its total would make the area's total read less than its part
                # (parents are never derived: the filer states them).
                fail(key, "parent_missing", f"{key} is a part (其中) of {parent}: give {parent} too")
            elif parent and key in figures and figures[key] > figures[parent]:
                fail(key, "exceeds_parent", f"{key} ({figures[key]}) > {parent} ({figures[parent]})")
        for larger, smaller in AT_LEAST:
            if larger in figures and smaller in figures and figures[smaller] > figures[larger]:
                fail(smaller, "exceeds", f"{smaller} ({figures[smaller]}) > {larger} ({figures[larger]})")
        for parent, parts in SUM_EQUALS:
            if parent in figures and all(p in figures for p in parts):
                total = sum((figures[p] for p in parts), Decimal(0))
                if total != figures[parent]:
                    fail(parent, "parts_do_not_add_up", f"{' + '.join(parts)} = {total} ≠ {parent} ({figures[parent]})")
        for parent, parts in SUM_AT_MOST:
            given = [p for p in parts if p in figures]
            if parent in figures and given:
                total = sum((figures[p] for p in given), Decimal(0))
                if total > figures[parent]:
                    fail(parent, "parts_exceed_total", f"{' + '.join(given)} = {total} > {parent} ({figures[parent]})")
        for key in AT_MOST_ONE:
            if key in figures and figures[key] > 1:
                fail(key, "at_most_one", f"{key} is 0 or 1 for one township")
        return problems

    def jumps(
        self, township: str, previous: Figures, reported: Figures, ratio: Decimal, min_delta: Decimal
    ) -> list[Jump]:
        """Changes that need a written explanation (激增激减须书面说明)."""
        found = []
        for key, new in reported.items():
            old = previous.get(key)
            if old is None:
                continue
            if new < old and self.indicators[key].only_grows:
                found.append(Jump(township, key, old, new, "decrease"))
            elif old > 0 and new > old * (1 + ratio) and new - old >= min_delta:
                found.append(Jump(township, key, old, new, "surge"))
        return found


def _decimal_places(amount: Decimal) -> int:
    """Significant decimal places, exactly (no rounding context involved)."""
    sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    places = -exponent
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(places - trailing, 0)


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # JSON numbers arrive as floats; go through their shortest repr, never binary.
        value = repr(value)
    if not isinstance(value, str) or "_" in value:
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount


def figures_to_json(figures: Mapping[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in figures.items()}


def figures_from_json(raw: Mapping[str, str]) -> Figures:
    return {k: Decimal(v) for k, v in raw.items()}


def add_figures(total: Figures, figures: Mapping[str, Decimal]) -> None:
    for key, value in figures.items():
        total[key] = total.get(key, Decimal(0)) + value
