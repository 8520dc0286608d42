"""Event recorders that run a use case's own row writes in the transaction that inserts its events.

`app.save(aggregate, side_writes=[write])` passes the keyword through the
library (`Application.save` → `EventStore.put` → `recorder.insert_events`
→ `_insert_events(cursor, events, **kwargs)`, the same path the library's
process recorders use to write a tracking row with the events). Each
`write(cursor, sql)` runs inside that transaction, before the events are
inserted: if the write fails nothing is stored, and if the events are
refused (a stale version, a duplicate id) the write is rolled back with
them. `sql(statement)` turns `?` placeholders and `{schema}.` qualifiers
into the backend's form.

`Ledger` selects these recorders through the library's
`APPLICATION_RECORDER_TOPIC`; with the PostgreSQL insert function enabled
(`POSTGRES_ENABLE_DB_FUNCTIONS`) the keyword path is not taken, so a save
with side writes is refused there rather than silently dropping them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

SideWrite = Callable[[Any, Callable[[str], str]], None]
"""`write(cursor, sql)`: executes statements on the event transaction's cursor."""


class SQLiteSideWritingRecorder(SQLiteApplicationRecorder):
    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        for write in kwargs.get("side_writes", ()):
            write(c, sqlite_sql)
        return super()._insert_events(c, stored_events, **kwargs)


class PostgresSideWritingRecorder(PostgresApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if kwargs.get("side_writes") and self.datastore.enable_db_functions:
            raise RuntimeError("side writes need POSTGRES_ENABLE_DB_FUNCTIONS off")
        return super().insert_events(stored_events, **kwargs)

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        schema = self.datastore.schema or "public"
        for write in kwargs.get("side_writes", ()):
            write(curs, lambda statement: postgres_sql(statement, schema))
        super()._insert_events(curs, stored_events, **kwargs)


def sqlite_sql(statement: str) -> str:
    return statement.replace("{schema}.", "")


def postgres_sql(statement: str, schema: str) -> str:
    return statement.replace("{schema}.", f'"{schema}".').replace("?", "%s")


def recorder_topic(persistence_module: str | None) -> str | None:
    """The recorder class for a persistence module (None: the library's default)."""
    if persistence_module == "eventsourcing.sqlite":
        return f"{__name__}:SQLiteSideWritingRecorder"
    if persistence_module == "eventsourcing.postgres":
        return f"{__name__}:PostgresSideWritingRecorder"
    return None
