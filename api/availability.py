"""When the database is unreachable: answer 503 at once, say so on /health, and recover by itself.

The storage library retries a failed connection ten times, each waiting up to
the pool's timeout, so a request could hang for half a minute while the
database is gone. The guard bounds that:

- a pool waits at most `RELIEF_STORAGE_WAIT_SECONDS` (1 s) for a connection
  at a time (the library retries); the first failure to get or use one
  starts a probe, and if the probe cannot connect either, the database is
  marked down (a pool that is merely busy is not an outage);
- while it is down, every request that needs it is answered 503 with
  `Retry-After` before it touches the store, and the connection pools refuse
  at once instead of waiting (so requests already inside fail within a couple
  of seconds too);
- a probe connects every second (with a short connect timeout); the moment
  it succeeds the database is marked up again — no restart. The pools check
  a connection before lending it, so connections the outage broke are
  replaced rather than used.

Only PostgreSQL is guarded: an SQLite file that is busy is a 503 of its own
(`storage_busy`), not an outage.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from api.errors import error_body

log = logging.getLogger("relief_ledger.availability")

OPEN_PATHS = ("/health", "/static/", "/docs", "/openapi.json", "/favicon")
RETRY_AFTER = 5


@dataclass
class StorageGuard:
    """Whether the database answers; pools that refuse at once while it does not."""

    env: dict[str, str]
    wait: float = 1.0
    probe_every: float = 1.0
    down_since: datetime | None = None
    reason: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _probe: threading.Thread | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def guard_pool(self, datastore: Any) -> None:
        """Make `datastore`'s pool refuse at once while the database is down (a library datastore)."""
        pool = getattr(datastore, "pool", None)
        if pool is None or getattr(pool, "_relief_guarded", False):
            return
        lend = pool.getconn

        def getconn(timeout: float | None = None) -> Any:
            if self.down:
                from psycopg_pool import PoolTimeout

                raise PoolTimeout("the database is unreachable (refused at once while it is down)")
            try:
                return lend(timeout=min(timeout or self.wait, self.wait))
            except Exception as exc:
                self.suspect(exc)
                raise

        pool.getconn = getconn
        pool._relief_guarded = True

    def suspect(self, exc: BaseException) -> None:
        """Getting or using a connection failed: probe the database (once at a time)."""
        with self._lock:
            if self._probe is not None and self._probe.is_alive() or self._stopped.is_set():
                return
            self._probe = threading.Thread(target=self._probing, args=(type(exc).__name__,), name="storage-probe",
                                           daemon=True)
            self._probe.start()

    def _reachable(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                dbname=self.env["POSTGRES_DBNAME"], host=self.env["POSTGRES_HOST"],
                port=int(self.env["POSTGRES_PORT"]), user=self.env["POSTGRES_USER"],
                password=self.env.get("POSTGRES_PASSWORD") or None, connect_timeout=2, autocommit=True,
            ) as conn:
                conn.execute("SELECT 1")
        except Exception:  # noqa: BLE001 — any failure to connect and answer is "unreachable"
            return False
        return True

    def _probing(self, reason: str) -> None:
        if self._reachable():
            return  # a busy pool or one broken connection, not an outage
        with self._lock:
            self.down_since, self.reason = datetime.now(UTC), reason
        log.error("database unreachable (%s): answering 503 until it is back", reason)
        while not self._stopped.wait(self.probe_every):
            if self._reachable():
                with self._lock:
                    since, self.down_since = self.down_since, None
                log.warning("database reachable again after %.0f s",
                            (datetime.now(UTC) - since).total_seconds() if since else 0)
                return

    def health(self) -> dict[str, Any]:
        if self.down_since is None:
            return {"database": "up"}
        return {"database": "down", "down_since": self.down_since.isoformat(), "reason": self.reason}

    def stop(self) -> None:
        self._stopped.set()


class Unreachable503:
    """ASGI middleware: while the guard says the database is down, answer 503 before a route runs."""

    def __init__(self, app: Callable[..., Awaitable[None]], guard: StorageGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.guard.down or scope["path"].startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        import json

        body = json.dumps(error_body(
            "storage_unreachable", "数据库暂时无法连接，请稍后重试 / the database is unreachable; retry shortly",
            details={"down_since": self.guard.down_since.isoformat() if self.guard.down_since else None},
        ), ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", str(RETRY_AFTER).encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
