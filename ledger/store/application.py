"""The one event store: one `Application`, one notification log, for every aggregate type.

Every aggregate lives in the one `Ledger` application, so the notification
log gives one global order (the seal chains it; as-known-at and statistics
read it), and one `save` can write a disaster, a key claim and an
idempotency record together. Use cases live in each concept's service over
it (`ledger.runtime` puts them together).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import TopicError

from ledger.store.errors import UnreadableEvent
from ledger.store.positions import position_of
from ledger.store.recorders import recorder_topic
from ledger.store.text import require_storable
from ledger.store.topics import register_moved_topics


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Ledger(Application):
    """The event store of every aggregate in the system."""

    name = "Ledger"
    is_snapshotting_enabled = True  # which aggregates, and how often: SNAPSHOT_INTERVAL_* (snapshot_intervals)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        register_moved_topics()  # events stored under a class's earlier module stay readable
        env = dict(kwargs.get("env") or {})
        topic = recorder_topic(env.get("PERSISTENCE_MODULE"))
        if topic and "APPLICATION_RECORDER_TOPIC" not in env:
            env["APPLICATION_RECORDER_TOPIC"] = topic  # side writes in the events' transaction (recorders.py)
            kwargs["env"] = env
        super().__init__(*args, **kwargs)
        self.snapshotting_intervals = snapshot_intervals(self.env)  # type: ignore[misc]
        self.after_save: list[Callable[[], None]] = []

    def save(self, *args: Any, **kwargs: Any) -> Any:
        """Save (unless some text cannot be stored), then tell followers (projections) that the log has grown."""
        require_storable([e for obj in args for e in getattr(obj, "pending_events", ())])
        recordings = super().save(*args, **kwargs)
        for listener in self.after_save:
            listener()
        return recordings

    def construct_mapper(self) -> Mapper[Any]:
        plain = super().construct_mapper()
        return ReadingMapper(plain.transcoder, compressor=plain.compressor, cipher=plain.cipher,
                             locate=lambda oid, version: position_of(self, oid, version))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


SNAPSHOT_INTERVALS = {"DISASTERS": 50, "CASES": 50, "FUNDS": 200}
"""Defaults of `SNAPSHOT_INTERVAL_<KIND>` (events between snapshots; 0 = none for that kind)."""


def snapshot_intervals(env: Any) -> dict[type, int]:
    """The long-lived aggregates snapshotted every N events: disasters, relief and housing cases, funds."""
    from ledger.disasters.aggregate import Disaster
    from ledger.housing.case import HousingCase
    from ledger.relief.case import ReliefCase
    from ledger.relief.fund import ReliefFund

    kinds = {"DISASTERS": (Disaster,), "CASES": (ReliefCase, HousingCase), "FUNDS": (ReliefFund,)}
    intervals: dict[type, int] = {}
    for kind, classes in kinds.items():
        value = int(env.get(f"SNAPSHOT_INTERVAL_{kind}") or SNAPSHOT_INTERVALS[kind])
        for cls in classes:
            if value > 0:
                intervals[cls] = value
    return intervals


class ReadingMapper(Mapper[Any]):
    """The library's mapper, whose failure to read a stored event names that event (`UnreadableEvent`)."""

    def __init__(self, *args: Any, locate: Callable[[Any, int], int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locate = locate

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            return super().to_domain_event(stored_event)
        except (MapperDeserialisationError, TopicError) as exc:
            position = getattr(stored_event, "id", None)
            if position is None:
                try:
                    position = self.locate(stored_event.originator_id, stored_event.originator_version) or None
                except Exception:  # noqa: BLE001 — naming the position is a courtesy; the error stands anyway
                    position = None
            cause = str(exc.__cause__ or exc).split(":")[-1].strip()[:200]
            raise UnreadableEvent(str(stored_event.originator_id), stored_event.originator_version,
                                  stored_event.topic, position, cause) from exc


def utc_now() -> datetime:
    return datetime.now(UTC)
