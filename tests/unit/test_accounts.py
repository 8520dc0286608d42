"""Accounts: registering who may act, bearer tokens, revocation, authentication."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from ledger.accounts.aggregate import token_hash
from ledger.accounts.service import local_operator
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor, Role
from ledger.store.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, NotPermitted
from tests.unit.builders import CITY, COUNTY, PROVINCE, XIANGSHUI, a_key, a_runtime, an_account

OPERATOR = local_operator()


@pytest.fixture
def rt() -> Iterator[LedgerRuntime]:
    runtime = a_runtime()
    yield runtime
    runtime.close()


@pytest.fixture
def admin(rt: LedgerRuntime) -> Actor:
    return an_account(rt, "admin", PROVINCE, username="jiangsu-admin")


def fields_of(error: InvalidInput) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.fields}


def token_id_of(rt: LedgerRuntime, username: str, label: str) -> str:
    [token_id] = [t for t, token in rt.accounts.get(username).tokens.items() if token["label"] == label]
    return token_id


# --- register -------------------------------------------------------------------------------------


def test_the_local_operator_is_an_admin_acting_from_the_server():
    assert OPERATOR.role is Role.ADMIN
    assert OPERATOR.username.startswith("local-operator:")


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("township", XIANGSHUI),
        ("county", COUNTY),
        ("city", CITY),
        ("province", PROVINCE),
        ("relief_officer", COUNTY),
        ("auditor", PROVINCE),
    ],
)
def test_an_account_is_registered_with_its_role_and_scope(rt, role, scope):
    result = rt.accounts.register(OPERATOR, "xiangshui.staff", role, scope, display_name="响水县 张三")
    assert result.status == 201
    account = rt.accounts.get("xiangshui.staff")
    assert account.id == result.id
    assert (account.role, account.scope, account.display_name, account.active) == (
        role,
        scope,
        "响水县 张三",
        True,
    )
    assert account.as_actor() == Actor(result.id, "xiangshui.staff", Role(role), scope)


def test_the_display_name_defaults_to_the_username(rt):
    rt.accounts.register(OPERATOR, "binhai_county", "county", "320922")
    assert rt.accounts.get("binhai_county").display_name == "binhai_county"


def test_the_registration_event_records_who_registered_the_account(rt, admin):
    rt.accounts.register(admin, "county-320921", "county", COUNTY)
    [registered] = rt.app.events.get(rt.accounts.get("county-320921").id)
    assert type(registered).__name__ == "Registered"
    assert registered.actor["username"] == "jiangsu-admin"


@pytest.mark.parametrize(
    "username",
    ["ab", "x" * 65, "张三", "has space", "local-operator:root", "semi;colon", "", None],
)
def test_a_malformed_username_is_refused(rt, username):
    with pytest.raises(InvalidInput) as refused:
        rt.accounts.register(OPERATOR, username, "county", COUNTY)
    assert fields_of(refused.value) == {("username", "bad_username")}


@pytest.mark.parametrize("username", ["abc", "zhang.san@xiangshui", "county_320921-2", "A" * 64])
def test_usernames_of_letters_digits_and_a_few_signs_are_accepted(rt, username):
    rt.accounts.register(OPERATOR, username, "county", COUNTY)
    assert rt.accounts.exists(username)


@pytest.mark.parametrize("role", ["superuser", "County", "", None])
def test_an_unknown_role_is_refused(rt, role):
    with pytest.raises(InvalidInput) as refused:
        rt.accounts.register(OPERATOR, "someone", role, COUNTY)
    assert fields_of(refused.value) == {("role", "bad_role")}


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("township", COUNTY),
        ("township", "320921100001"),
        ("county", CITY),
        ("county", XIANGSHUI),
        ("city", COUNTY),
        ("city", PROVINCE),
        ("province", CITY),
    ],
)
def test_a_scope_of_the_wrong_level_for_the_role_is_refused(rt, role, scope):
    with pytest.raises(InvalidInput) as refused:
        rt.accounts.register(OPERATOR, "someone", role, scope)
    assert fields_of(refused.value) == {("scope", "scope_level")}


@pytest.mark.parametrize("scope", ["", "abc", "3209211", "0", "00", "009211", "32a9", None])
def test_a_scope_that_is_not_an_area_code_prefix_is_refused(rt, scope):
    with pytest.raises(InvalidInput) as refused:
        rt.accounts.register(OPERATOR, "someone", "auditor", scope)
    assert fields_of(refused.value) == {("scope", "bad_scope")}


@pytest.mark.parametrize("role", ["auditor", "relief_officer"])
@pytest.mark.parametrize("scope", [PROVINCE, CITY, COUNTY, XIANGSHUI, "320921100001"])
def test_auditors_and_relief_officers_may_have_a_scope_at_any_level(rt, role, scope):
    rt.accounts.register(OPERATOR, "someone", role, scope)
    assert rt.accounts.get("someone").scope == scope


def test_every_problem_with_the_account_is_reported_at_once(rt):
    with pytest.raises(InvalidInput) as refused:
        rt.accounts.register(OPERATOR, "x", "boss", "12345")
    assert fields_of(refused.value) == {
        ("username", "bad_username"),
        ("role", "bad_role"),
        ("scope", "bad_scope"),
    }
    assert rt.position() == 0


def test_a_username_is_taken_only_once_whatever_its_case(rt):
    first = rt.accounts.register(OPERATOR, "xiangshui", "county", COUNTY)
    for name in ("xiangshui", "XiangShui"):
        with pytest.raises(Conflict) as refused:
            rt.accounts.register(OPERATOR, name, "city", CITY)
        assert refused.value.code == "duplicate_account"
        assert refused.value.details["existing_id"] == str(first.id)
    assert rt.accounts.get("xiangshui").role == "county"


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("county", COUNTY),
        ("province", PROVINCE),
        ("auditor", PROVINCE),
        ("relief_officer", COUNTY),
        ("township", XIANGSHUI),
    ],
)
def test_only_an_admin_may_register_accounts(rt, role, scope):
    someone = an_account(rt, role, scope)
    position = rt.position()
    with pytest.raises(NotPermitted):
        rt.accounts.register(someone, "newcomer", "township", XIANGSHUI)
    assert rt.position() == position
    assert not rt.accounts.exists("newcomer")


def test_an_admin_account_registers_other_accounts(rt, admin):
    rt.accounts.register(admin, "xiangshui_county", "county", COUNTY)
    assert rt.accounts.get("xiangshui_county").role == "county"


def test_admin_accounts_are_created_only_by_the_local_operator(rt, admin):
    with pytest.raises(NotPermitted):
        rt.accounts.register(admin, "second-admin", "admin", PROVINCE)
    assert not rt.accounts.exists("second-admin")
    rt.accounts.register(OPERATOR, "second-admin", "admin", PROVINCE)
    assert rt.accounts.get("second-admin").role == "admin"


def test_registering_twice_with_the_same_idempotency_key_answers_the_first_registration(rt):
    key = a_key(OPERATOR, "reg-1", path="/accounts")
    first = rt.accounts.register(OPERATOR, "xiangshui", "county", COUNTY, idempotency=key)
    again = rt.accounts.register(OPERATOR, "xiangshui", "county", COUNTY, idempotency=key)
    assert (again.id, again.replayed) == (first.id, True)


def test_an_unknown_account_is_not_found(rt):
    with pytest.raises(NotFound):
        rt.accounts.get("nobody")
    with pytest.raises(NotFound):
        rt.accounts.issue_token(OPERATOR, "nobody")


# --- tokens ---------------------------------------------------------------------------------------


def test_a_token_authenticates_as_the_account_it_was_issued_to(rt):
    county = an_account(rt, "county", COUNTY)
    township = an_account(rt, "township", XIANGSHUI)
    county_token, result = rt.accounts.issue_token(OPERATOR, county.username, label="值班电脑")
    township_token, _ = rt.accounts.issue_token(OPERATOR, township.username)
    assert result.status == 201 and result.id == county.account_id
    assert county_token.startswith("rl_") and county_token != township_token
    assert rt.accounts.authenticate(county_token) == county
    assert rt.accounts.authenticate(township_token) == township
    assert rt.accounts.authenticate(township_token).role is Role.TOWNSHIP


def test_only_an_admin_issues_or_revokes_tokens(rt):
    county = an_account(rt, "county", COUNTY)
    with pytest.raises(NotPermitted):
        rt.accounts.issue_token(county, county.username)
    rt.accounts.issue_token(OPERATOR, county.username, label="a")
    with pytest.raises(NotPermitted):
        rt.accounts.revoke_token(county, county.username, token_id_of(rt, county.username, "a"))
    with pytest.raises(NotPermitted):
        rt.accounts.revoke(county, county.username, "离职")


def test_a_revoked_token_no_longer_authenticates_but_the_others_do(rt):
    county = an_account(rt, "county", COUNTY)
    lost, _ = rt.accounts.issue_token(OPERATOR, county.username, label="lost phone")
    kept, _ = rt.accounts.issue_token(OPERATOR, county.username, label="desk")
    rt.accounts.revoke_token(OPERATOR, county.username, token_id_of(rt, county.username, "lost phone"))
    with pytest.raises(NotAuthenticated):
        rt.accounts.authenticate(lost)
    assert rt.accounts.authenticate(kept) == county


def test_a_token_is_revoked_only_once(rt):
    county = an_account(rt, "county", COUNTY)
    rt.accounts.issue_token(OPERATOR, county.username, label="a")
    token_id = token_id_of(rt, county.username, "a")
    rt.accounts.revoke_token(OPERATOR, county.username, token_id)
    with pytest.raises(Conflict) as refused:
        rt.accounts.revoke_token(OPERATOR, county.username, token_id)
    assert refused.value.code == "no_such_token"
    with pytest.raises(Conflict):
        rt.accounts.revoke_token(OPERATOR, county.username, "feedfacecafe")


def test_a_revoked_account_no_longer_authenticates_with_any_token(rt):
    county = an_account(rt, "county", COUNTY)
    first, _ = rt.accounts.issue_token(OPERATOR, county.username)
    second, _ = rt.accounts.issue_token(OPERATOR, county.username)
    rt.accounts.revoke(OPERATOR, county.username, "调离岗位")
    for token in (first, second):
        with pytest.raises(NotAuthenticated):
            rt.accounts.authenticate(token)
    assert rt.accounts.get(county.username).active is False


def test_a_revoked_account_gets_no_new_tokens_and_is_revoked_only_once(rt):
    county = an_account(rt, "county", COUNTY)
    rt.accounts.revoke(OPERATOR, county.username, "调离岗位")
    with pytest.raises(Conflict) as refused:
        rt.accounts.issue_token(OPERATOR, county.username)
    assert refused.value.code == "account_revoked"
    with pytest.raises(Conflict):
        rt.accounts.revoke(OPERATOR, county.username, "again")


def test_a_revoked_username_stays_taken(rt):
    county = an_account(rt, "county", COUNTY, username="xiangshui")
    rt.accounts.revoke(OPERATOR, county.username, "调离岗位")
    with pytest.raises(Conflict):
        rt.accounts.register(OPERATOR, "xiangshui", "county", COUNTY)


def _garbage(rt: LedgerRuntime) -> list[str | None]:
    county = an_account(rt, "county", COUNTY)
    real, _ = rt.accounts.issue_token(OPERATOR, county.username)
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    return [
        None,
        "",
        "Bearer " + real,
        real[3:],
        "rl_",
        "rl_not-a-token",
        tampered,
        real + "x",
        "rl_" + "a" * 300,
    ]


def test_garbage_tokens_are_refused(rt):
    for token in _garbage(rt):
        with pytest.raises(NotAuthenticated):
            rt.accounts.authenticate(token)


def test_a_token_issued_in_another_ledger_does_not_authenticate_here(rt):
    county = an_account(rt, "county", COUNTY)
    elsewhere = a_runtime()
    an_account(elsewhere, "county", COUNTY)
    foreign, _ = elsewhere.accounts.issue_token(OPERATOR, county.username)
    elsewhere.close()
    with pytest.raises(NotAuthenticated):
        rt.accounts.authenticate(foreign)


def test_the_clear_token_is_never_stored(rt):
    county = an_account(rt, "county", COUNTY)
    token, _ = rt.accounts.issue_token(OPERATOR, county.username, label="desk")
    # in the events' attributes (Account and TokenIndex)
    account_events = list(rt.app.events.get(county.account_id))
    assert [type(e).__name__ for e in account_events] == ["Registered", "TokenIssued"]
    issued = account_events[-1]
    assert issued.token_hash == token_hash(token, b"test")
    for event in account_events:
        assert token not in repr(vars(event))
    # in every stored record, whatever its aggregate
    plain_sha256 = hashlib.sha256(token.encode()).hexdigest()
    notifications = rt.app.recorder.select_notifications(start=1, limit=1000)
    assert len(notifications) == 3  # registered, token issued, token indexed
    assert any(issued.token_hash.encode() in n.state for n in notifications)  # the records are readable
    for notification in notifications:
        assert token.encode() not in notification.state
        assert token[3:].encode() not in notification.state
        assert plain_sha256.encode() not in notification.state  # only the peppered hash is kept
