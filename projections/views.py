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

A rebuild writes into fresh shadow tables (`{name}__next_*`, with their own
position) while the live tables keep answering, then swaps them in within
one transaction: the live tables are dropped, never emptied row by row, so
a rebuild leaves no dead rows behind on PostgreSQL. Tables updated in place
are created with a fillfactor that leaves room for HOT updates (`{ff}`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ledger.store.files import private_file

DEAD_LETTERS_DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_dead_letters (position BIGINT PRIMARY KEY, originator_id TEXT NOT NULL,"
    " originator_version BIGINT NOT NULL, topic TEXT NOT NULL, error TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {n}_dead_letters_originator ON {t}_dead_letters (originator_id)",
]


SHADOW = "__next"
FILLFACTOR = 70  # percent of a page filled by inserts; the rest takes HOT updates of its rows


class BatchingView:
    """What every view offers the runner and the readers, whatever the backend."""

    projection_name: str
    placeholder: str  # "?" on SQLite, "%s" on PostgreSQL
    fillfactor_clause = ""  # `{ff}` in a CREATE TABLE: the backend's storage option for in-place updates
    _cursor: Any = None
    shadow = False  # writing the shadow tables of a rebuild

    own_tables: tuple[str, ...] = ()

    def view_tables(self) -> list[str]:
        """The view's own tables and its dead letters (emptied by a rebuild), fully qualified."""
        return [self.sql(t) for t in (*self.own_tables, "{t}_dead_letters")]

    def all_ddl(self) -> list[str]:
        return [*self.table_ddl(), *DEAD_LETTERS_DDL]

    def table_ddl(self) -> list[str]:
        """CREATE TABLE / INDEX statements, with {t} standing for the table-name prefix."""
        return []

    live_tracking_table: str  # the library's tracking table, qualified

    @property
    def tracking_table(self) -> str:
        """Where the position is recorded: the library's table, or during a rebuild the shadow's own."""
        return self.sql("{t}_tracking") if self.shadow else self.live_tracking_table

    def max_tracking_id(self, application_name: str) -> int | None:
        if not self.shadow:
            return super().max_tracking_id(application_name)  # type: ignore[misc]
        rows = self.query(f"SELECT MAX(notification_id) AS n FROM {self.tracking_table} WHERE application_name = ?",
                          [application_name])
        return None if rows[0]["n"] is None else int(rows[0]["n"])

    def create_table(self) -> None:
        self.reshape()
        super().create_table()  # type: ignore[misc]

    def reshape(self) -> None:
        """When the view's tables changed shape (its DDL differs from the one recorded when they were
        made), drop them and forget the position, so the view is rebuilt from the log on this start."""
        fingerprint = self._fingerprint()
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
                if self._exists(c, self.live_tracking_table):
                    c.execute(f"DELETE FROM {self.live_tracking_table}")
            c.execute(self.sql(f"DELETE FROM {shapes} WHERE projection = ?"), (self.projection_name,))
            c.execute(self.sql(f"INSERT INTO {shapes} (projection, fingerprint) VALUES (?, ?)"),
                      (self.projection_name, fingerprint))

    shapes_table: str

    def _fingerprint(self) -> str:
        return hashlib.sha256("\n".join(self.table_ddl()).encode()).hexdigest()

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
        """Empty the view and forget its position, in one transaction (tables dropped and made afresh)."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            c.execute(self.sql(f"DELETE FROM {self.live_tracking_table} WHERE application_name = ?"),
                      (application_name,))
            for table in self.view_tables():
                c.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in self.all_ddl():
                c.execute(self.sql(statement))

    # --- rebuild into shadow tables ------------------------------------------------------------

    def begin_shadow(self) -> None:
        """Write into the shadow tables from now on: those an interrupted rebuild of the same shape left (it
        resumes from their position), or empty ones made afresh."""
        self.shadow = True
        fingerprint = self._fingerprint()
        marker = self.projection_name + SHADOW
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            c.execute(f"CREATE TABLE IF NOT EXISTS {self.shapes_table}"
                      " (projection TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)")
            c.execute(self.sql(f"SELECT fingerprint FROM {self.shapes_table} WHERE projection = ?"), (marker,))
            found = c.fetchone()
            if found is not None and found["fingerprint"] == fingerprint and self._exists(c, self.tracking_table):
                return
            for table in [*self.view_tables(), self.tracking_table]:
                c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute(f"CREATE TABLE {self.tracking_table} (application_name TEXT NOT NULL,"
                      " notification_id BIGINT NOT NULL, PRIMARY KEY (application_name, notification_id))")
            for statement in self.all_ddl():
                c.execute(self.sql(statement))
            c.execute(self.sql(f"DELETE FROM {self.shapes_table} WHERE projection = ?"), (marker,))
            c.execute(self.sql(f"INSERT INTO {self.shapes_table} (projection, fingerprint) VALUES (?, ?)"),
                      (marker, fingerprint))

    def end_shadow(self) -> None:
        """Back to the live tables (an interrupted rebuild's shadow stays, for the next rebuild to resume)."""
        self.shadow = False

    def swap_in(self, application_name: str) -> None:
        """In one transaction: the live tables go, the shadow tables take their names (indexes too) and the
        live position becomes the shadow's."""
        assert self.shadow, "swap_in follows begin_shadow"
        position = self.max_tracking_id(application_name)
        pairs = list(zip(self.view_tables(), self._live(self.view_tables), strict=True))
        shadow_tracking = self.tracking_table
        self.shadow = False
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            for _, live in pairs:
                c.execute(f"DROP TABLE IF EXISTS {live}")
            for shadow, live in pairs:
                c.execute(f"ALTER TABLE {shadow} RENAME TO {self._bare(live)}")
            self._rename_indexes(c, [live for _, live in pairs])
            c.execute(self.sql(f"DELETE FROM {self.live_tracking_table} WHERE application_name = ?"),
                      (application_name,))
            if position is not None:
                c.execute(self.sql(f"INSERT INTO {self.live_tracking_table} (application_name, notification_id)"
                                   " VALUES (?, ?)"), (application_name, position))
            c.execute(f"DROP TABLE {shadow_tracking}")
            c.execute(self.sql(f"DELETE FROM {self.shapes_table} WHERE projection = ?"),
                      (self.projection_name + SHADOW,))

    def _live(self, names: Any) -> list[str]:
        shadow, self.shadow = self.shadow, False
        try:
            return list(names())
        finally:
            self.shadow = shadow

    @staticmethod
    def _bare(table: str) -> str:
        return table.rsplit(".", 1)[-1]

    def _rename_indexes(self, c: Any, tables: list[str]) -> None:
        """Indexes keep the names they were made with: give the swapped tables' indexes their live names."""
        raise NotImplementedError

    def index_statements(self) -> list[str]:
        return [s for s in self.all_ddl() if s.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))]

    def sql(self, statement: str) -> str:
        """Write statements with {t} for the (qualified) table prefix, {n} for the bare
        projection name (index names) and ? for parameters."""
        suffix = SHADOW if self.shadow else ""
        return (
            statement.replace("{t}", self.table_prefix)
            .replace("{n}", self.projection_name + suffix)
            .replace("{ff}", self.fillfactor_clause)
            .replace("?", self.placeholder)
        )

    @property
    def table_prefix(self) -> str:
        """The view's table-name prefix (qualified by schema on PostgreSQL); the shadow's during a rebuild."""
        return self.live_prefix + (SHADOW if self.shadow else "")

    live_prefix: str


class SQLiteView(BatchingView, SQLiteTrackingRecorder):
    placeholder = "?"
    live_tracking_table = "tracking"

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._cursor = None
        self.discard()  # per-batch memory starts empty

    @property
    def live_prefix(self) -> str:  # type: ignore[override]
        return self.projection_name

    shapes_table = "view_shapes"

    def _rename_indexes(self, c: Any, tables: list[str]) -> None:
        """SQLite cannot rename an index: the shadow's are dropped and made again under the live names."""
        marks = ",".join("?" * len(tables))
        c.execute(f"SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
                  tables)
        for row in c.fetchall():
            c.execute(f'DROP INDEX "{row["name"]}"')
        for statement in self.index_statements():
            c.execute(self.sql(statement))

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
        self.live_tracking_table = f'"{self.datastore.schema}".{self.tracking_table_name}'
        from psycopg.sql import SQL

        self.sql_create_statements.extend(SQL(self.sql(s)) for s in self.all_ddl())  # type: ignore[arg-type]

    fillfactor_clause = f" WITH (fillfactor = {FILLFACTOR})"

    @property
    def live_prefix(self) -> str:  # type: ignore[override]
        return self._prefix

    def _rename_indexes(self, c: Any, tables: list[str]) -> None:
        """ALTER INDEX … RENAME: every index of a swapped table loses the shadow mark from its name."""
        schema = self.datastore.schema
        c.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = ANY(%s)",
                  (schema, [self._bare(t) for t in tables]))
        for row in c.fetchall():
            name = row["indexname"]
            if SHADOW in name:
                c.execute(f'ALTER INDEX "{schema}"."{name}" RENAME TO "{name.replace(SHADOW, "", 1)}"')

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
