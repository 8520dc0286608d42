"""The seal: a hash chain over every stored event, in notification order (pure logic, no SQL).

Each stored event (a row of the event store, exactly as stored: the state is
the encrypted bytes when the cipher is on) extends the chain:

    link_0 = GENESIS = SHA-256(b"relief-ledger seal v1 genesis")
    link_n = SHA-256( link_{n-1}                               32 bytes
                    || i64be(notification_id)                   8 bytes
                    || u32be(len(id)) || id                     originator_id as stored, UTF-8
                    || i64be(originator_version)                8 bytes
                    || u32be(len(topic)) || topic               UTF-8
                    || SHA-256(state) )                         32 bytes

The chain runs over the notifications actually present (PostgreSQL ids have
gaps), and the id is in the link, so a changed id changes the link. A
checkpoint is the link at one position; its digest line
(`relief-ledger seal v1 position=P digest=<hex> at=<UTC>`) is what gets
published outside the system. Anyone holding the rows can recompute it
with the recipe above.

`verify_chain` walks the stored rows and the stored links side by side and
names the first position where they part: a link whose event is gone
(deleted), an event below the sealed head that has no link (inserted), or a
recomputed link that differs from the stored one (altered). Published digests
and the stored checkpoints are compared on the way, so a rewrite of the
seal's own tables is caught by a digest published before it.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple
from uuid import UUID

VERSION = "v1"


GENESIS = hashlib.sha256(b"relief-ledger seal v1 genesis").digest()


LINE_PREFIX = f"relief-ledger seal {VERSION}"


MALFORMED = "\x00malformed:"
"""Prefix of the originator id given to a row whose stored values have types the library never writes."""


_I64 = struct.Struct(">q")


_U32 = struct.Struct(">I")


Kind = Literal["altered", "deleted", "inserted", "digest", "checkpoint", "unreadable"]


class Row(NamedTuple):
    """One stored event, as the chain reads it."""

    position: int  # the notification id (SQLite rowid, PostgreSQL notification_id)
    originator_id: str  # as stored (SQLite: 32 hex digits; PostgreSQL: uuid as text)
    originator_version: int
    topic: str
    state: bytes


def canonical_row(position: int, originator_id: Any, originator_version: Any, topic: Any, state: Any) -> Row:
    """A Row from the raw column values of one stored event.

    The library always writes a text/uuid id, an integer version, a text topic and
    bytes. Values of any other type (SQLite keeps whatever is written into a column)
    can only come from outside the library; such a row gets an originator id that no
    genuine row can have, so its link never equals the link of the row it replaced."""
    if isinstance(state, memoryview | bytearray):
        state = bytes(state)
    if isinstance(originator_id, UUID):  # PostgreSQL without a cast
        originator_id = str(originator_id)
    well_typed = (
        isinstance(originator_id, str)
        and isinstance(originator_version, int) and not isinstance(originator_version, bool)
        and isinstance(topic, str)
        and isinstance(state, bytes)
    )
    if well_typed:
        return Row(position, originator_id, originator_version, topic, state)
    raw = (originator_id, originator_version, topic, state)
    return Row(position, MALFORMED + repr(tuple(type(v).__name__ for v in raw)), -1, MALFORMED, repr(raw).encode())


def link(prev: bytes, row: Row) -> bytes:
    """The link after `prev` for one stored event (32 bytes)."""
    oid = row.originator_id.encode("utf-8", "surrogatepass")
    topic = row.topic.encode("utf-8", "surrogatepass")
    return hashlib.sha256(
        b"".join((
            prev,
            _I64.pack(row.position),
            _U32.pack(len(oid)), oid,
            _I64.pack(row.originator_version),
            _U32.pack(len(topic)), topic,
            hashlib.sha256(row.state).digest(),
        ))
    ).digest()


def chain(rows: Iterable[Row], prev: bytes = GENESIS) -> Iterator[tuple[int, bytes]]:
    """(position, link) for each row in turn, continuing from `prev`."""
    for row in rows:
        prev = link(prev, row)
        yield row.position, prev


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Digest:
    """A published digest: the chain's value at `position`."""

    position: int
    digest: str  # 64 hex digits
    at: str | None = None  # when it was taken (UTC, ISO 8601 with Z)

    @property
    def line(self) -> str:
        line = f"{LINE_PREFIX} position={self.position} digest={self.digest}"
        return f"{line} at={self.at}" if self.at else line


@dataclass(frozen=True)
class Checkpoint:
    """The chain's value at a sealed position: `count` events are sealed up to and including `position`."""

    position: int
    count: int
    digest: str
    created_at: datetime

    @property
    def line(self) -> str:
        """The line to publish outside the system."""
        return self.as_digest().line

    def as_digest(self) -> Digest:
        return Digest(self.position, self.digest, utc_stamp(self.created_at))


_LINE = re.compile(
    rf"^{re.escape(LINE_PREFIX)} position=(-?\d+) digest=([0-9a-fA-F]{{64}})(?: at=(\S+))?$"
)


class DigestFormatError(ValueError):
    pass


def parse_digest(line: str) -> Digest:
    """One digest line (surrounding whitespace ignored)."""
    m = _LINE.match(line.strip())
    if not m:
        raise DigestFormatError(
            f"not a seal digest line (expected '{LINE_PREFIX} position=<n> digest=<64 hex> [at=<time>]'): "
            f"{line.strip()[:120]!r}"
        )
    return Digest(int(m.group(1)), m.group(2).lower(), m.group(3))


def parse_digests(text: str) -> list[Digest]:
    """Every digest line of a published text (blank lines and lines starting with # are skipped),
    ordered by position. Two different digests for one position are refused."""
    found: dict[int, Digest] = {}
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        d = parse_digest(raw)
        if d.position in found and found[d.position].digest != d.digest:
            raise DigestFormatError(f"two different digests for position {d.position}")
        found[d.position] = d
    if not found:
        raise DigestFormatError("no seal digest line found")
    return [found[p] for p in sorted(found)]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    first_bad_position: int | None
    kind: Kind | None
    checked: int
    """How many stored events were recomputed (and compared with their link, where sealed)."""
    sealed_head: int | None = None
    """The last sealed position when the check began."""
    bounds: tuple[int | None, int] | None = None
    """When only a range is known (a digest or checkpoint mismatch): the first bad position
    is after bounds[0] (None: from the start) and at or before bounds[1]."""
    detail: str = ""
    unreadable: tuple[int, ...] = ()
    """Positions of stored events that cannot be read back (damaged bytes, a wrong key), intact chain or not."""

    def summary(self) -> str:
        if self.ok:
            return f"OK: {self.detail}"
        if self.kind == "unreadable":
            return f"DAMAGED: {self.detail}"
        return f"TAMPERED: {self.detail}"


_ABSENT: Any = object()


def verify_chain(
    rows: Iterable[Row],
    links: Iterable[tuple[int, str]],
    sealed_head: int | None,
    digests: Sequence[Digest] = (),
    checkpoints: Iterable[tuple[int, str]] = (),
) -> VerifyResult:
    """Recompute the chain over `rows` and compare it with the stored `links`, the stored
    `checkpoints` (position, digest) and the published `digests`; stop at the first difference.

    `rows`, `links` and `checkpoints` must be in ascending position (they are read lazily, so
    they can stream from the database). `rows` must hold every stored event up to the last
    position any link, checkpoint or digest refers to; `links` the sealed links (up to
    `sealed_head`). A row below the sealed head without a link is an insertion; rows above
    it are chained only to reach a digest."""
    targets = iter(heapq.merge(
        ((d.position, 0, "digest", d.digest.lower()) for d in sorted(digests, key=lambda d: d.position)),
        ((p, 1, "checkpoint", str(h).lower()) for p, h in checkpoints),
    ))
    pending: Any = next(targets, _ABSENT)
    row_iter = iter(rows)
    link_iter = iter(links)
    prev = GENESIS
    checked = 0
    last_position: int | None = None  # of the last row chained
    matched: dict[str, int | None] = {"digest": None, "checkpoint": None}

    def settle(before: int | None, at: int | None = None) -> VerifyResult | None:
        """Compare the targets whose chain value is now final: at a position < before (the value
        there is the link of the last row at or before it), or == at (the row just chained)."""
        nonlocal pending
        while pending is not _ABSENT:
            pos, _, kind, expected = pending
            if not (before is None or pos < before or pos == at):
                return None
            pending = next(targets, _ABSENT)
            if prev.hex() == expected:
                matched[kind] = pos
                continue
            after = matched[kind]
            what = "published digest" if kind == "digest" else "stored checkpoint"
            where = "the start" if after is None else f"position {after}"
            gone = "" if last_position == pos else f" (no stored event is at position {pos} now)"
            rewritten = ("the seal's own tables were rewritten to match" if kind == "digest"
                         else "the seal's links or checkpoints were rewritten")
            return VerifyResult(
                False, None, kind, checked, sealed_head, (after, pos),  # type: ignore[arg-type]
                f"the chain recomputed from the event store does not match the {what} at position {pos}"
                f"{gone}: an event after {where} and at or before position {pos} was changed, deleted "
                f"or inserted, and {rewritten}",
            )
        return None

    head_text = "nothing sealed" if sealed_head is None else f"sealed head {sealed_head}"
    row: Any = next(row_iter, _ABSENT)
    stored: Any = next(link_iter, _ABSENT)
    while row is not _ABSENT or stored is not _ABSENT:
        if stored is not _ABSENT and (row is _ABSENT or stored[0] < row.position):
            bad = settle(stored[0])
            if bad:
                return bad
            return VerifyResult(False, stored[0], "deleted", checked, sealed_head, None,
                                f"deleted: the event sealed at position {stored[0]} is no longer in the store")
        bad = settle(row.position)
        if bad:
            return bad
        if stored is _ABSENT or stored[0] > row.position:
            if sealed_head is not None and row.position <= sealed_head:
                return VerifyResult(False, row.position, "inserted", checked, sealed_head, None,
                                    f"inserted: position {row.position}, below the {head_text}, holds an event "
                                    "the seal has no link for (inserted afterwards, or its link removed)")
            prev = link(prev, row)  # not sealed yet: chained only to reach a published digest
        else:
            prev = link(prev, row)
            if prev.hex() != str(stored[1]).lower():
                return VerifyResult(False, row.position, "altered", checked + 1, sealed_head, None,
                                    f"altered: the event at position {row.position} no longer matches its seal")
            stored = next(link_iter, _ABSENT)
        checked += 1
        last_position = row.position
        bad = settle(row.position, at=row.position)
        if bad:
            return bad
        row = next(row_iter, _ABSENT)
    bad = settle(None)
    if bad:
        return bad
    extra = ""
    if digests:
        extra = "; published digest" + ("s" if len(digests) > 1 else "") + " at position " + ", ".join(
            str(d.position) for d in sorted(digests, key=lambda d: d.position)) + " match"
    return VerifyResult(True, None, None, checked, sealed_head, None,
                        f"{checked} events checked, chain intact ({head_text}){extra}")
