"""The plans' targets (configuration) and the indicators they are measured in.

An indicator is a numerator measure, optionally over a denominator measure at a scale: deaths per 亿元
GDP (`accident_deaths` / `gdp_100m_yuan`), 工矿商贸 deaths per 100,000 workers, 营运车辆 deaths per
10,000 vehicles, natural-disaster deaths per million people, 受灾人次 per 100,000 (or per million),
the natural-disaster direct loss as a percentage of GDP. Measures come from the ledger (accidents,
disaster statistics) or from the reference figures users load (denominators and baselines).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

COMPARISONS = ("cumulative_vs_previous", "year_on_year", "ceiling")


OVER = ("cumulative", "average", "year")


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    numerator: str
    denominator: str | None = None
    per: Decimal = Decimal(1)  # value = numerator / (denominator / per)

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None


INDICATORS = {i.key: i for i in (
    Indicator("accidents", "生产安全事故起数", "accidents"),
    Indicator("accident_deaths", "生产安全事故死亡人数", "accident_deaths"),
    Indicator("larger_accidents", "较大生产安全事故起数", "larger_accidents"),
    Indicator("larger_and_above_accidents", "较大及以上事故起数", "larger_and_above_accidents"),
    Indicator("major_and_above_accidents", "重特大生产安全事故起数", "major_and_above_accidents"),
    Indicator("deaths_per_100m_gdp", "亿元生产总值生产安全事故死亡率", "accident_deaths", "gdp_100m_yuan"),
    Indicator("industrial_deaths_per_100k_workers", "工矿商贸就业人员十万人生产安全事故死亡率",
              "industrial_accident_deaths", "industrial_employees", Decimal(100_000)),
    Indicator("road_deaths_per_10k_vehicles", "营运车辆万车死亡率", "road_accident_deaths", "commercial_vehicles",
              Decimal(10_000)),
    Indicator("disaster_deaths_per_million", "年均每百万人口因自然灾害死亡率", "disaster_deaths", "population",
              Decimal(1_000_000)),
    Indicator("disaster_affected_per_100k", "年均每十万人受灾人次", "disaster_affected", "population", Decimal(100_000)),
    Indicator("disaster_affected_per_million", "年均每百万人受灾人次", "disaster_affected", "population",
              Decimal(1_000_000)),
    # 万元 over 亿元 × 100: a percentage of GDP
    Indicator("disaster_loss_share_of_gdp", "年均因自然灾害直接经济损失占生产总值比例（%）", "disaster_loss_10k_yuan",
              "gdp_100m_yuan", Decimal(100)),
)}


@dataclass(frozen=True)
class Target:
    indicator: Indicator
    comparison: str
    binding: str
    stated: bool
    change: Decimal | None = None
    ceiling: Decimal | None = None
    over: str = "average"
    strict: bool = False

    @property
    def text(self) -> str:
        if self.comparison == "ceiling":
            return f"{'<' if self.strict else '≤'}{self.ceiling}"
        assert self.change is not None
        word = "下降" if self.change < 0 else "上升"
        return f"{word}{abs(self.change) * 100:.0f}%"


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    source: str
    jurisdictions: tuple[str, ...]
    period: tuple[int, int]
    previous_period: tuple[int, int]
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class TargetPlans:
    version: str
    plans: tuple[Plan, ...]

    @classmethod
    def load(cls, path: Path | None = None) -> TargetPlans:
        if path is None:
            text = (resources.files("ledger") / "data" / "targets.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        try:
            return cls(str(raw["version"]), tuple(_plan(p) for p in raw.get("plan", [])))
        except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
            raise ValueError(f"targets {path or 'default'} are incomplete or invalid: {exc!r}") from exc

    def for_area(self, area: str) -> list[tuple[Plan, str]]:
        """(plan, jurisdiction) pairs whose jurisdiction is the area or lies within it."""
        return [(p, j) for p in self.plans for j in p.jurisdictions if j.startswith(area)]


def _plan(p: dict) -> Plan:  # type: ignore[type-arg]
    targets = []
    for t in p["targets"]:
        indicator = INDICATORS[t["indicator"]]
        comparison = str(t["comparison"])
        if comparison not in COMPARISONS:
            raise ValueError(f"unknown comparison {comparison!r}")
        over = str(t.get("over", "average"))
        if over not in OVER:
            raise ValueError(f"unknown over {over!r}")
        target = Target(indicator, comparison, str(t.get("binding", "")), bool(t.get("stated", True)),
                        Decimal(str(t["change"])) if "change" in t else None,
                        Decimal(str(t["ceiling"])) if "ceiling" in t else None, over, bool(t.get("strict", False)))
        if (comparison == "ceiling") != (target.ceiling is not None) or (comparison != "ceiling"
                                                                          and target.change is None):
            raise ValueError(f"target {indicator.key}: a ceiling needs `ceiling`, a comparison needs `change`")
        targets.append(target)
    period = (int(p["period"][0]), int(p["period"][1]))
    previous = (int(p["previous_period"][0]), int(p["previous_period"][1]))
    return Plan(str(p["id"]), str(p["name"]), str(p.get("source", "")), tuple(str(j) for j in p["jurisdictions"]),
                period, previous, tuple(targets))
