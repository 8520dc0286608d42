"""Relief rules that vary by place and year: posting, standards (floors and ceilings), the Henan clocks,
the 冬春 season and its upward deadlines, the timeliness target, 春节 dates.

Everything here is configuration (`ledger/data/relief.toml`, replaced by `RELIEF_RELIEF_RULES_FILE`),
loaded once and validated; its `version` is recorded in the events that applied it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from ledger.households.posting import PostingRules
from ledger.relief.programmes import Programme
from ledger.relief.season import SeasonRules

EARLIEST = date(1949, 10, 1)


@dataclass(frozen=True)
class Cap:
    """A national ceiling (the shipped `[caps.*]` form): per person in need or per household."""

    per: str  # "person" | "household"
    fen: int

    def for_household(self, people_in_need: int) -> int:
        return self.fen * people_in_need if self.per == "person" else self.fen


@dataclass(frozen=True)
class Standard:
    """救助标准 as a place writes it: a floor (不低于), a ceiling (不高于) or both, per person in need or
    per household, for one programme in one area (code prefix, "" = everywhere) from a date."""

    id: str
    programme: str
    area: str
    effective_from: date
    per: str
    floor_fen: int | None
    ceiling_fen: int | None

    def floor_for(self, people: int) -> int | None:
        return None if self.floor_fen is None else self.floor_fen * (people if self.per == "person" else 1)

    def ceiling_for(self, people: int) -> int | None:
        return None if self.ceiling_fen is None else self.ceiling_fen * (people if self.per == "person" else 1)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "programme": self.programme, "area": self.area,
                "effective_from": self.effective_from.isoformat(), "per": self.per,
                "floor_fen": self.floor_fen, "ceiling_fen": self.ceiling_fen}


@dataclass(frozen=True)
class ReliefRules:
    version: str
    posting_min_days: int
    caps: dict[str, Cap]
    spring_festival: dict[str, date]
    spring_festival_warning_days: int
    standards: tuple[Standard, ...] = ()
    posting_backdate_days: int = 2
    township_review_days: int | None = 10
    county_decision_days: int | None = 10
    timeliness_target_hours: int = 10
    equal_amount_min_households: int = 5
    season: SeasonRules = field(default_factory=SeasonRules)

    @property
    def posting(self) -> PostingRules:
        return PostingRules(min_days=self.posting_min_days, backdate_days=self.posting_backdate_days)

    def standard_for(self, programme: str, area: str, on: date) -> Standard:
        """The standard in force for a household of `area` on `on`: the most specific area, then the
        latest effective date on or before `on`."""
        found = [s for s in self.standards if s.programme == programme and area.startswith(s.area)
                 and s.effective_from <= on]
        found.sort(key=lambda s: (len(s.area), s.effective_from))
        return found[-1]

    @classmethod
    def load(cls, path: Path | None = None) -> ReliefRules:
        if path is None:
            text = (resources.files("ledger") / "data" / "relief.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        try:
            caps = {name: Cap(per=str(c["per"]), fen=_fen(c["yuan"])) for name, c in raw["caps"].items()}
            standards = [Standard(f"{name}/national", name, "", EARLIEST, cap.per, None, cap.fen)
                         for name, cap in caps.items()]
            standards += [_standard(s) for s in raw.get("standards", [])]
            henan = raw.get("clocks", {})
            rules = cls(
                version=str(raw["version"]),
                posting_min_days=int(raw["posting_min_days"]),
                posting_backdate_days=int(raw.get("posting_backdate_days", 2)),
                caps=caps,
                standards=tuple(standards),
                spring_festival={k: date.fromisoformat(v) for k, v in raw.get("spring_festival", {}).items()},
                spring_festival_warning_days=int(raw.get("spring_festival_warning_days", 30)),
                township_review_days=_days(henan.get("township_review_days", 10)),
                county_decision_days=_days(henan.get("county_decision_days", 10)),
                timeliness_target_hours=int(raw.get("timeliness_target_hours", 10)),
                equal_amount_min_households=int(raw.get("equal_amount_min_households", 5)),
                season=SeasonRules.from_toml(raw.get("winter_spring", {})),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"relief rules {path or 'default'} are incomplete or invalid: {exc!r}") from exc
        missing = [p.value for p in Programme if p.value not in rules.caps]
        if missing or any(c.per not in ("person", "household") for c in rules.caps.values()):
            raise ValueError(f"relief rules: every programme needs a cap per person or household; missing {missing}")
        for s in rules.standards:
            if s.per not in ("person", "household") or s.programme not in Programme.__members__.values():
                raise ValueError(f"relief rules: standard {s.id} needs a known programme and per person/household")
            if s.floor_fen is not None and s.ceiling_fen is not None and s.floor_fen > s.ceiling_fen:
                raise ValueError(f"relief rules: standard {s.id} has its floor above its ceiling")
        return rules


def _fen(yuan: Any) -> int:
    from decimal import Decimal

    value = Decimal(str(yuan)) * 100
    if value != value.to_integral_value() or value < 0:
        raise ValueError(f"{yuan} 元 is not a whole number of fen")
    return int(value)


def _days(value: Any) -> int | None:
    return None if value in (None, False, 0) else int(value)


def _standard(s: dict[str, Any]) -> Standard:
    floor = _fen(s["floor_yuan"]) if "floor_yuan" in s else None
    ceiling = _fen(s["ceiling_yuan"]) if "ceiling_yuan" in s else None
    if floor is None and ceiling is None:
        raise ValueError(f"standard {s.get('id')} has neither floor_yuan nor ceiling_yuan")
    area = str(s.get("area", ""))
    effective = date.fromisoformat(str(s["effective_from"]))
    return Standard(id=str(s.get("id") or f"{s['programme']}/{area or 'national'}/{effective}"),
                    programme=str(s["programme"]), area=area, effective_from=effective, per=str(s["per"]),
                    floor_fen=floor, ceiling_fen=ceiling)
