"""The seal's storage and its follower: chain every stored event, keep checkpoints, verify.

The seal is not a Projection: it reads the rows of the event store as stored
(the state bytes encrypted when the cipher is on, never decoded) with its own
SQL and its own tracking (the last sealed link), and chains them with
`ledger.audit.seal`.

Storage, per backend, with the same approach as the views (`view_env`):
- SQLite: a file beside the ledger's, `<ledger>.seal.sqlite`, holding
  `seal_links` and `seal_checkpoints`; the event store is read over a
  separate connection to the ledger's file.
- PostgreSQL: the tables `seal_links` and `seal_checkpoints` in the schema of
  the events (env POSTGRES_SCHEMA, default "public"), one connection.

Sealing is incremental and batched: each batch is one transaction that locks
the seal (BEGIN IMMEDIATE on the seal's SQLite file / LOCK TABLE on
PostgreSQL), reads the head link, reads the next notifications after it and
writes their links, and an interval checkpoint for every `interval`-th
sealed event. Two sealers therefore never interleave. After the last batch
a checkpoint is taken at the head. Verification streams the rows, the links
and the checkpoints in batches side by side (constant memory).
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.utils import Environment

from ledger.audit.seal import (
    Checkpoint,
    Row,
    canonical_row,
)
from ledger.store.files import private_file
from projections.views import is_postgres, view_env

SEAL_NAME = "seal"


LINKS = "seal_links"


CHECKPOINTS = "seal_checkpoints"


class SealStorage(ABC):
    """The event store as stored (read) and the seal's own tables (read and written)."""

    # --- the event store -----------------------------------------------------------------------

    @abstractmethod
    def read_events(self, after: int | None, limit: int, upto: int | None = None) -> list[Row]:
        """Stored events with position > after (None: from the very lowest, including ids <= 0)
        and <= upto, ascending, at most `limit`."""

    def iter_events(self, upto: int | None, batch: int) -> Iterator[Row]:
        after: int | None = None
        while True:
            rows = self.read_events(after, batch, upto)
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].position

    # --- the seal's tables ---------------------------------------------------------------------

    @abstractmethod
    def create_tables(self) -> None: ...

    @abstractmethod
    def tables_exist(self) -> bool: ...

    @abstractmethod
    def writing(self) -> Any:
        """A context manager: one locked write transaction; yields a cursor-like object."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = (), cursor: Any = None) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def executemany(self, cursor: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    placeholder = "?"
    links = LINKS
    checkpoints = CHECKPOINTS

    def sql(self, statement: str) -> str:
        return (statement.replace("{links}", self.links).replace("{checkpoints}", self.checkpoints)
                .replace("?", self.placeholder))

    def head(self, cursor: Any = None) -> tuple[int, int, str] | None:
        """(position, count, link hex) of the last sealed event."""
        rows = self.query("SELECT position, seq, link FROM {links} ORDER BY position DESC LIMIT 1", (), cursor)
        return (int(rows[0][0]), int(rows[0][1]), str(rows[0][2])) if rows else None

    def insert_links(self, cursor: Any, rows: Sequence[tuple[int, int, str]]) -> None:
        self.executemany(cursor, "INSERT INTO {links} (position, seq, link) VALUES (?, ?, ?)", rows)

    def insert_checkpoints(self, cursor: Any, rows: Sequence[tuple[int, int, str, datetime]]) -> None:
        self.executemany(cursor, "INSERT INTO {checkpoints} (position, seq, digest, created_at) VALUES (?, ?, ?, ?)",
                         [(p, s, d, self._time_in(t)) for p, s, d, t in rows])

    def iter_links(self, upto: int | None, batch: int) -> Iterator[tuple[int, str]]:
        yield from self._iter("SELECT position, link FROM {links}", upto, batch)

    def iter_checkpoints(self, batch: int) -> Iterator[Checkpoint]:
        for p, s, d, t in self._iter("SELECT position, seq, digest, created_at FROM {checkpoints}", None, batch):
            yield Checkpoint(int(p), int(s), str(d), self._time_out(t))

    def checkpoint_at(self, position: int, cursor: Any = None) -> Checkpoint | None:
        rows = self.query("SELECT position, seq, digest, created_at FROM {checkpoints} WHERE position = ?",
                          (position,), cursor)
        return Checkpoint(int(rows[0][0]), int(rows[0][1]), str(rows[0][2]), self._time_out(rows[0][3])) if rows else None

    def latest_checkpoint(self) -> Checkpoint | None:
        rows = self.query("SELECT position FROM {checkpoints} ORDER BY position DESC LIMIT 1")
        return self.checkpoint_at(int(rows[0][0])) if rows else None

    def max_checkpoint_position(self) -> int | None:
        rows = self.query("SELECT MAX(position) FROM {checkpoints}")
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def _iter(self, select: str, upto: int | None, batch: int) -> Iterator[tuple[Any, ...]]:
        after: int | None = None
        while True:
            where = []
            params: list[Any] = []
            if after is not None:
                where.append("position > ?")
                params.append(after)
            if upto is not None:
                where.append("position <= ?")
                params.append(upto)
            clause = (" WHERE " + " AND ".join(where)) if where else ""
            rows = self.query(f"{select}{clause} ORDER BY position LIMIT ?", (*params, batch))
            yield from rows
            if len(rows) < batch:
                return
            after = int(rows[-1][0])

    def _time_in(self, moment: datetime) -> Any:
        return moment

    def _time_out(self, value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class SQLiteSealStorage(SealStorage):
    """`<ledger>.seal.sqlite` beside the ledger's file; the ledger's file is read on its own connection."""

    placeholder = "?"

    def __init__(self, ledger_path: str, events_table: str = "stored_events", seal_path: str | None = None,
                 timeout: float = 5.0) -> None:
        if ledger_path == ":memory:" or "mode=memory" in ledger_path:
            raise ValueError("the seal needs the ledger in an SQLite file, not in memory")
        self.ledger_path = Path(ledger_path)
        self.seal_path = Path(seal_path) if seal_path else self.ledger_path.with_name(
            f"{self.ledger_path.stem}.{SEAL_NAME}{self.ledger_path.suffix or '.sqlite'}")
        self.events_table = events_table
        self.timeout = timeout
        self._ledger: sqlite3.Connection | None = None
        self._seal: sqlite3.Connection | None = None

    # connections, opened on first use
    def _ledger_conn(self) -> sqlite3.Connection:
        if self._ledger is None:
            if not self.ledger_path.exists():
                raise FileNotFoundError(f"no ledger database at {self.ledger_path}")
            uri = self.ledger_path.resolve().as_uri() + "?mode=rw"  # never creates a file
            self._ledger = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None,
                                           check_same_thread=False)
            # Text that is not UTF-8 (only a hand-made row can hold it) must still be read, and read
            # back to the same bytes: surrogateescape is one-to-one.
            self._ledger.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
        return self._ledger

    def _seal_conn(self) -> sqlite3.Connection:
        if self._seal is None:
            private_file(self.seal_path)
            self._seal = sqlite3.connect(self.seal_path, timeout=self.timeout, isolation_level=None,
                                         check_same_thread=False)
            self._seal.execute("PRAGMA journal_mode=WAL")
        return self._seal

    def read_events(self, after: int | None, limit: int, upto: int | None = None) -> list[Row]:
        where = []
        params: list[Any] = []
        if after is not None:
            where.append("rowid > ?")
            params.append(after)
        if upto is not None:
            where.append("rowid <= ?")
            params.append(upto)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        cur = self._ledger_conn().execute(
            f'SELECT rowid, originator_id, originator_version, topic, state FROM "{self.events_table}"'
            f"{clause} ORDER BY rowid LIMIT ?", (*params, limit))
        return [canonical_row(*r) for r in cur.fetchall()]

    def create_tables(self) -> None:
        c = self._seal_conn()
        c.execute("CREATE TABLE IF NOT EXISTS seal_links (position INTEGER PRIMARY KEY, seq INTEGER NOT NULL, "
                  "link TEXT NOT NULL)")
        c.execute("CREATE TABLE IF NOT EXISTS seal_checkpoints (position INTEGER PRIMARY KEY, seq INTEGER NOT NULL, "
                  "digest TEXT NOT NULL, created_at TEXT NOT NULL)")

    def tables_exist(self) -> bool:
        if not self.seal_path.exists():
            return False
        rows = self._seal_conn().execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('seal_links', 'seal_checkpoints')"
        ).fetchone()
        return bool(rows and rows[0] == 2)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Cursor]:
        c = self._seal_conn()
        cur = c.cursor()
        cur.execute("BEGIN IMMEDIATE")  # the seal's file only: the ledger's writers are never blocked
        try:
            yield cur
        except BaseException:
            c.rollback()
            raise
        else:
            c.commit()

    def query(self, sql: str, params: Sequence[Any] = (), cursor: Any = None) -> list[tuple[Any, ...]]:
        cur = cursor or self._seal_conn()
        return list(cur.execute(self.sql(sql), tuple(params)).fetchall())

    def executemany(self, cursor: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            cursor.executemany(self.sql(sql), rows)

    def _time_in(self, moment: datetime) -> Any:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def close(self) -> None:
        for conn in (self._ledger, self._seal):
            if conn is not None:
                conn.close()
        self._ledger = self._seal = None


class PostgresSealStorage(SealStorage):
    """`seal_links` / `seal_checkpoints` in the events' schema; one connection for everything."""

    placeholder = "%s"

    def __init__(self, env: Environment, events_table: str = "ledger_events") -> None:
        self.env = env
        self.schema = env.get("POSTGRES_SCHEMA") or "public"
        q = self._ident
        self.events = f"{q(self.schema)}.{q(events_table)}"
        self.links = f"{q(self.schema)}.{q(LINKS)}"
        self.checkpoints = f"{q(self.schema)}.{q(CHECKPOINTS)}"
        self._conn: Any = None

    @staticmethod
    def _ident(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def _connection(self) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed:
            e = self.env
            self._conn = psycopg.connect(
                dbname=e.get("POSTGRES_DBNAME"), host=e.get("POSTGRES_HOST") or "127.0.0.1",
                port=int(e.get("POSTGRES_PORT") or "5432"), user=e.get("POSTGRES_USER"),
                password=e.get("POSTGRES_PASSWORD") or None, autocommit=True,
                connect_timeout=int(e.get("POSTGRES_CONNECT_TIMEOUT") or "5"),
                application_name="relief-ledger seal",
            )
        return self._conn

    def read_events(self, after: int | None, limit: int, upto: int | None = None) -> list[Row]:
        where = []
        params: list[Any] = []
        if after is not None:
            where.append("notification_id > %s")
            params.append(after)
        if upto is not None:
            where.append("notification_id <= %s")
            params.append(upto)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        cur = self._connection().execute(
            f"SELECT notification_id, originator_id::text, originator_version, topic, state FROM {self.events}"
            f"{clause} ORDER BY notification_id LIMIT %s", (*params, limit))  # type: ignore[arg-type]
        return [canonical_row(*r) for r in cur.fetchall()]

    def create_tables(self) -> None:
        import psycopg

        conn = self._connection()
        statements = [
            (f"CREATE TABLE IF NOT EXISTS {self.links} (position bigint PRIMARY KEY, seq bigint NOT NULL, "
             "link text NOT NULL)"),
            (f"CREATE TABLE IF NOT EXISTS {self.checkpoints} (position bigint PRIMARY KEY, seq bigint NOT NULL, "
             "digest text NOT NULL, created_at timestamptz NOT NULL)"),
        ]
        for statement in statements:
            try:
                conn.execute(statement)  # type: ignore[arg-type]
            except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
                pass  # created concurrently by another sealer

    def tables_exist(self) -> bool:
        row = self._connection().execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name IN (%s, %s)",
            (self.schema, LINKS, CHECKPOINTS)).fetchone()
        return bool(row and row[0] == 2)

    @contextmanager
    def writing(self) -> Iterator[Any]:
        conn = self._connection()
        with conn.transaction(), conn.cursor() as cur:
            # EXCLUSIVE: other sealers wait, readers (verify) do not.
            cur.execute(f"LOCK TABLE {self.links} IN EXCLUSIVE MODE")  # type: ignore[arg-type]
            yield cur

    def query(self, sql: str, params: Sequence[Any] = (), cursor: Any = None) -> list[tuple[Any, ...]]:
        cur = cursor or self._connection()
        return list(cur.execute(self.sql(sql), tuple(params)).fetchall())

    def executemany(self, cursor: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            cursor.executemany(self.sql(sql), rows)

    def insert_links(self, cursor: Any, rows: Sequence[tuple[int, int, str]]) -> None:
        with cursor.copy(f"COPY {self.links} (position, seq, link) FROM STDIN") as copy:  # ~3x executemany
            for r in rows:
                copy.write_row(r)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def open_storage(env: dict[str, str], app: Any = None) -> SealStorage:
    """The seal's storage for an eventsourcing persistence env (the ledger's)."""
    name = getattr(app, "name", None) or "Ledger"
    environment = Environment(name, env)
    table = getattr(getattr(app, "recorder", None), "events_table_name", None)
    if is_postgres({"PERSISTENCE_MODULE": environment.get("PERSISTENCE_MODULE") or ""}):
        return PostgresSealStorage(environment, table or f"{name.lower()}_events")
    if environment.get("PERSISTENCE_MODULE") != "eventsourcing.sqlite":
        raise ValueError("the seal needs SQLite or PostgreSQL persistence")
    ledger_path = environment.get("SQLITE_DBNAME") or ""
    seal_path = view_env({"SQLITE_DBNAME": ledger_path}, SEAL_NAME, None)["SQLITE_DBNAME"] if ledger_path else None
    return SQLiteSealStorage(ledger_path, table or "stored_events", seal_path)
