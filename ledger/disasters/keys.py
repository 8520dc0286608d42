"""The key of a disaster process: (county, civil date, 一级灾种) → its deterministic id, and claims on corrected keys."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def disaster_id(county: str, disaster_date: date, hazard: str) -> UUID:
    """The process id: one per (county, civil date in Asia/Shanghai, 一级灾种)."""
    return uuid5(NAMESPACE_URL, f"/disasters/{county}/{disaster_date.isoformat()}/{hazard}")


class KeyClaim(Aggregate):
    """Holds a corrected (county, date, type) key for a process whose id came from another key.

    Its id is the id a new 初报 under that key would get, so such a 初报
    fails to save and is answered with the process it belongs to.
    """

    @classmethod
    def create_id(cls, county: str, disaster_date: date, hazard: str, **_: Any) -> UUID:
        return disaster_id(county, disaster_date, hazard)

    @event("Claimed")
    def __init__(self, county: str, disaster_date: date, hazard: str, disaster_id: UUID) -> None:
        self.disaster_id = disaster_id
