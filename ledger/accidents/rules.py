"""The configured accident rules: grade bounds, report clocks, 补报 windows, investigation deadlines,
the definitions findings apply, and the sectors — loaded once from TOML, validated.

Defaults ship as package data (`data/accidents.toml`); a configured file replaces them whole. A
province's own practice (`[overrides."41"]`) is merged over the national clocks for accidents in
that province; the clocks then name their source ("national" or "province:41"). The rules'
`version` is recorded in every event and flag that used them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any

from ledger.store.errors import FieldProblem, InvalidInput

GRADES = ("ordinary", "larger", "major", "especially_major")
"""一般, 较大, 重大, 特别重大 — low to high."""


GRADE_NAMES = {"ordinary": "一般", "larger": "较大", "major": "重大", "especially_major": "特别重大"}


LEVELS = ("county", "city", "province", "national")
"""The regulators' chain, low to high (县 → 设区的市 → 省 → 国务院)."""


LEVEL_NAMES = {"county": "县级", "city": "设区的市级", "province": "省级", "national": "国务院"}


FINDING_KINDS = ("late", "omitted", "false", "concealed")
"""迟报, 漏报, 谎报, 瞒报."""


@dataclass(frozen=True)
class GradeBound:
    deaths: int
    seriously_injured: int
    direct_loss_fen: int


@dataclass(frozen=True)
class FollowUpRule:
    per_day: int = 0
    times: tuple[time, ...] = ()


@dataclass(frozen=True)
class Clocks:
    """The report clocks in force for one accident (national, or merged with its province's practice)."""

    source: str
    unit_report_minutes: int
    upward_minutes: dict[str, int]
    chain: dict[str, str]
    direct_to_province_minutes: int
    direct_to_province_from: str
    follow_up: dict[str, FollowUpRule]
    supplement_days: int
    same_day: bool


@dataclass(frozen=True)
class Sector:
    code: str
    name: str
    industrial: bool = False
    road: bool = False
    supplement_days: int | None = None


@dataclass(frozen=True)
class Definition:
    kind: str
    name: str
    source: str
    definition: str


@dataclass(frozen=True)
class AccidentRules:
    version: str
    grading_rule: str
    missing_counts_as_dead: bool
    bounds: dict[str, GradeBound]  # larger, major, especially_major
    clocks: Clocks
    lead: dict[str, str]
    approval_days: dict[str, int]
    extension_max_days: int
    definitions: dict[str, Definition]
    sectors: dict[str, Sector]
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> AccidentRules:
        if path is None:
            text = (resources.files("ledger") / "data" / "accidents.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        try:
            rules = _parse(raw)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"accident rules {path or 'default'} are incomplete or invalid: {exc!r}") from exc
        for province in rules.overrides:
            rules.clocks_for(province.ljust(6, "0"))  # an override that does not parse fails at load, not later
        return rules

    def clocks_for(self, county: str) -> Clocks:
        """The clocks for an accident in `county`: the national ones, merged with its province's practice."""
        override = self.overrides.get(county[:2])
        if not override:
            return self.clocks
        follow_up = dict(self.clocks.follow_up)
        for grade, value in override.get("follow_up", {}).items():
            follow_up[_grade(grade)] = _follow_up(value)
        upward = dict(self.clocks.upward_minutes)
        upward.update({_grade(g): int(m) for g, m in override.get("upward_minutes", {}).items()})
        return replace(self.clocks, source=f"province:{county[:2]}", upward_minutes=upward, follow_up=follow_up)

    def sector(self, code: str) -> Sector:
        found = self.sectors.get(code)
        if found is None:
            raise InvalidInput(
                f"未知的行业领域 {code}", f"unknown sector {code}",
                fields=[FieldProblem("sector", "unknown_sector", "one of: " + ", ".join(self.sectors))],
            )
        return found

    def definition(self, kind: str) -> Definition:
        found = self.definitions.get(kind)
        if found is None:
            raise InvalidInput(
                f"未知的认定类型 {kind}", f"unknown finding kind {kind}",
                fields=[FieldProblem("kind", "unknown_kind", "one of: " + ", ".join(FINDING_KINDS))],
            )
        return found


def _grade(value: str) -> str:
    if value not in GRADES:
        raise ValueError(f"unknown grade {value!r}; one of {GRADES}")
    return value


def _level(value: str) -> str:
    if value not in LEVELS:
        raise ValueError(f"unknown level {value!r}; one of {LEVELS}")
    return value


def _by_grade(raw: dict[str, Any], convert: Any) -> dict[str, Any]:
    out = {_grade(k): convert(v) for k, v in raw.items()}
    missing = [g for g in GRADES if g not in out]
    if missing:
        raise ValueError(f"missing grades {missing}")
    return out


def _follow_up(raw: dict[str, Any]) -> FollowUpRule:
    times = tuple(sorted(time.fromisoformat(t) for t in raw.get("times", ())))
    rule = FollowUpRule(per_day=int(raw.get("per_day", 0)), times=times)
    if rule.per_day < 0 or (rule.per_day == 0 and not rule.times):
        raise ValueError("a follow-up rule needs per_day ≥ 1 or times")
    return rule


def _parse(raw: dict[str, Any]) -> AccidentRules:
    grading = raw["grading"]
    bounds = {
        grade: GradeBound(
            deaths=int(grading[grade]["deaths"]),
            seriously_injured=int(grading[grade]["seriously_injured"]),
            direct_loss_fen=int(grading[grade]["direct_loss_yuan"]) * 100,
        )
        for grade in GRADES[1:]
    }
    for lower, higher in zip(GRADES[1:], GRADES[2:], strict=False):
        a, b = bounds[lower], bounds[higher]
        if not (a.deaths < b.deaths and a.seriously_injured < b.seriously_injured
                and a.direct_loss_fen < b.direct_loss_fen):
            raise ValueError(f"grade bounds must rise from {lower} to {higher}")
    c = raw["clocks"]
    clocks = Clocks(
        source="national",
        unit_report_minutes=int(c["unit_report_minutes"]),
        upward_minutes=_by_grade(c["upward_minutes"], int),
        chain=_by_grade(c["chain"], _level),
        direct_to_province_minutes=int(c.get("direct_to_province_minutes", 0)),
        direct_to_province_from=_grade(c.get("direct_to_province_from", "larger")),
        follow_up=_by_grade(c["follow_up"], _follow_up),
        supplement_days=int(c["supplement"]["days"]),
        same_day=bool(c["supplement"].get("same_day", True)),
    )
    inv = raw["investigation"]
    definitions = {
        kind: Definition(kind, str(d["name"]), str(d["source"]), str(d["definition"]))
        for kind, d in raw["findings"].items()
    }
    if set(definitions) != set(FINDING_KINDS):
        raise ValueError(f"findings must define exactly {FINDING_KINDS}")
    sectors = {}
    for s in raw["sector"]:
        days = s.get("supplement_days")
        sectors[str(s["code"])] = Sector(str(s["code"]), str(s["name"]), bool(s.get("industrial", False)),
                                         bool(s.get("road", False)), int(days) if days is not None else None)
    return AccidentRules(
        version=str(raw["version"]),
        grading_rule=str(grading.get("rule", "493号令 第三条")),
        missing_counts_as_dead=bool(grading.get("missing_counts_as_dead", True)),
        bounds=bounds,
        clocks=clocks,
        lead=_by_grade(inv["lead"], _level),
        approval_days=_by_grade(inv["approval_days"], int),
        extension_max_days=int(inv["extension_max_days"]),
        definitions=definitions,
        sectors=sectors,
        overrides={str(k): dict(v) for k, v in raw.get("overrides", {}).items()},
    )
