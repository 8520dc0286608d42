"""Creating, running and rebuilding the projections.

A `Follower` reads the ledger's notification log after its projection's
tracking position, in batches, and applies each batch in one view
transaction (rows + position), so a crash never double-counts or skips.
The same follower runs on both backends: the library's runner has no SQLite
subscription, and batching keeps a rebuild near the log's read rate.

On SQLite each projection has its own database file next to the ledger's
(the library's tracking table keeps one position per followed application
per file). On PostgreSQL the views live beside the event store, and a
per-projection advisory lock keeps two processes from following at once.

`ProjectionHost` runs every projection in background threads inside the
server, woken as soon as a command commits (read-your-writes without a
polling delay); `relief-ledger projections run` runs the same loop as a
separate worker.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.persistence import DataError, InfrastructureFactory, Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import Environment

from ledger.store.errors import DomainError
from ledger.store.text import printable
from projections.registry import PROJECTIONS
from projections.views import is_postgres, view_env

log = logging.getLogger("relief_ledger.projections")

SEAL = "seal"  # the sealer's lock name, beside the projections'

#: What an event's own content can cause (a value no column holds, a NUL PostgreSQL refuses, a row the event
#: expects missing, bytes that do not decode). Anything else — the database unreachable, the position moved
#: by another follower, a misconfiguration, a crash — is not the event's fault: it propagates, nothing is
#: skipped, and the follower retries later.
POISON = (DataError, ValueError, TypeError, LookupError, ArithmeticError, UnicodeError, DomainError)

QUARANTINED = "skipped: an earlier event of this aggregate could not be applied (quarantined)"


BATCH = 500


def open_projection(projection_class: type[Projection[Any]], env: dict[str, str], data_dir: Path | None = None,
                    pii: Any = None) -> Projection[Any]:
    """The projection over its view; `pii` (a PersonalDataKey) for projections that keep personal data."""
    if env.get("PERSISTENCE_MODULE") not in ("eventsourcing.sqlite", "eventsourcing.postgres"):
        raise ValueError("projections need SQLite or PostgreSQL persistence")
    view_class = projection_class.postgres_view if is_postgres(env) else projection_class.sqlite_view  # type: ignore[attr-defined]
    factory = InfrastructureFactory.construct(Environment(projection_class.name, view_env(env, projection_class.name, data_dir)))
    view = factory.tracking_recorder(view_class)
    projection = projection_class(view=view)
    if pii is not None:
        projection.pii = pii  # type: ignore[attr-defined]
    return projection


@dataclass
class Status:
    name: str
    position: int
    head: int
    running: bool
    error: str | None
    dead_letters: int = 0
    """Events this projection could not apply (or skipped: their aggregate is quarantined)."""

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class Follower:
    """Applies the log to one projection, batch by batch."""

    def __init__(self, app: Any, projection: Projection[Any], batch: int = BATCH) -> None:
        self.app = app
        self.projection = projection
        self.batch = batch

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        return self.projection.view.max_tracking_id(self.app.name) or 0

    def catch_up(self, progress: Callable[[int], None] | None = None, stop: threading.Event | None = None) -> int:
        """Process everything after the tracked position; returns how many notifications.

        A batch is applied in one transaction. If it fails, it is applied again one event
        at a time to find the event that cannot be applied: that event is recorded as a
        dead letter (and its aggregate quarantined for this projection) in the transaction
        that moves the position past it, and the projection goes on — one event never
        stops a projection, and nothing is skipped without being listed."""
        last = self.position()
        done = 0
        quarantined = self.projection.view.quarantined()
        while stop is None or not stop.is_set():
            notifications = self.app.recorder.select_notifications(
                start=last, limit=self.batch, inclusive_of_start=False
            )
            if not notifications:
                break
            try:
                self._apply(notifications, last, quarantined)
            except POISON:  # some event of the batch cannot be applied: find it, list it, go on
                self._apply_one_by_one(notifications, last, quarantined)
            last = notifications[-1].id
            done += len(notifications)
            if progress:
                progress(len(notifications))
        return done

    def _apply(self, notifications: list[Any], previous: int, quarantined: set[str]) -> None:
        view = self.projection.view
        events = [self.app.mapper.to_domain_event(n) for n in notifications]  # an undecodable one fails the batch
        with view.batch(Tracking(self.app.name, notifications[-1].id), previous=previous):
            for n, event in zip(notifications, events, strict=True):
                if str(n.originator_id) in quarantined:
                    self._dead_letter(n, QUARANTINED)
                else:
                    self.projection.process_event(event, Tracking(self.app.name, n.id))

    def _apply_one_by_one(self, notifications: list[Any], previous: int, quarantined: set[str]) -> None:
        view = self.projection.view
        for n in notifications:
            try:
                self._apply([n], previous, quarantined)
            except POISON as exc:
                log.error("projection %s cannot apply the event at position %d (%s); quarantining %s",
                          self.name, n.id, type(exc).__name__, n.originator_id)
                with view.batch(Tracking(self.app.name, n.id), previous=previous):
                    self._dead_letter(n, f"{type(exc).__name__}: {exc}")
                quarantined.add(str(n.originator_id))
            previous = n.id

    def _dead_letter(self, n: Any, error: str) -> None:
        self.projection.view.record_dead_letter(n.id, str(n.originator_id), n.originator_version, n.topic,
                                                printable(error))

    def catch_up_until(self, stop: threading.Event) -> Callable[[], int]:
        return lambda: self.catch_up(stop=stop)

    def close(self) -> None:
        self.projection.view.close()

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Process the whole log again into fresh shadow tables, then swap them in (one transaction): the
        live tables answer readers until the swap, and the old ones are dropped, not emptied. A rebuild
        that was interrupted resumes from where its shadow tables stopped."""
        view = self.projection.view
        view.begin_shadow()
        try:
            count = self.catch_up(progress)
            view.swap_in(self.app.name)
        finally:
            view.end_shadow()
        return count

    def wait(self, position: int, timeout: float) -> bool:
        """True once the projection has processed `position` (bounded wait)."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while self.position() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        return True


class AdvisoryLock:
    """One follower per projection across processes: a PostgreSQL session advisory
    lock, or on SQLite an exclusive lock on a file beside the projection's database."""

    def __init__(self, env: dict[str, str], name: str) -> None:
        self.env = env
        self.name = name
        # Advisory locks are per database: the schema keeps two stores in one database apart.
        self.key = zlib.crc32(f"relief-ledger:{env.get('POSTGRES_SCHEMA', 'public')}:{name}".encode())
        self.conn: Any = None
        self.file: Any = None
        self.held = False

    def try_acquire(self) -> bool:
        if self.held:
            return True
        self.held = self._try_file_lock() if not is_postgres(self.env) else self._try_pg_lock()
        return self.held

    def _try_pg_lock(self) -> bool:
        import psycopg

        if self.conn is None:
            self.conn = psycopg.connect(
                dbname=self.env["POSTGRES_DBNAME"], host=self.env["POSTGRES_HOST"],
                port=int(self.env["POSTGRES_PORT"]), user=self.env["POSTGRES_USER"],
                password=self.env.get("POSTGRES_PASSWORD") or None, autocommit=True,
                connect_timeout=int(self.env.get("POSTGRES_CONNECT_TIMEOUT", "5")),
            )
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def _try_file_lock(self) -> bool:
        import fcntl

        path = Path(view_env(self.env, self.name, None)["SQLITE_DBNAME"] + ".lock")
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.file = handle
        return True

    def release(self) -> None:
        self.held = False
        if self.file is not None:
            self.file.close()  # closing releases the lock
            self.file = None
        if self.conn is not None:
            try:
                self.conn.execute("SELECT pg_advisory_unlock_all()")  # free it now, not when the server notices
                self.conn.close()
            finally:
                self.conn = None


class Wakeup:
    """Wakes every thread of a host at once (one event each, so no thread clears another's wake)."""

    def __init__(self) -> None:
        self.events: list[threading.Event] = []

    def new(self) -> threading.Event:
        event = threading.Event()
        self.events.append(event)
        return event

    def set(self) -> None:
        for event in self.events:
            event.set()


class ProjectionHost:
    """Runs followers — and, with `seal=True`, the sealer — in background threads.

    In the projections worker (`projections.worker`), in `relief-ledger projections run`, or
    inside the server in tests (`in-process`). With `run=False` it only reads: the views, their
    positions and waits, for a server whose followers run in a worker process."""

    def __init__(self, runtime: Any, names: list[str] | None = None, idle: float = 0.5, *, seal: bool = False,
                 run: bool = True) -> None:
        self.runtime = runtime
        env = dict(runtime.config.persistence)
        self.followers = {
            name: Follower(runtime.app, open_projection(PROJECTIONS[name], env, runtime.config.data_dir, runtime.pii))
            for name in (names or list(PROJECTIONS))
        }
        self.locks = {name: AdvisoryLock(env, name) for name in self.followers}
        self.run = run
        self.seal = seal and run
        if self.seal:
            self.locks[SEAL] = AdvisoryLock(env, SEAL)
        self.idle = idle
        self.wake = Wakeup()
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.running: set[str] = set()
        self.errors: dict[str, str | None] = {}

    def start(self) -> None:
        if not self.run:
            return
        self.runtime.app.after_save.append(self.wake.set)
        loops: list[tuple[str, Callable[[], int]]] = [(n, f.catch_up_until(self.stop_event))
                                                      for n, f in self.followers.items()]
        if self.seal:
            loops.append((SEAL, self._sealing()))
        for name, step in loops:
            thread = threading.Thread(target=self._loop, args=(name, step, self.wake.new()),
                                      name=f"projection-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def _loop(self, name: str, step: Callable[[], int], woken: threading.Event) -> None:
        backoff = 1.0
        while not self.stop_event.is_set():
            woken.clear()
            try:
                if not self.locks[name].try_acquire():
                    self.errors[name] = "another process is following this projection"
                    self.stop_event.wait(5)
                    continue
                self.running.add(name)
                step()
                self.errors[name] = None
                backoff = 1.0
            except Exception as exc:  # keep going: report it in status and retry
                self.errors[name] = f"{type(exc).__name__}: {exc}"
                log.exception("%s failed; retrying in %.0f s", name, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 60)
                continue
            woken.wait(self.idle)

    def _sealing(self) -> Callable[[], int]:
        """The seal, kept up with the log: links as events are stored, a checkpoint every
        RELIEF_SEAL_INTERVAL events (by the sealer) or every RELIEF_SEAL_MINUTES at the head."""
        from projections.audit.seal import Sealer

        sealer = Sealer(self.runtime)
        minutes = getattr(self.runtime.config, "seal_minutes", 10.0)

        def step() -> int:
            sealer.seal(checkpoint_head=False)
            head = sealer.head()
            latest = sealer.latest_checkpoint()
            due = latest is None or (self.runtime.now() - latest.created_at).total_seconds() >= minutes * 60
            if head is not None and (latest is None or latest.position < head[0]) and due:
                sealer.checkpoint()
            return sealer.last_sealed

        self._sealer = sealer
        return step

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()
        for thread in self.threads:
            thread.join(timeout=10)
        for name, lock in self.locks.items():
            lock.release()
            self.running.discard(name)
        for follower in self.followers.values():
            follower.close()
        sealer = getattr(self, "_sealer", None)
        if sealer is not None:
            sealer.close()

    def status(self) -> list[Status]:
        head = self.runtime.position()
        return [
            Status(name, f.position(), head, name in self.running and not self.stop_event.is_set(),
                   self.errors.get(name), f.projection.view.dead_letter_count())
            for name, f in self.followers.items()
        ]

    def view(self, name: str) -> Any:
        return self.followers[name].projection.view

    def wait(self, position: int, timeout: float, names: list[str] | None = None) -> bool:
        self.wake.set()
        deadline = time.monotonic() + timeout
        for name in names or list(self.followers):
            if not self.followers[name].wait(position, max(deadline - time.monotonic(), 0)):
                return False
        return True


@contextmanager
def caught_up(runtime: Any, name: str, position: int, host: ProjectionHost | None = None,
              timeout: float = 30.0) -> Iterator[Any]:
    """A projection's view that has processed at least `position`: the host's (waited for), or — with
    no host in this process (the CLI) — one opened here and caught up (or, if another process follows
    it, waited for). Raises TimeoutError when it does not get there in time."""
    if host is not None and name in host.followers:
        if not host.wait(position, timeout, [name]):
            raise TimeoutError(f"projection {name} has not reached position {position}")
        yield host.view(name)
        return
    env = dict(runtime.config.persistence)
    follower = Follower(runtime.app, open_projection(PROJECTIONS[name], env, runtime.config.data_dir, runtime.pii))
    lock = AdvisoryLock(env, name)
    try:
        if lock.try_acquire():
            follower.catch_up()
        if not follower.wait(position, timeout):
            raise TimeoutError(f"projection {name} has not reached position {position}")
        yield follower.projection.view
    finally:
        lock.release()
        follower.close()
