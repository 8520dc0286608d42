"""Tracking-recorder views with batched, exactly-once writes, for SQLite and PostgreSQL.

A view's rows and its tracking position commit in one transaction. The
follower hands a view a batch of notifications at once: `batch(last)`
opens one transaction, records the batch's last position first (on SQLite a
write must come first, NOTES §5), and every write of the batch joins it.
Outside a batch each write opens its own transaction and tracks its own
position. Re-processing a tracked position fails (`IntegrityError`) and
writes nothing, so a crash never double-counts or skips.

Every view also keeps its dead letters (`{t}_dead_letters`): the events it
could not apply, each with its position and the error, recorded in the
transaction that moves the position past it. An aggregate with a dead
letter is quarantined for the view: its later events are skipped and listed
too, so the view never holds half of an aggregate's story.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ledger.store.files import private_file

DEAD_LETTERS_DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_dead_letters (position BIGINT PRIMARY KEY, originator_id TEXT NOT NULL,"
    " originator_version BIGINT NOT NULL, topic TEXT NOT NULL, error TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {n}_dead_letters_originator ON {t}_dead_letters (originator_id)",
]


class BatchingView:
    """What every view offers the runner and the readers, whatever the backend."""

    projection_name: str
    placeholder: str  # "?" on SQLite, "%s" on PostgreSQL
    _cursor: Any = None

    own_tables: tuple[str, ...] = ()

    def view_tables(self) -> list[str]:
        """The view's own tables and its dead letters (emptied by a rebuild), fully qualified."""
        return [self.sql(t) for t in (*self.own_tables, "{t}_dead_letters")]

    def all_ddl(self) -> list[str]:
        return [*self.table_ddl(), *DEAD_LETTERS_DDL]

    def table_ddl(self) -> list[str]:
        """CREATE TABLE / INDEX statements, with {t} standing for the table-name prefix."""
        return []

    tracking_table: str  # the library's tracking table, qualified

    def create_table(self) -> None:
        self.reshape()
        super().create_table()  # type: ignore[misc]

    def reshape(self) -> None:
        """When the view's tables changed shape (its DDL differs from the one recorded when they were
        made), drop them and forget the position, so the view is rebuilt from the log on this start."""
        fingerprint = hashlib.sha256("\n".join(self.table_ddl()).encode()).hexdigest()
        shapes = self.shapes_table
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            c.execute(f"CREATE TABLE IF NOT EXISTS {shapes} (projection TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)")
            c.execute(self.sql(f"SELECT fingerprint FROM {shapes} WHERE projection = ?"), (self.projection_name,))
            found = c.fetchone()
            if found is not None and found["fingerprint"] == fingerprint:
                return
            if found is not None or self._exists(c, self.view_tables()[0] if self.view_tables() else ""):
                for table in self.view_tables():
                    c.execute(f"DROP TABLE IF EXISTS {table}")
                if self._exists(c, self.tracking_table):
                    c.execute(f"DELETE FROM {self.tracking_table}")
            c.execute(self.sql(f"DELETE FROM {shapes} WHERE projection = ?"), (self.projection_name,))
            c.execute(self.sql(f"INSERT INTO {shapes} (projection, fingerprint) VALUES (?, ?)"),
                      (self.projection_name, fingerprint))

    shapes_table: str

    def _exists(self, c: Any, table: str) -> bool:
        raise NotImplementedError

    @contextmanager
    def batch(self, last: Tracking, previous: int | None = None) -> Iterator[None]:
        """One transaction for a batch ending at `last`. With `previous` (the position the
        batch starts after) the position moves only from exactly there, so two followers
        that read the same position cannot both apply the batch."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            self._advance(c, last, previous, self.tracking_table)  # the first statement is a write
            self._cursor = c
            try:
                yield
                self.flush(c)
            finally:
                self._cursor = None
                self.discard()

    def _advance(self, c: Any, last: Tracking, previous: int | None, table: str) -> None:
        if previous is None:
            self._insert_tracking(c, last)  # type: ignore[attr-defined]
            return
        if previous == 0:
            c.execute(
                self.sql(f"INSERT INTO {table} (application_name, notification_id) VALUES (?, ?)"),
                (last.application_name, last.notification_id),
            )
            return
        c.execute(
            self.sql(f"UPDATE {table} SET notification_id = ? WHERE application_name = ? AND notification_id = ?"),
            (last.notification_id, last.application_name, previous),
        )
        rowcount = c.sqlite_cursor.rowcount if hasattr(c, "sqlite_cursor") else c.rowcount
        if rowcount != 1:
            from eventsourcing.persistence import IntegrityError

            raise IntegrityError(
                f"{self.projection_name}: position moved from {previous} while this batch was read; not applied"
            )

    @contextmanager
    def writing(self, tracking: Tracking) -> Iterator[Any]:
        """A cursor for one event's writes: the batch's, or a new transaction tracking this event."""
        if self._cursor is not None:
            yield self._cursor
            return
        with self.batch(tracking):
            yield self._cursor

    # --- dead letters ------------------------------------------------------------------------

    def record_dead_letter(self, position: int, originator_id: str, version: int, topic: str, error: str) -> None:
        """Inside a batch: list an event this view could not apply (or skipped: its aggregate is quarantined)."""
        assert self._cursor is not None, "a dead letter is recorded with the position that passes it"
        self._cursor.execute(self.sql(
            "INSERT INTO {t}_dead_letters (position, originator_id, originator_version, topic, error)"
            " VALUES (?, ?, ?, ?, ?)"), (position, originator_id, version, topic, error[:2000]))

    def quarantined(self) -> set[str]:
        """The aggregates whose events this view no longer applies."""
        return {r["originator_id"] for r in self.query("SELECT DISTINCT originator_id FROM {t}_dead_letters")}

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.query("SELECT position, originator_id, originator_version, topic, error FROM {t}_dead_letters"
                          " ORDER BY position LIMIT ?", [limit])

    def dead_letter_count(self) -> int:
        return int(self.query("SELECT COUNT(*) AS n FROM {t}_dead_letters")[0]["n"])

    def flush(self, c: Any) -> None:
        """Write what the batch gathered in memory (each row once per batch), before commit."""

    def discard(self) -> None:
        """Forget what the batch gathered (after commit or rollback)."""
        self._pending: dict[str, Any] = {}
        self._dirty: set[str] = set()

    def insert_tracking(self, tracking: Tracking) -> None:  # events a projection ignores
        if self._cursor is not None:
            return  # the batch already records its last position
        with self.batch(tracking):
            pass

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            c.execute(self.sql(sql), tuple(params))
            return [dict(row) for row in c.fetchall()]

    def close(self) -> None:
        """Close the view's connection pool."""
        self.datastore.close()  # type: ignore[attr-defined]

    def reset(self, application_name: str) -> None:
        """Empty the view and forget its position (for a rebuild), in one transaction."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            c.execute(self.sql(f"DELETE FROM {self.tracking_table} WHERE application_name = ?"), (application_name,))
            for table in self.view_tables():
                c.execute(f"DELETE FROM {table}")

    def sql(self, statement: str) -> str:
        """Write statements with {t} for the (qualified) table prefix, {n} for the bare
        projection name (index names) and ? for parameters."""
        return (
            statement.replace("{t}", self.table_prefix)
            .replace("{n}", self.projection_name)
            .replace("?", self.placeholder)
        )

    table_prefix: str  # the view's table-name prefix (qualified by schema on PostgreSQL)


class SQLiteView(BatchingView, SQLiteTrackingRecorder):
    placeholder = "?"
    tracking_table = "tracking"

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._cursor = None
        self.discard()  # per-batch memory starts empty

    @property
    def table_prefix(self) -> str:
        return self.projection_name

    shapes_table = "view_shapes"

    def _exists(self, c: Any, table: str) -> bool:
        if not table:
            return False
        c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return c.fetchone() is not None

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *(self.sql(s) for s in self.all_ddl())]


class PostgresView(BatchingView, PostgresTrackingRecorder):
    placeholder = "%s"

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._cursor = None
        self.discard()  # per-batch memory starts empty
        self._prefix = f'"{self.datastore.schema}".{self.tracking_table_name.removesuffix("_tracking")}'
        self.tracking_table = f'"{self.datastore.schema}".{self.tracking_table_name}'
        from psycopg.sql import SQL

        self.sql_create_statements.extend(SQL(self.sql(s)) for s in self.all_ddl())  # type: ignore[arg-type]

    @property
    def table_prefix(self) -> str:
        return self._prefix

    @property
    def shapes_table(self) -> str:  # type: ignore[override]
        return f'"{self.datastore.schema}".view_shapes'

    def _exists(self, c: Any, table: str) -> bool:
        if not table:
            return False
        c.execute("SELECT to_regclass(%s) AS found", (table,))
        row = c.fetchone()
        return row is not None and row["found"] is not None


def is_postgres(env: dict[str, str]) -> bool:
    return env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"


def view_env(env: dict[str, str], name: str, data_dir: Path | None) -> dict[str, str]:
    """The env a projection's view is built from."""
    out = {k: v for k, v in env.items() if not k.startswith(("CIPHER_", "COMPRESSOR_"))}
    if is_postgres(env):
        out["POSTGRES_POOL_SIZE"] = "1"
        out["POSTGRES_MAX_OVERFLOW"] = "4"
    else:
        ledger_file = Path(env["SQLITE_DBNAME"])
        view_file = ledger_file.with_name(f"{ledger_file.stem}.{name}{ledger_file.suffix or '.sqlite'}")
        if ledger_file.parent.is_dir():
            private_file(view_file)  # 0600 whatever the umask, like the ledger's own file
        out["SQLITE_DBNAME"] = str(view_file)
    return out
