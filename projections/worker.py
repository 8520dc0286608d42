"""The projections worker: every projection and the seal, in one process that the server spawns and supervises.

Requests keep the server's interpreter to themselves: the followers and the
sealer run in a child process (started with `spawn`, never `fork`, so it
shares no threads or connections with the server). The child

- exits when its parent dies (the kernel's parent-death signal, and a check
  of its parent's pid as a fallback), so no orphan keeps following — and on
  PostgreSQL its advisory locks die with its connections;
- is woken the moment events are stored: on PostgreSQL by a statement trigger
  on the events table that NOTIFYs a channel it LISTENs on, on SQLite by
  polling the log's head every 100 ms;
- reports its followers' status to the parent about every second.

The server keeps the views open for reading (`ProjectionHost(run=False)`):
GraphQL, the web pages and `minPosition` waits read the same tables, whose
positions the worker moves. If the worker dies the server starts another,
backing off to at most a minute between attempts.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import asdict
from typing import Any

from projections.runner import ProjectionHost, Status
from projections.views import is_postgres

log = logging.getLogger("relief_ledger.worker")

SQLITE_POLL = 0.1
POSTGRES_IDLE = 2.0  # a safety net: the trigger wakes it first
STATUS_EVERY = 1.0
STATUS_STALE = 5.0


def channel(env: dict[str, str]) -> str:
    """The NOTIFY channel of one store (schemas keep stores in one database apart)."""
    return f"relief_ledger_{env.get('POSTGRES_SCHEMA', 'public')}"[:63]


class WorkerHost(ProjectionHost):
    """The server's side: the views for reading, and the worker process it supervises."""

    def __init__(self, runtime: Any, names: list[str] | None = None) -> None:
        super().__init__(runtime, names, run=False)
        self.names = list(self.followers)
        self.context = multiprocessing.get_context("spawn")
        self.process: Any = None
        self.reports: Any = None
        self.latest: dict[str, dict[str, Any]] = {}
        self.heard_at = 0.0
        self.supervisor: threading.Thread | None = None
        self.restarts = 0

    def start(self) -> None:
        self._spawn()
        self.supervisor = threading.Thread(target=self._supervise, name="projections-supervisor", daemon=True)
        self.supervisor.start()

    def _spawn(self) -> None:
        self.reports = self.context.Queue()
        self.process = self.context.Process(
            target=worker_main, name="relief-ledger projections",
            args=(self.runtime.config, self.names, os.getpid(), self.reports), daemon=True,
        )
        self.process.start()
        log.info("projections worker started (pid %s)", self.process.pid)

    def _supervise(self) -> None:
        backoff = 1.0
        while not self.stop_event.is_set():
            with contextlib.suppress(queue.Empty, EOFError, OSError):
                while True:
                    report = self.reports.get(timeout=0.5)
                    self.latest = {s["name"]: s for s in report}
                    self.heard_at = time.monotonic()
            if self.stop_event.is_set() or self.process.is_alive():
                continue
            log.error("projections worker exited with %s; starting another in %.0f s", self.process.exitcode, backoff)
            if self.stop_event.wait(backoff):
                break
            backoff = min(backoff * 2, 60)
            self.restarts += 1
            self._spawn()

    def stop(self) -> None:
        self.stop_event.set()
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.kill()
        if self.supervisor is not None:
            self.supervisor.join(timeout=5)
        for follower in self.followers.values():
            follower.close()

    def status(self) -> list[Status]:
        head = self.runtime.position()
        fresh = time.monotonic() - self.heard_at < STATUS_STALE and self.process is not None \
            and self.process.is_alive()
        out = []
        for name, follower in self.followers.items():
            reported = self.latest.get(name, {})
            out.append(Status(name, follower.position(), head, fresh and bool(reported.get("running")),
                              reported.get("error") if fresh else "the projections worker is not running",
                              follower.projection.view.dead_letter_count()))
        return out


def worker_main(config: Any, names: list[str], parent: int, reports: Any) -> None:
    """The child process: follow every projection and seal, until the parent goes away or asks it to stop."""
    from ledger.runtime import LedgerRuntime

    _die_with_parent()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    runtime = LedgerRuntime(config)
    env = dict(config.persistence)
    postgres = is_postgres(env)
    host = ProjectionHost(runtime, names, idle=POSTGRES_IDLE if postgres else SQLITE_POLL, seal=True)
    listener = None
    if postgres:
        listener = threading.Thread(target=_listen, args=(runtime, env, host, done), name="listen", daemon=True)
        listener.start()
    host.start()
    try:
        while not done.wait(STATUS_EVERY):
            if os.getppid() != parent:
                break  # the server is gone
            with contextlib.suppress(Exception):
                reports.put([asdict(s) for s in host.status()])
    finally:
        done.set()
        host.stop()
        runtime.close()


def _die_with_parent() -> None:
    """Ask the kernel to send SIGTERM when the parent dies (Linux); the pid check covers the rest."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _listen(runtime: Any, env: dict[str, str], host: ProjectionHost, done: threading.Event) -> None:
    """LISTEN for the events table's trigger; wake the followers on each notification. Reconnects."""
    import psycopg
    from psycopg import sql

    schema = env.get("POSTGRES_SCHEMA", "public")
    table = runtime.app.recorder.events_table_name
    name = channel(env)
    while not done.is_set():
        try:
            with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                                 port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                                 password=env.get("POSTGRES_PASSWORD") or None, autocommit=True,
                                 connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "5"))) as conn:
                conn.execute(sql.SQL(
                    "CREATE OR REPLACE FUNCTION {s}.relief_ledger_notify() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN PERFORM pg_notify({c}, ''); RETURN NULL; END $$"
                ).format(s=sql.Identifier(schema), c=sql.Literal(name)))
                conn.execute(sql.SQL(
                    "CREATE OR REPLACE TRIGGER relief_ledger_notify AFTER INSERT ON {s}.{t}"
                    " FOR EACH STATEMENT EXECUTE FUNCTION {s}.relief_ledger_notify()"
                ).format(s=sql.Identifier(schema), t=sql.Identifier(table)))
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
                host.wake.set()  # whatever arrived while not listening
                while not done.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        host.wake.set()
        except Exception as exc:  # noqa: BLE001 — the database is down or restarting: keep polling meanwhile
            log.warning("LISTEN failed (%s); retrying", type(exc).__name__)
            host.wake.set()
            done.wait(2.0)
