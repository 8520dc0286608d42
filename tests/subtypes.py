"""The 亚灾种 a test gives when the county files (the county fills it where the 一级灾种 has them)."""

from __future__ import annotations

from ledger.reference.hazards import HazardCatalogue

SUBTYPES = {h.code: next(iter(h.subtypes), None) for h in HazardCatalogue.load().hazards.values()}


def default_subtype(hazard: str) -> str | None:
    return SUBTYPES.get(hazard)
