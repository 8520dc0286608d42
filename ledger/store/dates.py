"""Civil dates a person states: within the years this ledger knows, and not later than today when they describe the past.

Nothing recorded here happened before 1949. A date that says when something
was done (a meeting held, goods issued, an application made) cannot lie
after today — Beijing's today, on the ledger's clock — give or take the
configured clock skew (a day at most matters for a date).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ledger.store.errors import FieldProblem, InvalidInput

CHINA = ZoneInfo("Asia/Shanghai")
EARLIEST = date(1949, 1, 1)
LATEST = date(9998, 12, 31)


def require_past_date(value: date, field: str, now: datetime, skew_days: int = 1) -> date:
    """`value` if it lies between 1949-01-01 and Beijing's today (plus the skew); a 422 naming the field otherwise."""
    today = now.astimezone(CHINA).date()
    if value < EARLIEST:
        raise InvalidInput("日期超出范围", "the date is out of range",
                           fields=[FieldProblem(field, "out_of_range", f"not before {EARLIEST.isoformat()}")])
    if value > today + timedelta(days=skew_days):
        raise InvalidInput("日期不能晚于今天", "the date cannot be in the future",
                           fields=[FieldProblem(field, "in_future", f"not after today ({today.isoformat()})")])
    return value


def require_civil_date(value: date, field: str) -> date:
    """A date that may lie ahead (the end of a posting), but within the years this ledger knows."""
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput("日期超出范围", "the date is out of range",
                           fields=[FieldProblem(field, "out_of_range",
                                                f"between {EARLIEST.isoformat()} and {LATEST.isoformat()}")])
    return value
