"""Area arithmetic shared by the read models: child-area digits and code ranges."""

from __future__ import annotations

CHILD_DIGITS = {0: 2, 2: 4, 4: 6, 6: 9, 9: 9}


# Relief cases are filed per village, so a township breaks down by village.
RELIEF_CHILD_DIGITS = {**CHILD_DIGITS, 9: 12, 12: 12}


def area_bounds(area: str) -> tuple[str, str]:
    """The village codes within an area prefix, as a range (index-friendly on both backends,
    and collation-safe: every code is 12 digits)."""
    return area.ljust(12, "0"), area.ljust(12, "9")
