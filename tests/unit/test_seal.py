"""The seal's chaining and verification logic (ledger.seal), without a database."""

from __future__ import annotations

import hashlib
import struct
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.seal import (
    GENESIS,
    MALFORMED,
    Checkpoint,
    Digest,
    DigestFormatError,
    Row,
    canonical_row,
    chain,
    link,
    parse_digest,
    parse_digests,
    verify_chain,
)

TOPIC = "ledger.account:Account.Registered"


def row(position: int, version: int = 1, state: bytes | None = None, oid: str | None = None) -> Row:
    return Row(position, oid or uuid.UUID(int=abs(position)).hex, version, TOPIC,
               state if state is not None else f"state-{position}".encode())


def sealed(rows: list[Row]) -> list[tuple[int, str]]:
    """The links the sealer would store for `rows`."""
    return [(p, h.hex()) for p, h in chain(rows)]


def by_recipe(prev: bytes, r: Row) -> bytes:
    """The link exactly as the module docstring publishes it, written out independently."""
    oid, topic = r.originator_id.encode(), r.topic.encode()
    return hashlib.sha256(
        prev + struct.pack(">q", r.position) + struct.pack(">I", len(oid)) + oid
        + struct.pack(">q", r.originator_version) + struct.pack(">I", len(topic)) + topic
        + hashlib.sha256(r.state).digest()
    ).digest()


ROWS = [row(p) for p in (1, 2, 3, 5, 8, 9, 10, 14)]  # with gaps, as on PostgreSQL


# --- the link ----------------------------------------------------------------------------------------


def test_genesis_is_the_hash_of_a_fixed_text():
    assert GENESIS == hashlib.sha256(b"relief-ledger seal v1 genesis").digest()


def test_a_link_follows_the_published_recipe():
    prev = GENESIS
    for r in ROWS:
        assert link(prev, r) == by_recipe(prev, r)
        prev = link(prev, r)


@pytest.mark.parametrize("change", [
    lambda r: r._replace(position=r.position + 1),
    lambda r: r._replace(originator_id=uuid.uuid4().hex),
    lambda r: r._replace(originator_version=r.originator_version + 1),
    lambda r: r._replace(topic=r.topic + "x"),
    lambda r: r._replace(state=r.state[:-1] + bytes([r.state[-1] ^ 1])),
    lambda r: r._replace(state=r.state + b"\x00"),
], ids=["id", "originator_id", "version", "topic", "state byte", "state length"])
def test_every_stored_field_is_in_the_link(change):
    r = row(7)
    assert link(GENESIS, change(r)) != link(GENESIS, r)


def test_the_previous_link_is_in_the_link():
    assert link(GENESIS, row(1)) != link(hashlib.sha256(b"other").digest(), row(1))


def test_fields_are_length_prefixed_so_text_cannot_move_between_them():
    a = Row(1, "ab", 1, "c", b"")
    b = Row(1, "a", 1, "bc", b"")
    assert link(GENESIS, a) != link(GENESIS, b)


def test_negative_and_large_positions_and_versions_are_encoded():
    assert link(GENESIS, row(-5)) != link(GENESIS, row(5))
    link(GENESIS, Row(2**63 - 1, "x", 2**63 - 1, "t", b""))


def test_a_chain_continued_from_a_link_equals_the_whole_chain():
    whole = list(chain(ROWS))
    first = list(chain(ROWS[:3]))
    rest = list(chain(ROWS[3:], prev=first[-1][1]))
    assert first + rest == whole
    assert [p for p, _ in whole] == [r.position for r in ROWS]


# --- raw values → rows -------------------------------------------------------------------------------


def test_canonical_row_keeps_well_typed_values_as_stored():
    oid = uuid.uuid4()
    assert canonical_row(3, oid.hex, 2, TOPIC, b"x") == Row(3, oid.hex, 2, TOPIC, b"x")
    assert canonical_row(3, oid, 2, TOPIC, memoryview(b"x")) == Row(3, str(oid), 2, TOPIC, b"x")


@pytest.mark.parametrize("raw", [
    ("a" * 32, "2", TOPIC, b"x"),      # version stored as text
    ("a" * 32, 2, TOPIC, "x"),         # state stored as text
    ("a" * 32, 2, TOPIC, None),        # state NULL
    (None, 2, TOPIC, b"x"),            # originator id NULL
    ("a" * 32, True, TOPIC, b"x"),     # a boolean is not a version
    ("a" * 32, 2, 7, b"x"),            # topic not text
])
def test_a_row_with_types_the_library_never_writes_cannot_match_a_genuine_row(raw):
    odd = canonical_row(4, *raw)
    assert odd.originator_id.startswith(MALFORMED)
    genuine = canonical_row(4, "a" * 32, 2, TOPIC, b"x")
    assert link(GENESIS, odd) != link(GENESIS, genuine)


# --- digest lines ------------------------------------------------------------------------------------


def test_a_checkpoint_prints_a_digest_line_that_parses_back():
    cp = Checkpoint(12345, 12000, "ab" * 32, datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    assert cp.line == f"relief-ledger seal v1 position=12345 digest={'ab' * 32} at=2026-11-24T12:00:00Z"
    assert parse_digest("  " + cp.line + "\n") == Digest(12345, "ab" * 32, "2026-11-24T12:00:00Z")
    assert parse_digest(f"relief-ledger seal v1 position=7 digest={'AB' * 32}") == Digest(7, "ab" * 32, None)


@pytest.mark.parametrize("line", [
    "", "hello", f"relief-ledger seal v2 position=1 digest={'a' * 64}",
    f"relief-ledger seal v1 position=x digest={'a' * 64}", "relief-ledger seal v1 position=1 digest=abc",
    f"relief-ledger seal v1 position=1 digest={'g' * 64}",
])
def test_anything_else_is_not_a_digest_line(line):
    with pytest.raises(DigestFormatError):
        parse_digest(line)


def test_a_digest_file_holds_many_lines_in_any_order_with_comments():
    text = "\n".join([
        "# published to the city office",
        f"relief-ledger seal v1 position=20 digest={'b' * 64} at=2026-11-24T12:00:00Z",
        "",
        f"relief-ledger seal v1 position=10 digest={'a' * 64}",
        f"relief-ledger seal v1 position=20 digest={'b' * 64}",  # published twice: fine
    ])
    assert [d.position for d in parse_digests(text)] == [10, 20]
    with pytest.raises(DigestFormatError, match="two different digests"):
        parse_digests(text + f"\nrelief-ledger seal v1 position=10 digest={'c' * 64}")
    with pytest.raises(DigestFormatError, match="no seal digest"):
        parse_digests("# nothing\n\n")


# --- verification ------------------------------------------------------------------------------------


def digest_at(rows: list[Row], position: int) -> Digest:
    value = GENESIS
    for p, h in chain(rows):
        if p <= position:
            value = h
    return Digest(position, value.hex())


def test_an_untouched_store_is_intact():
    result = verify_chain(ROWS, sealed(ROWS), 14)
    assert (result.ok, result.first_bad_position, result.kind, result.checked) == (True, None, None, len(ROWS))


def test_nothing_sealed_and_nothing_published_checks_nothing():
    result = verify_chain([], [], None)
    assert result.ok and result.checked == 0


@pytest.mark.parametrize("index", range(len(ROWS)))
def test_an_altered_row_is_reported_at_its_position(index):
    links = sealed(ROWS)
    rows = list(ROWS)
    rows[index] = rows[index]._replace(state=b"forged")
    result = verify_chain(rows, links, 14)
    assert (result.ok, result.kind, result.first_bad_position) == (False, "altered", ROWS[index].position)


@pytest.mark.parametrize("index", range(len(ROWS)))
def test_a_deleted_row_is_reported_at_its_position(index):
    links = sealed(ROWS)
    rows = ROWS[:index] + ROWS[index + 1:]
    result = verify_chain(rows, links, 14)
    assert (result.ok, result.kind, result.first_bad_position) == (False, "deleted", ROWS[index].position)


@pytest.mark.parametrize("position", [-3, 0, 4, 6, 7, 11, 13])
def test_a_row_inserted_below_the_sealed_head_is_reported_at_its_position(position):
    links = sealed(ROWS)
    rows = sorted([*ROWS, row(position, oid=uuid.uuid4().hex)], key=lambda r: r.position)
    result = verify_chain(rows, links, 14)
    assert (result.ok, result.kind, result.first_bad_position) == (False, "inserted", position)


def test_rows_after_the_sealed_head_are_not_sealed_yet_and_not_an_error():
    links = sealed(ROWS[:5])
    result = verify_chain(ROWS, links, ROWS[4].position)
    assert result.ok and result.checked == len(ROWS)


def test_a_published_digest_is_recomputed_from_genesis_even_past_the_sealed_head():
    links = sealed(ROWS[:3])
    result = verify_chain(ROWS, links, 3, digests=[digest_at(ROWS, 14)])
    assert result.ok and result.checked == len(ROWS)
    between = digest_at(ROWS, 12)  # a position without an event: the value of the last event before it
    assert between.digest == digest_at(ROWS, 10).digest
    assert verify_chain(ROWS, sealed(ROWS), 14, digests=[between]).ok


def test_a_digest_catches_a_rewrite_of_the_seal_to_match_the_forged_rows():
    published = [digest_at(ROWS, p) for p in (3, 9, 14)]
    rows = list(ROWS)
    rows[4] = rows[4]._replace(state=b"forged")  # position 8
    rewritten = sealed(rows)  # the seal rebuilt over the forged rows
    assert verify_chain(rows, rewritten, 14).ok  # the seal alone cannot tell
    result = verify_chain(rows, rewritten, 14, digests=published[-1:])
    assert (result.ok, result.kind, result.first_bad_position, result.bounds) == (False, "digest", None, (None, 14))
    result = verify_chain(rows, rewritten, 14, digests=published)
    assert (result.kind, result.bounds) == ("digest", (3, 9))  # between the last matching and the first not


def test_a_digest_at_a_deleted_tail_position_does_not_match():
    published = [digest_at(ROWS, 14)]
    rows = ROWS[:-1]
    result = verify_chain(rows, sealed(rows), 10, digests=published)
    assert (result.ok, result.kind, result.bounds) == (False, "digest", (None, 14))
    assert "no stored event is at position 14" in result.detail


def test_stored_checkpoints_catch_links_rewritten_without_them():
    checkpoints = [(p, digest_at(ROWS, p).digest) for p in (3, 9, 14)]
    rows = list(ROWS)
    rows[5] = rows[5]._replace(topic="forged")  # position 9
    result = verify_chain(rows, sealed(rows), 14, checkpoints=checkpoints)
    assert (result.ok, result.kind, result.bounds) == (False, "checkpoint", (3, 9))


def test_the_first_difference_wins():
    rows = list(ROWS)
    rows[2] = rows[2]._replace(state=b"forged")  # position 3
    del rows[5]  # position 9
    result = verify_chain(rows, sealed(ROWS), 14, digests=[digest_at(ROWS, 14)])
    assert (result.kind, result.first_bad_position) == ("altered", 3)


@settings(max_examples=300, deadline=None)
@given(
    positions=st.lists(st.integers(1, 60), min_size=1, max_size=30, unique=True).map(sorted),
    tamper=st.sampled_from(["alter", "delete", "insert"]),
    pick=st.integers(0, 10_000),
    gap_pick=st.integers(-5, 70),
)
def test_any_single_tampering_is_found_at_its_position(positions, tamper, pick, gap_pick):
    rows = [row(p, state=bytes([p % 256]) * (p % 7)) for p in positions]
    links = sealed(rows)
    head = positions[-1]
    if tamper == "insert":
        free = [p for p in range(-5, head) if p not in positions]
        if not free:
            return
        target = free[gap_pick % len(free)]
        tampered = sorted([*rows, row(target, oid="f" * 32)], key=lambda r: r.position)
        expected = ("inserted", target)
    else:
        i = pick % len(rows)
        target = rows[i].position
        if tamper == "alter":
            tampered = rows[:i] + [rows[i]._replace(originator_version=7)] + rows[i + 1:]
            expected = ("altered", target)
        else:
            tampered = rows[:i] + rows[i + 1:]
            expected = ("deleted", target)
    result = verify_chain(tampered, links, head)
    assert (result.ok, result.kind, result.first_bad_position) == (False, *expected)
