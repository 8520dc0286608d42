"""Where sign-in keeps its rows: password hashes, server-side sessions, sign-in attempts (the store layer's
SQL for `ledger.accounts`, which speaks to it only through `AccountStore`).

These are not events: a password hash must never enter the event log (which
is kept for ever and sealed), a session is revocable operational state, and
an attempt log is a throttle. They live in three tables beside the event
store, in the same database, so that a password hash is written in the same
transaction as the `PasswordChanged` event that says who changed it
(`ledger.store.recorders`: side writes). Tables are created on first use.

Times are stored as UTC text (`2026-07-08T06:30:00.000000Z`), which sorts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ledger.store.recorders import PostgresSideWritingRecorder, postgres_sql, sqlite_sql

SQLITE_DDL = [
    "CREATE TABLE IF NOT EXISTS account_credentials (account_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
    " changed_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS account_sessions (session_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
    " role TEXT NOT NULL, scope TEXT NOT NULL, password_generation INTEGER NOT NULL, created_at TEXT NOT NULL,"
    " last_seen_at TEXT NOT NULL, client TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS account_sessions_account ON account_sessions (account_id)",
    "CREATE TABLE IF NOT EXISTS account_sign_ins (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL,"
    " client TEXT NOT NULL, at TEXT NOT NULL, ok INTEGER NOT NULL, reason TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS account_sign_ins_username ON account_sign_ins (username, at)",
    "CREATE INDEX IF NOT EXISTS account_sign_ins_client ON account_sign_ins (client, at)",
]

POSTGRES_DDL = [
    s.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    .replace("CREATE TABLE IF NOT EXISTS ", "CREATE TABLE IF NOT EXISTS {schema}.")
    .replace(" ON account_", " ON {schema}.account_")
    for s in SQLITE_DDL
] + [
    # a session's last_seen_at is updated on every page: room in its page for a HOT update (no index changes)
    "ALTER TABLE {schema}.account_sessions SET (fillfactor = 70)",
]


def utc_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_utc_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class SessionRow:
    account_id: UUID
    role: str
    scope: str
    password_generation: int
    created_at: datetime
    last_seen_at: datetime
    client: str


class AccountStore:
    """The three tables, over the ledger's own datastore (SQLite file or PostgreSQL schema)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._ready = False
        self._lock = threading.Lock()

    # --- plumbing ------------------------------------------------------------------

    @property
    def postgres(self) -> bool:
        return isinstance(self.app.recorder, PostgresSideWritingRecorder)

    def sql(self, statement: str) -> str:
        if self.postgres:
            return postgres_sql(statement, self.app.recorder.datastore.schema or "public")
        return sqlite_sql(statement)

    def _datastore(self) -> Any:
        datastore = getattr(self.app.recorder, "datastore", None)
        if datastore is None:
            raise RuntimeError("sign-in needs the SQLite or PostgreSQL event store")
        if not self._ready:
            with self._lock:
                if not self._ready:
                    with datastore.transaction(commit=True) as c:
                        for statement in POSTGRES_DDL if self.postgres else SQLITE_DDL:
                            c.execute(self.sql(statement))
                    self._ready = True
        return datastore

    def _write(self, statement: str, params: tuple[Any, ...]) -> None:
        with self._datastore().transaction(commit=True) as c:
            c.execute(self.sql(statement), params)

    def _read(self, statement: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self._datastore().transaction(commit=False) as c:
            c.execute(self.sql(statement), params)
            return [dict(row) for row in c.fetchall()]

    def prepare(self) -> None:
        """Create the tables now (before a save that writes to them)."""
        self._datastore()

    # --- credentials -----------------------------------------------------------------

    def password_hash(self, account_id: UUID) -> str | None:
        rows = self._read("SELECT password_hash FROM {schema}.account_credentials WHERE account_id = ?",
                          (account_id.hex,))
        return rows[0]["password_hash"] if rows else None

    def set_password_write(self, account_id: UUID, password_hash: str, at: datetime) -> Callable[[Any, Any], None]:
        """A side write for the `PasswordChanged` save: the new hash, and every session of the account ended."""
        self.prepare()

        def write(c: Any, sql: Callable[[str], str]) -> None:
            c.execute(sql("DELETE FROM {schema}.account_credentials WHERE account_id = ?"), (account_id.hex,))
            c.execute(sql("INSERT INTO {schema}.account_credentials (account_id, password_hash, changed_at)"
                          " VALUES (?, ?, ?)"), (account_id.hex, password_hash, utc_text(at)))
            c.execute(sql("DELETE FROM {schema}.account_sessions WHERE account_id = ?"), (account_id.hex,))

        return write

    def end_sessions_write(self, account_id: UUID) -> Callable[[Any, Any], None]:
        """A side write that ends every session of the account (role or scope changed)."""
        self.prepare()

        def write(c: Any, sql: Callable[[str], str]) -> None:
            c.execute(sql("DELETE FROM {schema}.account_sessions WHERE account_id = ?"), (account_id.hex,))

        return write

    def rehash(self, account_id: UUID, old_hash: str, new_hash: str) -> None:
        """Stronger parameters for the same password (not a password change: no event)."""
        self._write("UPDATE {schema}.account_credentials SET password_hash = ? WHERE account_id = ? AND password_hash = ?",
                    (new_hash, account_id.hex, old_hash))

    # --- sessions ----------------------------------------------------------------------

    def add_session(self, session_hash: str, row: SessionRow) -> None:
        self._write(
            "INSERT INTO {schema}.account_sessions (session_hash, account_id, role, scope, password_generation,"
            " created_at, last_seen_at, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (session_hash, row.account_id.hex, row.role, row.scope, row.password_generation,
             utc_text(row.created_at), utc_text(row.last_seen_at), row.client),
        )

    def session(self, session_hash: str) -> SessionRow | None:
        rows = self._read("SELECT * FROM {schema}.account_sessions WHERE session_hash = ?", (session_hash,))
        if not rows:
            return None
        r = rows[0]
        return SessionRow(UUID(r["account_id"]), r["role"], r["scope"], int(r["password_generation"]),
                          from_utc_text(r["created_at"]), from_utc_text(r["last_seen_at"]), r["client"])

    def touch_session(self, session_hash: str, at: datetime) -> None:
        self._write("UPDATE {schema}.account_sessions SET last_seen_at = ? WHERE session_hash = ?",
                    (utc_text(at), session_hash))

    def end_session(self, session_hash: str) -> None:
        self._write("DELETE FROM {schema}.account_sessions WHERE session_hash = ?", (session_hash,))

    def sessions_of(self, account_id: UUID) -> int:
        rows = self._read("SELECT COUNT(*) AS n FROM {schema}.account_sessions WHERE account_id = ?",
                          (account_id.hex,))
        return int(rows[0]["n"])

    # --- sign-in attempts ----------------------------------------------------------------

    def record_sign_in(self, username: str, client: str, at: datetime, ok: bool, reason: str) -> None:
        self._write("INSERT INTO {schema}.account_sign_ins (username, client, at, ok, reason) VALUES (?, ?, ?, ?, ?)",
                    (username, client, utc_text(at), 1 if ok else 0, reason))

    def failures_since(self, username: str, client: str, since: datetime) -> tuple[int, int]:
        """Failed sign-ins since `since`: (for this username, from this client address)."""
        rows = self._read(
            "SELECT (SELECT COUNT(*) FROM {schema}.account_sign_ins WHERE username = ? AND at >= ? AND ok = 0) AS by_user,"
            " (SELECT COUNT(*) FROM {schema}.account_sign_ins WHERE client = ? AND at >= ? AND ok = 0) AS by_client",
            (username, utc_text(since), client, utc_text(since)),
        )
        return int(rows[0]["by_user"]), int(rows[0]["by_client"])

    def sign_ins(self, limit: int = 100, failed_only: bool = False) -> list[dict[str, Any]]:
        where = "WHERE ok = 0 " if failed_only else ""
        return self._read(f"SELECT username, client, at, ok, reason FROM {{schema}}.account_sign_ins {where}"
                          "ORDER BY id DESC LIMIT ?", (limit,))
