"""Snapshots of long-lived aggregates (disasters, relief and housing cases, funds).

A snapshot is a cache of an aggregate's state at one version, taken by the
library every N events (`Ledger.snapshotting_intervals`); it is written
apart from the events, is not part of the seal, and can be dropped at any
time. Two things are added to the library's snapshot:

- the latest recorded time among the events it sums up (`recorded_through`),
  so that "the state as known at T" can start from the newest snapshot all
  of whose events had been recorded by T, even if a clock once stepped back;
- the enum class of each top-level attribute holding an enum member (JSON
  keeps only the value), so that a state read from a snapshot is the state
  replayed from the events.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic, resolve_topic

ENUMS = "_enum_topics"


class LedgerSnapshot(Snapshot):
    @classmethod
    def take(cls, aggregate: Any) -> LedgerSnapshot:
        snapshot = super().take(aggregate)
        enums = {k: get_topic(type(v)) for k, v in vars(aggregate).items() if isinstance(v, Enum)}
        if enums:
            snapshot.state[ENUMS] = enums
        return snapshot

    def mutate(self, _: None) -> Any:
        aggregate = super().mutate(_)
        state = aggregate.__dict__
        for name, topic in state.pop(ENUMS, {}).items():
            state[name] = resolve_topic(topic)(state[name])
        return aggregate


class Snapshotted:
    """Mixin (before `Aggregate`) for aggregates the ledger snapshots."""

    Snapshot = LedgerSnapshot

    @property
    def modified_on(self) -> datetime:
        return self._modified_on  # type: ignore[attr-defined,no-any-return]

    @modified_on.setter
    def modified_on(self, value: datetime) -> None:
        through = self.recorded_through
        self._modified_on = value
        self._recorded_through = max(through, value)

    @property
    def recorded_through(self) -> datetime:
        """The latest recorded time among the events applied so far."""
        return self.__dict__.get("_recorded_through") or self._modified_on  # type: ignore[attr-defined,no-any-return]


def recorded_through(snapshot: Any) -> datetime:
    """Up to when every event a snapshot sums up had been recorded."""
    return snapshot.state.get("_recorded_through") or snapshot.state["_modified_on"]
