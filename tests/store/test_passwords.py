"""Passwords and sign-in sessions, on SQLite and PostgreSQL.

The hash lives in the credentials table, written in the same transaction as
the `PasswordChanged` event (which carries no hash): if either write fails,
neither is kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from eventsourcing.persistence import IntegrityError

from ledger.accounts.passwords import SignInRefused
from ledger.accounts.service import local_operator
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from ledger.store.errors import InvalidInput, NotPermitted

OPERATOR = local_operator()
PASSWORD = "洪水来了要报灾-2026"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # fast for tests; production uses the defaults


@pytest.fixture
def rt(runtime: LedgerRuntime) -> LedgerRuntime:
    runtime.accounts.passwords.hasher = CHEAP
    runtime.accounts.register(OPERATOR, "xs-township", "township", "320921100", "响水镇")
    return runtime


def events_of(rt: LedgerRuntime, username: str) -> list[Any]:
    return list(rt.app.events.get(rt.accounts.get(username).id))


def test_a_password_set_from_the_cli_signs_the_account_in_and_the_event_holds_no_hash(rt: LedgerRuntime) -> None:
    rt.accounts.passwords.set_password(OPERATOR, "xs-township", PASSWORD)

    actor = rt.accounts.passwords.sign_in("xs-township", PASSWORD, "127.0.0.1")

    assert isinstance(actor, Actor) and actor.username == "xs-township"
    [changed] = [e for e in events_of(rt, "xs-township") if type(e).__name__ == "PasswordChanged"]
    assert changed.how == "set from the server command line"
    assert changed.actor["username"] == OPERATOR.username
    assert "argon2" not in repr(changed.__dict__) and PASSWORD not in repr(changed.__dict__)
    assert rt.accounts.passwords.store.password_hash(actor.account_id).startswith("$argon2id$")


def test_a_wrong_password_is_refused_recorded_and_slowed_after_a_few(rt: LedgerRuntime) -> None:
    rt.accounts.passwords.set_password(OPERATOR, "xs-township", PASSWORD)

    answers = [rt.accounts.passwords.sign_in("xs-township", "wrong-password-1", "10.0.0.9") for _ in range(4)]

    assert all(isinstance(a, SignInRefused) for a in answers)
    delays = [a.delay for a in answers]  # type: ignore[union-attr]
    assert delays[0] == 0 and delays[-1] > delays[-2] > 0
    failed = rt.accounts.passwords.store.sign_ins(failed_only=True)
    assert len(failed) == 4 and {f["client"] for f in failed} == {"10.0.0.9"}
    assert {f["reason"] for f in failed} == {"wrong_password"}


def test_after_many_failures_even_the_right_password_waits_out_the_lock(rt: LedgerRuntime) -> None:
    rt.accounts.passwords.set_password(OPERATOR, "xs-township", PASSWORD)
    for _ in range(10):
        rt.accounts.passwords.sign_in("xs-township", "guess-guess-guess", "10.0.0.9")

    answer = rt.accounts.passwords.sign_in("xs-township", PASSWORD, "10.0.0.10")

    assert isinstance(answer, SignInRefused) and answer.error.code == "sign_in_locked"


def test_an_unknown_account_gets_the_same_answer_as_a_wrong_password(rt: LedgerRuntime) -> None:
    answer = rt.accounts.passwords.sign_in("nobody-here", PASSWORD, "127.0.0.1")

    assert isinstance(answer, SignInRefused) and answer.error.code == "sign_in_failed"


def test_only_admins_set_passwords_and_weak_ones_are_refused_by_field(rt: LedgerRuntime) -> None:
    township = rt.accounts.get("xs-township").as_actor()
    with pytest.raises(NotPermitted):
        rt.accounts.passwords.set_password(township, "xs-township", PASSWORD)
    with pytest.raises(InvalidInput) as refused:
        rt.accounts.passwords.set_password(OPERATOR, "xs-township", "short")
    assert [f.field for f in refused.value.fields] == ["password"]


def test_the_owner_changes_the_password_and_every_session_ends(rt: LedgerRuntime) -> None:
    rt.accounts.passwords.set_password(OPERATOR, "xs-township", PASSWORD)
    actor = rt.accounts.passwords.sign_in("xs-township", PASSWORD, "127.0.0.1")
    assert isinstance(actor, Actor)
    phone, desk = rt.accounts.sessions.open(actor, "127.0.0.1"), rt.accounts.sessions.open(actor, "127.0.0.2")
    assert rt.accounts.sessions.resolve(phone) == actor

    with pytest.raises(InvalidInput):
        rt.accounts.passwords.change_own_password(actor, "not-the-password", "新的密码-足够长了吧-2026")
    rt.accounts.passwords.change_own_password(actor, PASSWORD, "新的密码-足够长了吧-2026")

    assert rt.accounts.sessions.resolve(phone) is None and rt.accounts.sessions.resolve(desk) is None
    assert isinstance(rt.accounts.passwords.sign_in("xs-township", "新的密码-足够长了吧-2026", "127.0.0.1"), Actor)
    assert isinstance(rt.accounts.passwords.sign_in("xs-township", PASSWORD, "127.0.0.1"), SignInRefused)


def test_a_role_or_scope_change_and_a_revocation_end_sessions(rt: LedgerRuntime) -> None:
    rt.accounts.passwords.set_password(OPERATOR, "xs-township", PASSWORD)
    actor = rt.accounts.get("xs-township").as_actor()
    moved = rt.accounts.sessions.open(actor, "127.0.0.1")

    rt.accounts.passwords.change_access(OPERATOR, "xs-township", "township", "320921101", "调往双港镇")

    assert rt.accounts.sessions.resolve(moved) is None
    again = rt.accounts.sessions.open(rt.accounts.get("xs-township").as_actor(), "127.0.0.1")
    assert rt.accounts.sessions.resolve(again).scope == "320921101"  # type: ignore[union-attr]
    rt.accounts.revoke(OPERATOR, "xs-township", "离职")
    assert rt.accounts.sessions.resolve(again) is None


def test_sign_out_and_idle_sessions_stop_working_at_once(rt: LedgerRuntime) -> None:
    actor = rt.accounts.get("xs-township").as_actor()
    token = rt.accounts.sessions.open(actor, "127.0.0.1")
    other = rt.accounts.sessions.open(actor, "127.0.0.1")

    rt.accounts.sessions.end(token)
    assert rt.accounts.sessions.resolve(token) is None
    assert rt.accounts.sessions.resolve(other) == actor
    assert rt.accounts.sessions.resolve("rs_forged") is None

    later = rt.now() + rt.accounts.sessions.idle + timedelta(minutes=1)
    rt.config.clock = lambda: later
    assert rt.accounts.sessions.resolve(other) is None


def test_a_failed_hash_write_leaves_no_event_and_a_failed_event_write_leaves_no_hash(rt: LedgerRuntime) -> None:
    """Either both the PasswordChanged event and the credentials row are stored, or neither."""
    store = rt.accounts.passwords.store
    account = rt.accounts.get("xs-township")
    version_before = account.version

    write_hash = store.set_password_write(account.id, "$argon2id$half-written", rt.now())

    def failing(c: Any, sql: Any) -> None:
        write_hash(c, sql)
        raise RuntimeError("the disk filled up after the hash was written")

    account.change_password(how="set by an administrator", actor=OPERATOR.as_dict())
    with pytest.raises(RuntimeError):
        rt.app.save(account, side_writes=[failing])
    assert rt.accounts.get("xs-township").version == version_before
    assert store.password_hash(account.id) is None

    stale = rt.accounts.get("xs-township")
    rt.accounts.issue_token(OPERATOR, "xs-township")  # the account moves on: `stale` is now behind
    stale.change_password(how="set by an administrator", actor=OPERATOR.as_dict())
    with pytest.raises(IntegrityError):
        rt.app.save(stale, side_writes=[store.set_password_write(stale.id, "$argon2id$orphan", rt.now())])
    assert store.password_hash(account.id) is None
    assert not [e for e in events_of(rt, "xs-township") if type(e).__name__ == "PasswordChanged"]
