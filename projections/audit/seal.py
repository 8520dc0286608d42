"""The Sealer: extends the seal's hash chain over the stored events, checkpoints it, verifies it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Self
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.audit.seal import (
    GENESIS,
    MALFORMED,
    Checkpoint,
    Digest,
    Row,
    VerifyResult,
    chain,
    parse_digests,
    verify_chain,
)
from projections.audit.seal_storage import open_storage

DEFAULT_INTERVAL = 1000


DEFAULT_BATCH = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Sealer:
    """Seals the ledger's event store and verifies it.

    `Sealer(runtime)` or `Sealer(app, env)`, where env is the eventsourcing persistence env
    (for a runtime: `runtime.config.persistence`). Use it as a context manager, or `close()` it."""

    def __init__(self, runtime_or_app: Any, env: dict[str, str] | None = None, *, interval: int | None = None,
                 batch: int = DEFAULT_BATCH, clock: Callable[[], datetime] | None = None) -> None:
        if interval is None:  # the configured checkpoint interval (RELIEF_SEAL_INTERVAL)
            interval = getattr(getattr(runtime_or_app, "config", None), "seal_interval", DEFAULT_INTERVAL)
        if interval < 1 or batch < 1:
            raise ValueError("interval and batch must be at least 1")
        app = getattr(runtime_or_app, "app", runtime_or_app)
        if env is None:
            config = getattr(runtime_or_app, "config", None)
            if config is None:
                raise ValueError("Sealer(app, env): the persistence env is needed with a bare application")
            env = dict(config.persistence)
        if clock is None:
            clock = getattr(runtime_or_app, "now", None) or _utc_now
        self.app = app
        self.storage = open_storage(env, app)
        self.interval = interval
        self.batch = batch
        self.clock = clock
        self.last_sealed = 0
        """How many events the last `seal()` added to the chain."""

    # --- sealing -------------------------------------------------------------------------------

    def seal(self, progress: Callable[[int], None] | None = None, *, checkpoint_head: bool = True) -> Checkpoint | None:
        """Chain the notifications after the sealed head, batch by batch, with a checkpoint every
        `interval` sealed events; then (unless `checkpoint_head` is off) a checkpoint at the head."""
        self.storage.create_tables()
        self.last_sealed = 0
        while True:
            with self.storage.writing() as cur:
                head = self.storage.head(cur)
                after, count, prev = (head[0], head[1], bytes.fromhex(head[2])) if head else (None, 0, GENESIS)
                rows = self.storage.read_events(after, self.batch)
                if not rows:
                    break
                now = self.clock()
                links: list[tuple[int, int, str]] = []
                checkpoints: list[tuple[int, int, str, datetime]] = []
                for position, value in chain(rows, prev):
                    count += 1
                    links.append((position, count, value.hex()))
                    if count % self.interval == 0:
                        checkpoints.append((position, count, value.hex(), now))
                self.storage.insert_links(cur, links)
                self.storage.insert_checkpoints(cur, checkpoints)
            self.last_sealed += len(rows)
            if progress:
                progress(len(rows))
        return self.checkpoint() if checkpoint_head else None

    def checkpoint(self) -> Checkpoint:
        """A checkpoint at the sealed head (the existing one if the head has one already)."""
        self.storage.create_tables()
        with self.storage.writing() as cur:
            head = self.storage.head(cur)
            if head is None:
                return Checkpoint(0, 0, GENESIS.hex(), self.clock())  # empty store: the genesis value
            existing = self.storage.checkpoint_at(head[0], cur)
            if existing is not None:
                return existing
            made = Checkpoint(head[0], head[1], head[2], self.clock())
            self.storage.insert_checkpoints(cur, [(made.position, made.count, made.digest, made.created_at)])
            return made

    # --- reading -------------------------------------------------------------------------------

    def head(self) -> tuple[int, int, str] | None:
        """(position, count, link hex) of the last sealed event, or None."""
        return self.storage.head() if self.storage.tables_exist() else None

    def latest_checkpoint(self) -> Checkpoint | None:
        return self.storage.latest_checkpoint() if self.storage.tables_exist() else None

    def checkpoints(self) -> Iterator[Checkpoint]:
        if self.storage.tables_exist():
            yield from self.storage.iter_checkpoints(self.batch)

    def links(self) -> Iterator[tuple[int, str]]:
        if self.storage.tables_exist():
            yield from self.storage.iter_links(None, self.batch)

    # --- verifying -----------------------------------------------------------------------------

    def verify(self, digest_line: str | None = None, *, digests: Sequence[Digest] = (),
               progress: Callable[[int], None] | None = None) -> VerifyResult:
        """Recompute the chain from the event store and compare it with the seal's links and
        checkpoints, and with published digests: `digest_line` is one digest line or the text of
        a digest file (several lines). Read-only; streams in batches."""
        published = list(digests) + (parse_digests(digest_line) if digest_line else [])
        sealed = self.storage.tables_exist()
        head = self.storage.head() if sealed else None
        sealed_head = head[0] if head else None
        last_checkpoint = self.storage.max_checkpoint_position() if sealed else None
        ends = [p for p in (sealed_head, last_checkpoint, *(d.position for d in published)) if p is not None]
        if not ends:
            return VerifyResult(True, None, None, 0, None, None, "nothing sealed yet and no digest given")
        upto = max(ends)

        unreadable: list[int] = []

        def rows() -> Iterator[Row]:
            pending = 0
            for row in self.storage.iter_events(upto, self.batch):
                if not self._readable(row):
                    unreadable.append(row.position)
                yield row
                pending += 1
                if progress and pending == self.batch:
                    progress(pending)
                    pending = 0
            if progress and pending:
                progress(pending)

        links = self.storage.iter_links(sealed_head, self.batch) if sealed_head is not None else iter(())
        checkpoints = ((c.position, c.digest) for c in self.storage.iter_checkpoints(self.batch)) if sealed else ()
        result = verify_chain(rows(), links, sealed_head, published, checkpoints)
        if not unreadable:
            return result
        shown = ", ".join(str(p) for p in unreadable[:20]) + (" …" if len(unreadable) > 20 else "")
        detail = f"{len(unreadable)} stored event(s) cannot be read back (damaged or not decryptable): {shown}"
        return replace(result, ok=False, unreadable=tuple(unreadable),
                       first_bad_position=min(p for p in (result.first_bad_position, unreadable[0]) if p is not None),
                       kind=result.kind or "unreadable",
                       detail=f"{result.detail}; {detail}" if not result.ok else detail)

    def _readable(self, row: Row) -> bool:
        """Whether the row decrypts and decodes into an event (a row the chain flags as malformed is left to it)."""
        mapper = getattr(self.app, "mapper", None)
        if mapper is None or row.originator_id.startswith(MALFORMED):
            return True
        try:
            mapper.to_domain_event(StoredEvent(UUID(row.originator_id), row.originator_version, row.topic, row.state))
        except Exception:  # noqa: BLE001 — the store's reader refused it: that is what is reported
            return False
        return True

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def seal_status(runtime: Any) -> dict[str, Any]:
    """Where the seal stands: the store's head, the sealed head, and the latest checkpoint (for publication)."""
    with Sealer(runtime) as sealer:
        head = sealer.head()
        latest = sealer.latest_checkpoint()
    return {
        "position": runtime.position(),
        "sealed_head": {"position": head[0], "count": head[1]} if head else None,
        "latest": None if latest is None else {
            "position": latest.position, "count": latest.count, "digest": latest.digest,
            "at": latest.created_at, "line": latest.line,
        },
    }
