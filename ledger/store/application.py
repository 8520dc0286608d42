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
from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.store.recorders import recorder_topic
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        register_moved_topics()  # events stored under a class's earlier module stay readable
        env = dict(kwargs.get("env") or {})
        topic = recorder_topic(env.get("PERSISTENCE_MODULE"))
        if topic and "APPLICATION_RECORDER_TOPIC" not in env:
            env["APPLICATION_RECORDER_TOPIC"] = topic  # side writes in the events' transaction (recorders.py)
            kwargs["env"] = env
        super().__init__(*args, **kwargs)
        self.after_save: list[Callable[[], None]] = []

    def save(self, *args: Any, **kwargs: Any) -> Any:
        """Save, then tell followers (projections) that the log has grown."""
        recordings = super().save(*args, **kwargs)
        for listener in self.after_save:
            listener()
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def utc_now() -> datetime:
    return datetime.now(UTC)
