"""Relief timeliness from the disaster (seed 001's binding target: 「灾害发生后得到有效救助时间」 ≤ 10 h).

For one disaster process and area: for each household relief answers, the
hours from the disaster's `occurred_at` to its first effective relief (a
payment that stood, or goods delivered); the share of households relieved
within the configured target; and the breaches — households relieved later
than the target, and households not yet relieved once the target has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class HouseholdTimeliness:
    case_id: str
    village: str
    first_relief_at: datetime | None
    hours: float | None  # from occurred_at, rounded to 0.01 h
    within_target: bool
    breach: str | None  # late | not_yet_relieved | None


@dataclass(frozen=True)
class Timeliness:
    disaster_id: str
    occurred_at: datetime
    target_hours: int
    households: int
    relieved: int
    within_target: int
    share_within_target: float | None  # within target / households (None when no household)
    breaches: list[HouseholdTimeliness]
    items: list[HouseholdTimeliness]


def measure(disaster_id: str, occurred_at: datetime, rows: list[dict[str, Any]], target_hours: int,
            now: datetime) -> Timeliness:
    """`rows`: the process's households ({case_id, village, first_relief_at (ISO or None)})."""
    target = timedelta(hours=target_hours)
    items = []
    for r in rows:
        raw = r.get("first_relief_at")
        first = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
        if first is not None:
            elapsed = first - occurred_at
            within = elapsed <= target
            breach = None if within else "late"
            hours = round(elapsed.total_seconds() / 3600, 2)
        else:
            within = False
            hours = None
            breach = "not_yet_relieved" if now - occurred_at > target else None
        items.append(HouseholdTimeliness(str(r["case_id"]), str(r["village"]), first, hours, within, breach))
    count = len(items)
    inside = sum(1 for i in items if i.within_target)
    return Timeliness(
        disaster_id=disaster_id, occurred_at=occurred_at, target_hours=target_hours, households=count,
        relieved=sum(1 for i in items if i.first_relief_at is not None), within_target=inside,
        share_within_target=round(inside / count, 4) if count else None,
        breaches=[i for i in items if i.breach], items=items,
    )
