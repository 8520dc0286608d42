"""Housing reconstruction rules that vary by place and year: subsidy table, modes, tranches, exclusions,
progress rhythm, working-day calendar (`ledger/data/housing.toml`, replaced by `RELIEF_HOUSING_RULES_FILE`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from ledger.households.posting import PostingRules

DAMAGE = {"collapsed": "倒塌", "severe": "严重损坏", "general": "一般损坏"}


MODES = {"in_situ": "原址重建", "relocation": "异地重建", "centralized": "集中统建", "purchase": "购房安置",
         "repair": "维修加固"}


@dataclass(frozen=True)
class SubsidyRow:
    id: str
    area: str
    from_year: int
    damage: str
    mode: str  # or "*"
    flood_storage: bool
    per_room_fen: int | None
    cap_fen: int | None
    floor_fen: int | None
    flat_fen: int | None

    def amount(self, rooms: int) -> int:
        if self.flat_fen is not None:
            return self.flat_fen
        value = (self.per_room_fen or 0) * rooms
        if self.floor_fen is not None:
            value = max(value, self.floor_fen)
        if self.cap_fen is not None:
            value = min(value, self.cap_fen)
        return value

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("id", "area", "from_year", "damage", "mode", "flood_storage",
                                              "per_room_fen", "cap_fen", "floor_fen", "flat_fen")}


@dataclass(frozen=True)
class Tranche:
    at: str  # the step that makes it payable: agreed | started | completed | accepted
    percent: int
    within_working_days: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "percent": self.percent, "within_working_days": self.within_working_days}


@dataclass(frozen=True)
class Calendar:
    """Working days: Monday–Friday, less configured holidays, plus configured working weekend days (调休)."""

    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start`."""
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day


@dataclass(frozen=True)
class HousingRules:
    version: str
    posting: PostingRules
    progress_report_days: int
    modes: dict[str, tuple[str, ...]]
    tranches: dict[str, tuple[Tranche, ...]]
    subsidy: tuple[SubsidyRow, ...]
    exclusions: dict[str, str]
    calendar: Calendar

    def subsidy_for(self, area: str, year: int, damage: str, mode: str, flood_storage: bool) -> SubsidyRow | None:
        found = [r for r in self.subsidy if area.startswith(r.area) and r.from_year <= year and r.damage == damage
                 and r.mode in ("*", mode) and (not r.flood_storage or flood_storage)]
        found.sort(key=lambda r: (r.flood_storage, len(r.area), r.mode != "*", r.from_year))
        return found[-1] if found else None

    def tranches_for(self, mode: str) -> tuple[Tranche, ...]:
        return self.tranches.get(mode) or self.tranches["default"]

    @classmethod
    def load(cls, path: Path | None = None) -> HousingRules:
        text = (path.read_text(encoding="utf-8") if path is not None
                else (resources.files("ledger") / "data" / "housing.toml").read_text(encoding="utf-8"))
        raw = tomllib.loads(text)
        try:
            rules = cls(
                version=str(raw["version"]),
                posting=PostingRules(int(raw.get("posting_min_days", 7)), int(raw.get("posting_backdate_days", 2))),
                progress_report_days=int(raw.get("progress_report_days", 20)),
                modes={k: tuple(v) for k, v in raw["modes"].items()},
                tranches={k: tuple(Tranche(str(t["at"]), int(t["percent"]), t.get("within_working_days"))
                                   for t in v) for k, v in raw["tranches"].items()},
                subsidy=tuple(_row(r) for r in raw["subsidy"]),
                exclusions={str(e["key"]): str(e["name"]) for e in raw.get("exclusions", [])},
                calendar=Calendar(frozenset(date.fromisoformat(d) for d in raw.get("calendar", {}).get("holidays", [])),
                                  frozenset(date.fromisoformat(d) for d in raw.get("calendar", {}).get("workdays", []))),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"housing rules {path or 'default'} are incomplete or invalid: {exc!r}") from exc
        if set(rules.modes) != set(DAMAGE) or any(m not in MODES for v in rules.modes.values() for m in v):
            raise ValueError("housing rules: [modes] names collapsed, severe and general with known modes")
        for name, schedule in rules.tranches.items():
            if sum(t.percent for t in schedule) != 100:
                raise ValueError(f"housing rules: the tranches of {name} do not add up to 100 %")
        if "default" not in rules.tranches:
            raise ValueError("housing rules: [tranches.default] is required")
        return rules


def _fen(value: Any) -> int | None:
    if value is None:
        return None
    fen = Decimal(str(value)) * 100
    if fen != fen.to_integral_value() or fen < 0:
        raise ValueError(f"{value} 元 is not a whole number of fen")
    return int(fen)


def _row(r: dict[str, Any]) -> SubsidyRow:
    row = SubsidyRow(id=str(r["id"]), area=str(r.get("area", "")), from_year=int(r.get("from_year", 1949)),
                     damage=str(r["damage"]), mode=str(r.get("mode", "*")), flood_storage=bool(r.get("flood_storage")),
                     per_room_fen=_fen(r.get("per_room_yuan")), cap_fen=_fen(r.get("cap_yuan")),
                     floor_fen=_fen(r.get("floor_yuan")), flat_fen=_fen(r.get("flat_yuan")))
    if row.damage not in DAMAGE or (row.mode != "*" and row.mode not in MODES):
        raise ValueError(f"subsidy row {row.id}: unknown damage class or mode")
    if row.flat_fen is None and row.per_room_fen is None:
        raise ValueError(f"subsidy row {row.id}: per_room_yuan or flat_yuan is required")
    return row
