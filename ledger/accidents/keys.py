"""The key of an accident: (county, the minute it happened, the unit) → its deterministic id."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5


def unit_key(name: str, credit_code: str | None) -> str:
    """The unit by its credit code, or (an unlicensed operator) by its name without spaces."""
    return credit_code.upper() if credit_code else "name:" + "".join(name.split())


def accident_id(county: str, occurred_at: datetime, unit: str) -> UUID:
    """One accident per county, unit and minute: a second record of the same accident is refused with this id."""
    minute = occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return uuid5(NAMESPACE_URL, f"/accidents/{county}/{minute}/{unit}")
