"""Disaster types (灾种): the 12 一级灾种 and their 亚灾种.

Loaded from TOML (package default `data/hazards.toml`, or a configured file);
the stable `code` of a 一级灾种 is part of a disaster's id.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ledger.store.errors import FieldProblem, InvalidInput


@dataclass(frozen=True)
class Hazard:
    """One 一级灾种 with its 亚灾种 (code → name)."""

    code: str
    name: str
    subtypes: dict[str, str]
    drought: bool = False
    unconfirmed: bool = False


@dataclass(frozen=True)
class HazardCatalogue:
    version: str
    hazards: dict[str, Hazard]

    @classmethod
    def load(cls, path: Path | None = None) -> HazardCatalogue:
        if path is None:
            text = (resources.files("ledger") / "data" / "hazards.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        hazards = {}
        for item in raw["hazard"]:
            subtypes = {s["code"]: s["name"] for s in item.get("subtypes", [])}
            hazards[item["code"]] = Hazard(
                code=item["code"],
                name=item["name"],
                subtypes=subtypes,
                drought=bool(item.get("drought", False)),
                unconfirmed=bool(item.get("unconfirmed", False)),
            )
        return cls(version=str(raw.get("version", "unversioned")), hazards=hazards)

    def require(self, code: str, subtype: str | None = None) -> Hazard:
        hazard = self.hazards.get(code)
        if hazard is None:
            known = ", ".join(self.hazards)
            raise InvalidInput(
                f"未知的灾种 {code}",
                f"unknown disaster type {code}",
                fields=[FieldProblem("hazard", "unknown_hazard", f"one of: {known}")],
            )
        if subtype is not None and subtype not in hazard.subtypes:
            known = ", ".join(hazard.subtypes)
            raise InvalidInput(
                f"{hazard.name}没有亚灾种 {subtype}",
                f"{code} has no sub-type {subtype}",
                fields=[FieldProblem("subtype", "unknown_subtype", f"one of: {known}")],
            )
        return hazard
