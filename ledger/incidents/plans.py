"""Optional response thresholds per plan (应急预案 响应启动条件) and the level they suggest.

Configuration (`data/response_plans.toml`, or a configured file): for a plan named and versioned
as the officers give it, per level (Ⅰ = 1 … Ⅳ = 4) thresholds on sums of figures. The figures that
count are the linked disasters' figures that count and the linked accidents' casualties. The
suggestion is the highest level any of whose thresholds is reached ("以上" includes the bound), or
none below every threshold; the officer decides, and a level other than the suggestion needs a
written reason (checked by the `Incident`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Threshold:
    name: str
    figures: tuple[str, ...]
    at_least: Decimal


@dataclass(frozen=True)
class PlanThresholds:
    name: str
    version: str
    government_level: str
    levels: dict[int, tuple[Threshold, ...]]


@dataclass(frozen=True)
class ResponsePlans:
    version: str
    plans: dict[tuple[str, str], PlanThresholds]

    @classmethod
    def load(cls, path: Path | None = None) -> ResponsePlans:
        if path is None:
            text = (resources.files("ledger") / "data" / "response_plans.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        plans = {}
        try:
            for p in raw.get("plan", []):
                levels = {}
                for lv in p["level"]:
                    level = int(lv["level"])
                    if level not in (1, 2, 3, 4):
                        raise ValueError(f"plan {p['name']}: level {level} is not 1–4")
                    levels[level] = tuple(Threshold(str(t["name"]), tuple(str(f) for f in t["figures"]),
                                                    Decimal(str(t["at_least"]))) for t in lv["thresholds"])
                plans[(str(p["name"]), str(p["version"]))] = PlanThresholds(
                    str(p["name"]), str(p["version"]), str(p.get("government_level", "")), levels)
            return cls(version=str(raw["version"]), plans=plans)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"response plans {path or 'default'} are incomplete or invalid: {exc!r}") from exc

    def suggest(self, plan: str, plan_version: str, figures: dict[str, Decimal]) -> dict[str, Any] | None:
        """{level (None below every threshold), basis, plan_version, thresholds_version, figures}, or None
        when the plan has no configured thresholds."""
        found = self.plans.get((plan, plan_version))
        if found is None:
            return None
        used = sorted({f for ts in found.levels.values() for t in ts for f in t.figures})
        shown = {k: str(figures.get(k, Decimal(0))) for k in used}
        for level in sorted(found.levels):
            basis = []
            for t in found.levels[level]:
                total = sum((figures.get(f, Decimal(0)) for f in t.figures), Decimal(0))
                if total >= t.at_least:
                    basis.append(f"{t.name} {total} ≥ {t.at_least}")
            if basis:
                return {"level": level, "basis": basis, "thresholds_version": self.version, "figures": shown}
        return {"level": None, "basis": [], "thresholds_version": self.version, "figures": shown}
