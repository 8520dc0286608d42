"""The ledger's clock: real time, optionally shifted forward for tests.

Recorded times (the events' `timestamp`) always come from the real clock;
only the clock that rules ask "what is today?" can be shifted, so a test
can let a 7-day posting or a 10-day clock pass without waiting. A shift is
refused in production by the settings layer (`RELIEF_CLOCK_OFFSET_SECONDS`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class OffsetClock:
    """Real time plus an offset that only moves forward (`advance`)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        if offset < timedelta(0):
            raise ValueError("the clock may be shifted forward only")
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, days: float = 0, hours: float = 0, seconds: float = 0) -> None:
        step = timedelta(days=days, hours=hours, seconds=seconds)
        if step < timedelta(0):
            raise ValueError("the clock may be shifted forward only")
        self.offset += step
