"""The seal over a real event store: tampering with rows by raw SQL is found at its position.

A store of about 30 events is made by real commands (accounts, tokens, a 初报
and 续报), sealed, and then altered, cut or added to directly in the database
— sqlite3 on the ledger's file, psycopg on the PostgreSQL schema — the way
someone with database access and no business going through the application
would. Every test runs on SQLite and on PostgreSQL unless it says otherwise.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from typer.testing import CliRunner

from ledger.accounts.aggregate import account_id
from ledger.accounts.service import local_operator
from ledger.audit.seal import GENESIS, canonical_row, chain, parse_digest
from ledger.runtime import LedgerRuntime
from projections.audit.seal import Sealer
from projections.views import is_postgres
from tests.projections.builders import CHENJIAGANG, XIANGSHUI, initial, report


class Raw:
    """Direct SQL on the event store and on the seal's tables, bypassing the application."""

    def __init__(self, env: dict[str, str]) -> None:
        self.pg = is_postgres(env)
        if self.pg:
            import psycopg

            self.conn: Any = psycopg.connect(
                dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
                user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None, autocommit=True)
            schema = f'"{env.get("POSTGRES_SCHEMA", "public")}"'
            self.events, self.id, self.oid = f"{schema}.ledger_events", "notification_id", "originator_id::text"
            self.links, self.checkpoints = f"{schema}.seal_links", f"{schema}.seal_checkpoints"
            self.seal_conn: Any = self.conn
        else:
            ledger = Path(env["SQLITE_DBNAME"])
            self.conn = sqlite3.connect(ledger, isolation_level=None)
            self.seal_conn = sqlite3.connect(ledger.with_name(f"{ledger.stem}.seal{ledger.suffix}"),
                                             isolation_level=None)
            self.events, self.id, self.oid = "stored_events", "rowid", "originator_id"
            self.links, self.checkpoints = "seal_links", "seal_checkpoints"

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def rows(self) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            f"SELECT {self.id}, {self.oid}, originator_version, topic, state FROM {self.events} ORDER BY {self.id}"
        ).fetchall()

    def positions(self) -> list[int]:
        return [r[0] for r in self.rows()]

    def row(self, position: int) -> tuple[Any, ...]:
        return next(r for r in self.rows() if r[0] == position)

    def flip_state_byte(self, position: int, index: int = 40) -> None:
        state = bytearray(self.row(position)[4])
        state[index % len(state)] ^= 0x01
        self.conn.execute(self.q(f"UPDATE {self.events} SET state = ? WHERE {self.id} = ?"), (bytes(state), position))

    def set_column(self, position: int, column: str, value: Any) -> None:
        self.conn.execute(self.q(f"UPDATE {self.events} SET {column} = ? WHERE {self.id} = ?"), (value, position))

    def delete(self, position: int) -> None:
        self.conn.execute(self.q(f"DELETE FROM {self.events} WHERE {self.id} = ?"), (position,))

    def insert_copy(self, of: int, position: int | None, originator_id: str | None = None,
                    version: int | None = None) -> int:
        """A copy of the row at `of` (with another originator id, or as a later version of the same
        aggregate) at `position` (None: wherever the database puts it). Returns its position."""
        _, oid, ver, topic, state = self.row(of)
        oid = originator_id or (str(uuid.uuid4()) if self.pg else uuid.uuid4().hex)
        ver = version if version is not None else ver
        if position is None:
            self.conn.execute(self.q(f"INSERT INTO {self.events} (originator_id, originator_version, topic, state) "
                                     "VALUES (?, ?, ?, ?)"), (oid, ver, topic, state))
            return max(self.positions())
        self.conn.execute(self.q(f"INSERT INTO {self.events} ({self.id}, originator_id, originator_version, topic, "
                                 "state) VALUES (?, ?, ?, ?, ?)"), (position, oid, ver, topic, state))
        return position

    def on_seal(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cur = self.seal_conn.execute(self.q(sql.format(links=self.links, checkpoints=self.checkpoints)), params)
        return cur.fetchall() if cur.description else []

    def close(self) -> None:
        self.conn.close()
        if self.seal_conn is not self.conn:
            self.seal_conn.close()


def fill(runtime: LedgerRuntime, tokens: dict[str, str]) -> None:
    """About 30 events: 7 accounts with a token each (the `tokens` fixture), a 初报 and 续报s."""
    county = runtime.accounts.authenticate(tokens["county"])
    opened = runtime.disasters.file_initial(county, initial())
    for i, hour in enumerate((10, 12, 14, 16, 18, 20)):
        runtime.disasters.file_follow_up(county, opened.id, report({
            XIANGSHUI: {"affected_population": 1200 + 50 * (i + 1)},
            CHENJIAGANG: {"affected_population": 300 + 10 * i},
        }, hour=hour))
    for i in range(3):
        runtime.accounts.register(local_operator(), f"auditor-{i}", "auditor", "3209")


@pytest.fixture
def store(runtime: LedgerRuntime, tokens: dict[str, str]) -> LedgerRuntime:
    fill(runtime, tokens)
    return runtime


@pytest.fixture
def raw(runtime: LedgerRuntime) -> Iterator[Raw]:
    r = Raw(runtime.config.persistence)
    yield r
    r.close()


@pytest.fixture
def sealer(store: LedgerRuntime) -> Iterator[Callable[..., Sealer]]:
    """sealer(interval=10, batch=4) → a Sealer of the store; closed afterwards."""
    opened: list[Sealer] = []

    def make(**kwargs: Any) -> Sealer:
        s = Sealer(store, **kwargs)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def outcome(result: Any) -> tuple[Any, ...]:
    return result.ok, result.kind, result.first_bad_position


PICK = {"first": 0, "middle": 14, "last": -1}


# --- (e) untouched, and what is chained -----------------------------------------------------------------


def test_an_untouched_store_verifies_with_and_without_its_digest(store, raw, sealer):
    s = sealer()
    checkpoint = s.seal()
    positions = raw.positions()
    assert 28 <= len(positions) <= 40
    assert (checkpoint.position, checkpoint.count) == (positions[-1], len(positions))
    assert s.last_sealed == len(positions)

    result = s.verify()
    assert outcome(result) == (True, None, None)
    assert result.checked == len(positions) and result.sealed_head == positions[-1]
    assert s.verify(checkpoint.line).ok


def test_the_chain_is_over_the_bytes_as_stored_in_the_database(store, raw, sealer):
    s = sealer(batch=4)
    s.seal()
    rows = raw.rows()
    assert all(b'"timestamp"' not in bytes(r[4]) for r in rows)  # the cipher is on: the state is ciphertext
    expected = [(p, h.hex()) for p, h in chain(canonical_row(*r) for r in rows)]
    assert list(s.links()) == expected  # recomputed independently from a raw SELECT


def test_verifying_needs_no_cipher_key(store, sealer):
    sealer().seal()
    env = {k: v for k, v in store.config.persistence.items() if not k.startswith("CIPHER_")}
    with Sealer(store.app, env) as auditor:
        assert auditor.verify().ok


def test_an_empty_store_seals_to_the_genesis_value(runtime):
    with Sealer(runtime) as s:
        checkpoint = s.seal()
        assert (checkpoint.position, checkpoint.count, checkpoint.digest) == (0, 0, GENESIS.hex())
        assert s.verify().ok
        assert s.verify(checkpoint.line).ok


def test_verify_before_anything_was_sealed_writes_nothing(store):
    with Sealer(store) as s:
        result = s.verify()
        assert result.ok and result.checked == 0
        assert s.head() is None


# --- (a) altered rows ----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", PICK)
def test_a_flipped_byte_in_a_rows_state_is_found_at_its_position(store, raw, sealer, where):
    s = sealer()
    checkpoint = s.seal()
    k = raw.positions()[PICK[where]]
    raw.flip_state_byte(k)
    assert outcome(s.verify()) == (False, "altered", k)
    assert outcome(s.verify(checkpoint.line)) == (False, "altered", k)


@pytest.mark.parametrize("column", ["topic", "originator_version", "originator_id"])
def test_a_changed_id_version_or_topic_is_found_at_its_position(store, raw, sealer, column):
    s = sealer()
    s.seal()
    k = raw.positions()[20]
    _, _, version, topic, _ = raw.row(k)
    value = {"topic": topic + "x",
             "originator_version": version + 1000,
             "originator_id": str(uuid.uuid4()) if raw.pg else uuid.uuid4().hex}[column]
    raw.set_column(k, column, value)
    assert outcome(s.verify()) == (False, "altered", k)


def test_a_value_of_a_type_the_library_never_writes_is_an_alteration(store, raw, sealer):
    s = sealer()
    s.seal()
    k = raw.positions()[5]
    if raw.pg:
        raw.set_column(k, "state", b"")
    else:  # SQLite keeps what it is given: the same bytes, but as text
        raw.conn.execute("UPDATE stored_events SET state = CAST(state AS TEXT) WHERE rowid = ?", (k,))
    assert outcome(s.verify()) == (False, "altered", k)


# --- (b) deleted rows ----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", PICK)
def test_a_deleted_row_is_found_at_its_position(store, raw, sealer, where):
    s = sealer()
    checkpoint = s.seal()
    k = raw.positions()[PICK[where]]
    raw.delete(k)
    assert outcome(s.verify()) == (False, "deleted", k)
    assert outcome(s.verify(checkpoint.line)) == (False, "deleted", k)


def test_the_first_of_several_changes_is_reported(store, raw, sealer):
    s = sealer()
    s.seal()
    positions = raw.positions()
    raw.delete(positions[25])
    raw.flip_state_byte(positions[9])
    raw.delete(positions[3])
    assert outcome(s.verify()) == (False, "deleted", positions[3])


# --- (c) inserted rows ---------------------------------------------------------------------------------


def test_a_copy_inserted_below_every_position_is_found_there(store, raw, sealer):
    """The library reads the log from id 1, so a row at id 0 or below never shows in the log, yet
    loading its aggregate would replay it: the seal reads from the lowest id there is."""
    s = sealer()
    s.seal()
    positions = raw.positions()
    assert raw.insert_copy(of=positions[10], position=0) == 0
    assert outcome(s.verify()) == (False, "inserted", 0)


def test_a_forged_next_version_of_an_aggregate_at_a_negative_id_is_found(store, raw, sealer):
    s = sealer()
    s.seal()
    k = raw.positions()[4]
    oid = raw.row(k)[1]
    last = max(r[2] for r in raw.rows() if r[1] == oid)
    raw.insert_copy(of=k, position=-7, originator_id=oid, version=last + 1)
    assert outcome(s.verify()) == (False, "inserted", -7)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_row_inserted_into_a_gap_of_postgres_ids_is_found_at_its_position(store, raw, sealer):
    """PostgreSQL ids have gaps (a refused save uses ids up); the seal chains the ids present,
    so a row slipped into a gap later has no link below the sealed head."""
    app = store.app
    first = app.repository.get(account_id("test-county"))
    second = app.repository.get(account_id("test-county"))
    actor = local_operator().as_dict()
    first.issue_token("gap-a", "a" * 64, "", actor)
    app.save(first)
    second.issue_token("gap-b", "b" * 64, "", actor)
    with pytest.raises(IntegrityError):
        app.save(second)  # refused: its id is used up
    store.accounts.register(local_operator(), "after-gap", "auditor", "3209")
    positions = raw.positions()
    gaps = sorted(set(range(positions[0], positions[-1])) - set(positions))
    assert gaps, "the refused save left no gap"

    s = sealer()
    s.seal()
    raw.insert_copy(of=positions[3], position=gaps[0])
    assert outcome(s.verify()) == (False, "inserted", gaps[0])


def test_a_row_appended_after_the_sealed_head_looks_like_a_new_event(store, raw, sealer):
    """The limit of any hash chain: an append after the last seal cannot be told from a new event.
    Sealing (and publishing) often keeps that window short."""
    s = sealer()
    s.seal()
    appended = raw.insert_copy(of=raw.positions()[2], position=None)
    assert s.verify().ok
    assert s.seal().position == appended


# --- (d) a published digest after the seal's own tables were rewritten -------------------------------


def rewrite_seal(store: LedgerRuntime, raw: Raw, interval: int) -> None:
    """What someone who also controls the seal's tables would do: seal the forged store afresh."""
    raw.on_seal("DELETE FROM {links}")
    raw.on_seal("DELETE FROM {checkpoints}")
    with Sealer(store, interval=interval) as forger:
        forger.seal()


@pytest.mark.parametrize("tamper", ["alter", "delete", "insert"])
def test_a_published_digest_catches_a_rewrite_of_the_seals_own_tables(store, raw, sealer, tamper):
    s = sealer(interval=10)
    head = s.seal()
    published_head = head.line
    published_all = "\n".join(c.line for c in s.checkpoints())
    positions = raw.positions()
    k = positions[14]  # between the 10th and the 20th sealed event
    if tamper == "alter":
        # another event's ciphertext: still decrypts (a flipped byte would not: verify names such rows
        # as unreadable on its own), so only the chain can tell
        raw.set_column(k, "state", raw.row(positions[3])[4])
    elif tamper == "delete":
        raw.delete(k)
    else:
        raw.delete(k)
        raw.insert_copy(of=positions[2], position=k)
    rewrite_seal(store, raw, interval=10)

    assert s.verify().ok  # the seal's tables alone now agree with the forged rows
    result = s.verify(published_head)
    assert (result.ok, result.kind, result.bounds) == (False, "digest", (None, head.position))
    result = s.verify(published_all)
    assert (result.ok, result.kind, result.bounds) == (False, "digest", (positions[9], positions[19]))


def test_a_damaged_event_is_named_even_when_the_seal_was_rewritten_to_match(store, raw, sealer):
    s = sealer(interval=10)
    s.seal()
    positions = raw.positions()
    raw.flip_state_byte(positions[14])
    rewrite_seal(store, raw, interval=10)
    result = s.verify()
    assert (result.ok, result.kind, result.unreadable) == (False, "unreadable", (positions[14],))
    assert result.summary().startswith("DAMAGED") and str(positions[14]) in result.detail


def test_stored_checkpoints_catch_links_rewritten_without_them(store, raw, sealer):
    s = sealer(interval=10)
    s.seal()
    positions = raw.positions()
    raw.flip_state_byte(positions[14])
    forged = [(p, h.hex()) for p, h in chain(canonical_row(*r) for r in raw.rows())]
    for p, h in forged:
        raw.on_seal("UPDATE {links} SET link = ? WHERE position = ?", (h, p))
    result = s.verify()
    assert (result.ok, result.kind, result.bounds) == (False, "checkpoint", (positions[9], positions[19]))


# --- (f) incremental, batched, checkpoints, concurrent --------------------------------------------------


def test_sealing_again_extends_the_chain_and_keeps_the_old_links(store, raw, sealer):
    s = sealer(batch=4)
    first = s.seal()
    before = list(s.links())
    for i in range(3):
        store.accounts.register(local_operator(), f"late-{i}", "auditor", "3209")

    second = s.seal()
    after = list(s.links())
    assert s.last_sealed == 3
    assert after[:len(before)] == before
    assert len(after) == len(before) + 3 == len(raw.positions())
    assert (second.position, second.count) == (raw.positions()[-1], first.count + 3)
    assert s.verify(first.line).ok and s.verify(second.line).ok

    again = s.seal()
    assert s.last_sealed == 0 and again == second  # nothing new: the same checkpoint


def test_checkpoints_every_interval_and_at_the_head(store, raw, sealer):
    s = sealer(interval=10, batch=7)
    head = s.seal()
    positions = raw.positions()
    checkpoints = list(s.checkpoints())
    expected = [(positions[n - 1], n) for n in range(10, len(positions) + 1, 10)]
    if len(positions) % 10:
        expected.append((positions[-1], len(positions)))
    assert [(c.position, c.count) for c in checkpoints] == expected
    assert checkpoints[-1] == head == s.latest_checkpoint()
    links = dict(s.links())
    assert all(links[c.position] == c.digest for c in checkpoints)
    assert parse_digest(head.line).digest == head.digest


def test_the_batch_size_does_not_change_the_chain(store, raw, sealer):
    one = sealer(batch=1)
    one.seal()
    links = list(one.links())
    raw.on_seal("DELETE FROM {links}")
    raw.on_seal("DELETE FROM {checkpoints}")
    big = sealer(batch=1000)
    big.seal()
    assert list(big.links()) == links


def test_two_sealers_at_once_never_interleave(store, raw, sealer):
    sealers = [sealer(batch=2), sealer(batch=3)]
    errors: list[BaseException] = []

    def run(s: Sealer) -> None:
        try:
            s.seal()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in sealers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert [p for p, _ in sealers[0].links()] == raw.positions()
    assert sealers[0].last_sealed + sealers[1].last_sealed == len(raw.positions())
    assert sealers[1].verify().ok


# --- the CLI -------------------------------------------------------------------------------------------


def test_the_audit_commands_seal_export_and_verify(tmp_path, monkeypatch):
    from api.cli.audit import audit_cli
    from api.settings import Settings

    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path))
    for name in ("RELIEF_DATABASE_URL", "RELIEF_CIPHER_KEY", "RELIEF_TOKEN_PEPPER", "RELIEF_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    with LedgerRuntime(Settings().ledger_config()) as runtime:
        for i in range(12):
            runtime.accounts.register(local_operator(), f"user-{i}", "auditor", "3209")
    cli = CliRunner()

    sealed = cli.invoke(audit_cli, ["seal", "--interval", "5"])
    assert sealed.exit_code == 0, sealed.output
    line = sealed.stdout.strip().splitlines()[-1]
    assert parse_digest(line).position == 12

    published = tmp_path / "published" / "digests.txt"
    exported = cli.invoke(audit_cli, ["export-digest", str(published)])
    assert exported.exit_code == 0, exported.output
    assert published.read_text().strip() == line  # nothing new: the same head checkpoint
    everything = cli.invoke(audit_cli, ["export-digest", "--all", "--no-seal"])
    assert [parse_digest(x).position for x in everything.stdout.split("\n") if x] == [5, 10, 12]

    ok = cli.invoke(audit_cli, ["verify", "--digest", str(published)])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("OK: 12 events checked")
    assert cli.invoke(audit_cli, ["verify", "--digest", line]).exit_code == 0

    with closing(sqlite3.connect(tmp_path / "ledger.sqlite", isolation_level=None)) as conn:
        conn.execute("UPDATE stored_events SET topic = topic || '_' WHERE rowid = 7")
    bad = cli.invoke(audit_cli, ["verify"])
    assert bad.exit_code == 1
    assert "position=7 kind=altered" in bad.stdout

    assert cli.invoke(audit_cli, ["verify", "--digest", "no-such-file"]).exit_code == 2
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("not a digest\n")
    assert cli.invoke(audit_cli, ["verify", "--digest", str(garbage)]).exit_code == 2
