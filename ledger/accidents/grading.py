"""An accident's casualties and its grade (事故等级) under 493号令 第三条.

特别重大 / 重大 / 较大 / 一般 by deaths, seriously injured (重伤, including 急性工业中毒) and
direct economic loss; an accident reaching any bound of a grade has that grade, the highest
reached wins; "以上" includes the bound and "以下" excludes it, so 10 dead is 重大 and 9 is 较大.
The bounds are configuration (`AccidentRules.bounds`). The grade is recomputed on every change
of casualties or loss; the aggregate records each regrading as its own event.

Casualties are counted separately: 重伤 here excludes the acutely poisoned, who are given as
急性中毒 and are added to 重伤 for grading; 失踪 counts with the dead when the rules say so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ledger.accidents.rules import GRADE_NAMES, GRADES, AccidentRules
from ledger.store.errors import FieldProblem, InvalidInput

CASUALTY_FIELDS = ("deaths", "missing", "serious_injuries", "minor_injuries", "acute_poisoning")


CASUALTY_NAMES = {"deaths": "死亡", "missing": "失踪", "serious_injuries": "重伤", "minor_injuries": "轻伤",
                  "acute_poisoning": "急性中毒"}


@dataclass(frozen=True)
class Casualties:
    """死亡, 失踪, 重伤 (not counting 急性中毒), 轻伤, 急性中毒 — people, whole numbers."""

    deaths: int = 0
    missing: int = 0
    serious_injuries: int = 0
    minor_injuries: int = 0
    acute_poisoning: int = 0

    @classmethod
    def parse(cls, raw: dict[str, Any] | None, field_name: str = "casualties") -> Casualties:
        raw = raw or {}
        problems = []
        values: dict[str, int] = {}
        for key, value in raw.items():
            where = f"{field_name}.{key}"
            if key not in CASUALTY_FIELDS:
                problems.append(FieldProblem(where, "unknown_field", "one of: " + ", ".join(CASUALTY_FIELDS)))
            elif isinstance(value, bool) or not isinstance(value, int):
                problems.append(FieldProblem(where, "not_a_whole_number", "people are counted in whole numbers"))
            elif value < 0 or value > 1_000_000:
                problems.append(FieldProblem(where, "out_of_range", "0 to 1,000,000 people"))
            else:
                values[key] = value
        if problems:
            raise InvalidInput("伤亡人数有误", "the casualty figures are invalid", fields=problems)
        return cls(**values)

    @classmethod
    def of(cls, stored: dict[str, int]) -> Casualties:
        return cls(**{k: int(v) for k, v in stored.items() if k in CASUALTY_FIELDS})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def dead(self, rules: AccidentRules) -> int:
        """The death figure that grades and counts: 死亡, with 失踪 when the rules say so."""
        return self.deaths + (self.missing if rules.missing_counts_as_dead else 0)

    @property
    def seriously_injured(self) -> int:
        """重伤 including 急性工业中毒 (493号令 第三条)."""
        return self.serious_injuries + self.acute_poisoning


@dataclass(frozen=True)
class Grading:
    grade: str
    basis: tuple[str, ...]
    """Which bounds of the grade were reached, e.g. "死亡 12 ≥ 10"; empty for 一般."""

    @property
    def name(self) -> str:
        return GRADE_NAMES[self.grade]


def grade_of(casualties: Casualties, direct_loss_fen: int, rules: AccidentRules) -> Grading:
    """The highest grade any figure reaches (以上 includes the bound); 一般 below every bound of 较大."""
    dead = casualties.dead(rules)
    injured = casualties.seriously_injured
    for grade in reversed(GRADES[1:]):
        bound = rules.bounds[grade]
        basis = []
        if dead >= bound.deaths:
            basis.append(f"死亡{'（含失踪）' if rules.missing_counts_as_dead else ''} {dead} ≥ {bound.deaths}")
        if injured >= bound.seriously_injured:
            basis.append(f"重伤（含急性工业中毒） {injured} ≥ {bound.seriously_injured}")
        if direct_loss_fen >= bound.direct_loss_fen:
            basis.append(f"直接经济损失 {direct_loss_fen // 100} 元 ≥ {bound.direct_loss_fen // 100} 元")
        if basis:
            return Grading(grade, tuple(basis))
    return Grading("ordinary", ())


def rank(grade: str) -> int:
    """0 for 一般 … 3 for 特别重大."""
    return GRADES.index(grade)
