"""Reconciliation: housing files against the 住房 figures the county reported for the process.

Per township and damage class, the live files (not rejected or withdrawn) are
counted in 户 and summed in 间, and compared with the figures that count for the
process (倒塌 / 严重损坏 / 一般损坏 住房户数 and 住房间数). More files than reported
is a possible 漏报 (the report undercounted); fewer is to be explained (the
report may overcount — 虚报 — or households have not filed yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

FIGURES = {
    "collapsed": ("collapsed_dwelling_households", "collapsed_dwelling_rooms"),
    "severe": ("severely_damaged_dwelling_households", "severely_damaged_dwelling_rooms"),
    "general": ("slightly_damaged_dwelling_households", "slightly_damaged_dwelling_rooms"),
}


STATUS_NAMES = {"possible_underreport": "可能漏报", "to_explain": "待说明"}


@dataclass(frozen=True)
class Difference:
    township: str
    damage: str
    unit: str  # 户 | 间
    indicator: str
    cases: int
    reported: int
    difference: int  # cases − reported
    status: str  # possible_underreport | to_explain

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("township", "damage", "unit", "indicator", "cases", "reported",
                                              "difference", "status")} | {"status_name": STATUS_NAMES[self.status]}


def reconcile(cases: dict[tuple[str, str], tuple[int, int]], figures: dict[str, dict[str, Decimal]]
              ) -> list[Difference]:
    """Every (township, damage class, unit) where the files and the reported figures differ."""
    townships = sorted({t for t, _ in cases} | set(figures))
    out = []
    for township in townships:
        reported = figures.get(township, {})
        for damage, (households_key, rooms_key) in FIGURES.items():
            households, rooms = cases.get((township, damage), (0, 0))
            for unit, indicator, count in (("户", households_key, households), ("间", rooms_key, rooms)):
                figure = int(reported.get(indicator, Decimal(0)))
                if count != figure:
                    out.append(Difference(township, damage, unit, indicator, count, figure, count - figure,
                                          "possible_underreport" if count > figure else "to_explain"))
    return out
