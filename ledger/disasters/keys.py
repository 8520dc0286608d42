"""The key of a disaster process: (county, civil date, 一级灾种) → the ids of its processes, and who holds it.

A key has at most one live process. The first process of a key keeps the id
it always had, `uuid5("/disasters/{county}/{date}/{type}")`; after a 核销
(or a 勘误 that moves the live process to another key) the key is free again
and the n-th process gets `uuid5("…/{type}/{n}")`. One `KeyRecord` per key —
how many process ids it has given and which process holds it — is claimed
and released in the same save as the process, so two racing 初报 cannot both
win. Keys used before key records existed are read from what their first id
holds (a process, or a `KeyClaim` of a corrected process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def disaster_id(county: str, disaster_date: date, hazard: str, number: int = 1) -> UUID:
    """The id of the `number`-th process of a (county, civil date in Asia/Shanghai, 一级灾种) key."""
    path = f"/disasters/{county}/{disaster_date.isoformat()}/{hazard}"
    return uuid5(NAMESPACE_URL, path if number == 1 else f"{path}/{number}")


def key_record_id(county: str, disaster_date: date, hazard: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/disaster-keys/{county}/{disaster_date.isoformat()}/{hazard}")


class KeyClaim(Aggregate):
    """Held a corrected (county, date, type) key for a process whose id came from another key.

    Written before key records existed; still read, never written any more.
    """

    @classmethod
    def create_id(cls, county: str, disaster_date: date, hazard: str, **_: Any) -> UUID:
        return disaster_id(county, disaster_date, hazard)

    @event("Claimed")
    def __init__(self, county: str, disaster_date: date, hazard: str, disaster_id: UUID) -> None:
        self.disaster_id = disaster_id


class KeyRecord(Aggregate):
    """One (county, date, 一级灾种) key: how many process ids it has given, and the live process holding it."""

    @classmethod
    def create_id(cls, county: str, disaster_date: date, hazard: str, **_: Any) -> UUID:
        return key_record_id(county, disaster_date, hazard)

    @event("Recorded")
    def __init__(self, county: str, disaster_date: date, hazard: str, used: int, live: UUID | None) -> None:
        self.county = county
        self.disaster_date = disaster_date
        self.hazard = hazard
        self.used = used
        self.live = live

    @event("Claimed")
    def claim(self, disaster_id: UUID, number: int | None) -> None:
        """A process holds the key: a new one (`number` = its place among the key's ids), or one moved here."""
        self.live = disaster_id
        if number is not None:
            self.used = max(self.used, number)

    @event("Released")
    def release(self, disaster_id: UUID, why: str) -> None:
        """The live process no longer holds the key (核销, or a 勘误 moved it to another key)."""
        self.live = None


@dataclass(frozen=True)
class KeyState:
    """What a key holds now: its record (None for a key never recorded), the live process, the ids used."""

    county: str
    disaster_date: date
    hazard: str
    record: KeyRecord | None
    live: UUID | None
    used: int

    def next_id(self) -> tuple[UUID, int]:
        number = self.used + 1
        return disaster_id(self.county, self.disaster_date, self.hazard, number), number

    def held(self) -> KeyRecord:
        """The record to change in the save (a new one for a key never recorded)."""
        if self.record is not None:
            return self.record
        return KeyRecord(county=self.county, disaster_date=self.disaster_date, hazard=self.hazard,
                         used=self.used, live=self.live)


def key_state(get: Callable[[UUID], Any | None], county: str, disaster_date: date, hazard: str) -> KeyState:
    """The key as stored; `get` loads an aggregate by id (None when there is none)."""
    record = get(key_record_id(county, disaster_date, hazard))
    if isinstance(record, KeyRecord):
        return KeyState(county, disaster_date, hazard, record, record.live, record.used)
    first = get(disaster_id(county, disaster_date, hazard))
    if first is None:
        return KeyState(county, disaster_date, hazard, None, None, 0)
    owner = get(first.disaster_id) if isinstance(first, KeyClaim) else first
    holds = (
        owner is not None
        and getattr(owner, "retraction", None) is None
        and (owner.county, owner.disaster_date, owner.hazard) == (county, disaster_date, hazard)
    )
    return KeyState(county, disaster_date, hazard, None, owner.id if holds else None, 1)
