"""Reference figures per jurisdiction and year (参考数据): the denominators and the baselines of the targets.

Users load them from a spreadsheet; each load of a jurisdiction is an event on its
`ReferenceFigures` aggregate (id derived from the jurisdiction), carrying the label, file name
and SHA-256 of the file, and the figures it gives — a later load adds to and overrides the
earlier one year by year and measure by measure, and both stay in the history (the version
a tracking answer used is shown with it). Values are exact decimals kept as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

MEASURES = {
    "gdp_100m_yuan": "地区生产总值（亿元）",
    "population": "常住人口（人）",
    "industrial_employees": "工矿商贸就业人员（人）",
    "commercial_vehicles": "营运车辆（辆）",
    "accidents": "生产安全事故起数",
    "accident_deaths": "生产安全事故死亡人数",
    "industrial_accident_deaths": "工矿商贸生产安全事故死亡人数",
    "road_accident_deaths": "营运车辆（道路运输）事故死亡人数",
    "larger_accidents": "较大生产安全事故起数",
    "larger_and_above_accidents": "较大及以上生产安全事故起数",
    "major_and_above_accidents": "重特大生产安全事故起数",
    "disaster_deaths": "因自然灾害死亡人数",
    "disaster_affected": "受灾人次",
    "disaster_loss_10k_yuan": "自然灾害直接经济损失（万元）",
}
"""What a spreadsheet may give per jurisdiction and year (key → Chinese column heading)."""


DENOMINATORS = ("gdp_100m_yuan", "population", "industrial_employees", "commercial_vehicles")


def reference_id(jurisdiction: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/reference-figures/{jurisdiction}")


class ReferenceFigures(Aggregate):
    """参考数据 of one jurisdiction: figures by year and measure, loaded in versions."""

    @classmethod
    def create_id(cls, jurisdiction: str, **_: Any) -> UUID:
        return reference_id(jurisdiction)

    @event("Opened")
    def __init__(self, jurisdiction: str) -> None:
        self.jurisdiction = jurisdiction
        self.figures: dict[str, dict[str, str]] = {}  # year → measure → value
        self.loads: list[dict[str, Any]] = []

    @event("Loaded")
    def load(self, label: str, file_name: str, sha256: str, figures: dict[str, dict[str, str]],
             actor: dict[str, Any]) -> None:
        for year, values in figures.items():
            self.figures.setdefault(year, {}).update(values)
        self.loads.append({"label": label, "file_name": file_name, "sha256": sha256, "version": len(self.loads) + 1})

    def value(self, year: int, measure: str) -> Decimal | None:
        raw = self.figures.get(str(year), {}).get(measure)
        return Decimal(raw) if raw is not None else None
