"""An event store written before the layout move still loads, answers and grows.

`tests/fixtures/store-before-layout.sql` is the SQLite dump of a store written
by the code of commit 500f1b0 (flat `ledger.disaster`, `ledger.relief`,
`ledger.account`, `ledger.commands` modules; its generator is in that commit),
with one of every event type it had. Its rows carry the old topics
(`ledger.disaster:Disaster.InitialReportFiled` …); `ledger.store.topics`
maps them to the classes' new homes. On PostgreSQL the same rows, topics and
encrypted states are copied into a fresh store first.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.disasters.history import report_history
from ledger.runtime import LedgerConfig, LedgerRuntime
from ledger.store.commands import IdempotencyKey, run
from ledger.store.errors import NotAuthenticated
from projections.audit.seal import Sealer
from projections.registry import PROJECTIONS
from projections.runner import Follower, open_projection
from tests.conftest import persistence_env

FIXTURES = Path(__file__).parent.parent / "fixtures"
FACTS: dict[str, Any] = json.loads((FIXTURES / "store-before-layout.json").read_text(encoding="utf-8"))
CIPHER_KEY = base64.b64encode(b"k" * 32).decode()
PEPPER = b"test-pepper"
PII_KEY = b"p" * 32


def restore(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript((FIXTURES / "store-before-layout.sql").read_text(encoding="utf-8"))


@pytest.fixture(params=["sqlite", "postgres"])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A runtime over the old store: the restored file, or its rows copied into PostgreSQL."""
    original = tmp_path / "original.sqlite"
    restore(original)
    env = persistence_env(request.param, tmp_path, request)
    env["CIPHER_KEY"] = CIPHER_KEY
    if request.param == "sqlite":
        env["SQLITE_DBNAME"] = str(original)
    rt = LedgerRuntime(LedgerConfig(persistence=env, token_pepper=PEPPER, data_dir=tmp_path, pii_key=PII_KEY))
    if request.param == "postgres":
        with sqlite3.connect(original) as conn:
            rows = conn.execute("SELECT originator_id, originator_version, topic, state FROM stored_events"
                                " ORDER BY rowid").fetchall()
        rt.app.recorder.insert_events([StoredEvent(UUID(i), v, t, s) for i, v, t, s in rows])
    yield rt, request.param
    rt.close()


def test_the_fixture_holds_the_old_topics() -> None:
    dump = (FIXTURES / "store-before-layout.sql").read_text(encoding="utf-8")
    for topic in ("ledger.disaster:Disaster.InitialReportFiled", "ledger.disaster:KeyClaim.Claimed",
                  "ledger.relief:ReliefCase.Applied", "ledger.relief:ReliefFund.Debited",
                  "ledger.relief:CaseClaim.Released", "ledger.relief:PersonalDataViewed.Viewed",
                  "ledger.account:Account.Registered", "ledger.account:TokenIndex.Indexed",
                  "ledger.commands:IdempotencyRecord.Recorded"):
        assert f"'{topic}'" in dump
    assert "'ledger.disasters." not in dump  # written before the move


def test_every_old_event_decodes_to_the_moved_classes(old_store: Any) -> None:
    rt, _ = old_store
    notifications = rt.app.recorder.select_notifications(start=1, limit=1000)
    assert len(notifications) == FACTS["position"]
    modules = {type(rt.app.mapper.to_domain_event(n)).__module__ for n in notifications}
    assert modules == {"ledger.disasters.aggregate", "ledger.disasters.keys", "ledger.relief.fund",
                       "ledger.relief.case", "ledger.personal.access", "ledger.accounts.aggregate",
                       "ledger.store.commands", "ledger.relief.claim"}  # CaseClaim moved out of case.py


def test_old_aggregates_load_with_the_state_they_had(old_store: Any) -> None:
    rt, _ = old_store
    for key in ("flood", "hail"):
        expected = FACTS["disasters"][key]
        d = rt.app.repository.get(UUID(expected["id"]))
        assert (d.version, d.stage.value, d.disaster_date.isoformat(), d.hazard, d.subtype, d.text) == (
            expected["version"], expected["stage"], expected["disaster_date"], expected["hazard"],
            expected["subtype"], expected["text"])
        assert {t: {k: str(v) for k, v in f.items()} for t, f in d.township_figures().items()} == expected["figures"]
        reports = report_history(rt.app.events.get(UUID(expected["id"])))
        assert [r["review"].value for r in reports] == expected["reviews"] and d.report_count == len(reports)
    fund = rt.app.repository.get(UUID(FACTS["fund"]["id"]))
    assert (fund.version, fund.balance, fund.paid, fund.returned, fund.allocated) == (
        FACTS["fund"]["version"], FACTS["fund"]["balance"], FACTS["fund"]["paid"], FACTS["fund"]["returned"],
        FACTS["fund"]["allocated"])
    for expected in FACTS["cases"].values():
        c = rt.app.repository.get(UUID(expected["id"]))
        assert (c.version, c.stage.value, c.approved_amount, c.paid_total, c.goods_total, c.id_number,
                c.card_number) == (expected["version"], expected["stage"], expected["approved"], expected["paid"],
                                   expected["goods"], expected["id_number"], expected["card_number"])


def test_old_tokens_still_authenticate_and_revocations_still_hold(old_store: Any) -> None:
    rt, _ = old_store
    roles = {u: rt.accounts.authenticate(t).role.value for u, t in FACTS["tokens"].items()}
    assert roles == {"old-township": "township", "old-county": "county", "old-city": "city",
                     "old-relief": "relief_officer", "old-auditor": "auditor"}
    with pytest.raises(NotAuthenticated):
        rt.accounts.authenticate(FACTS["revoked_token"])
    assert rt.accounts.get("old-gone").active is False


def test_an_old_idempotency_record_still_answers_its_retry(old_store: Any) -> None:
    rt, _ = old_store
    township = rt.accounts.authenticate(FACTS["tokens"]["old-township"])
    key = IdempotencyKey(township.account_id, "POST", "/v1/disasters", "fixture-initial", "h1")
    answer = run(rt.app, lambda: pytest.fail("a replay must not run the command"), key)
    assert answer.replayed and str(answer.id) == FACTS["disasters"]["flood"]["id"] and answer.version == 1


def test_new_commands_append_to_old_aggregates(old_store: Any) -> None:
    rt, _ = old_store
    relief = rt.accounts.authenticate(FACTS["tokens"]["old-relief"])
    case_id = UUID(FACTS["cases"]["张三"]["id"])
    rt.relief.pay(relief, case_id, 30_000, "2026-02-批次03", "NX004", payment_id="pay4")
    case = rt.app.repository.get(case_id)
    fund = rt.app.repository.get(UUID(FACTS["fund"]["id"]))
    assert case.paid_total == FACTS["cases"]["张三"]["paid"] + 30_000
    assert fund.balance == FACTS["fund"]["balance"] - 30_000
    newest = rt.app.recorder.select_notifications(start=FACTS["position"] + 1, limit=10)
    assert {n.topic for n in newest} == {"ledger.relief.case:ReliefCase.PaymentMade",
                                        "ledger.relief.fund:ReliefFund.Debited"}


def test_projections_rebuild_from_the_old_store(old_store: Any) -> None:
    rt, _ = old_store
    views = {}
    for name, cls in PROJECTIONS.items():
        follower = Follower(rt.app, open_projection(cls, rt.config.persistence, rt.config.data_dir, rt.pii))
        assert follower.rebuild() == FACTS["position"]
        views[name] = follower.projection.view
    board = views["board"].get([FACTS["disasters"]["flood"]["id"], FACTS["disasters"]["hail"]["id"]])
    assert board[FACTS["disasters"]["flood"]["id"]]["stage"] == "final"
    assert board[FACTS["disasters"]["hail"]["id"]]["stage"] == "retracted"
    [fund] = views["funds"].funds("320921")
    assert fund["balance"] == FACTS["fund"]["balance"]
    assert views["roster"].count("winter_spring", "2025-2026", "320921") == len(FACTS["cases"])
    for view in views.values():
        view.close()


def test_the_seal_published_before_the_move_still_verifies(tmp_path: Path) -> None:
    """The digest chains the rows exactly as SQLite stored them, so it is checked on the restored file."""
    path = tmp_path / "ledger.sqlite"
    restore(path)
    env = {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": CIPHER_KEY,
           "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    with LedgerRuntime(LedgerConfig(persistence=env, token_pepper=PEPPER, data_dir=tmp_path, pii_key=PII_KEY)) as rt, \
            Sealer(rt) as sealer:
        assert sealer.verify(FACTS["seal_line"]).ok
        with sqlite3.connect(path) as conn:  # and it is a real check: one altered byte fails it
            conn.execute("UPDATE stored_events SET state = state || x'00' WHERE rowid = 7")
        assert not sealer.verify(FACTS["seal_line"]).ok
