"""Relief over HTTP, on SQLite and PostgreSQL: the 户报 → 村评 → 公示 → 乡审 → 县定 → 发放 chain,
masked personal data, recorded reveals, the one error shape, idempotent payments.

The runtime's clock starts at real time; `later(client)` moves it past the seven days a posting
recorded today must run (recorded times stay real).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from tests.unit.test_personal import gb11643, luhn_complete

COUNTY = "320921"  # 响水县
VILLAGE = "320921100001"  # 响水镇 东园居委会
CHENJIAGANG_VILLAGE = "320921101001"  # 陈家港镇 海安居委会
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
PERIOD = f"{TODAY.year}-{TODAY.year + 1}"  # the season of this winter
POSTING = {
    "start": str(TODAY),
    "end": str(TODAY + timedelta(days=6)),
    "place": "村务公开栏",
}


PHOTO = {"ref": "sha256:" + "ab" * 32, "type": "image/jpeg", "name": "发放照片.jpg"}


def later(client: Any, days: float = 8) -> None:
    """Move the server's clock on past the posting (recorded times stay real)."""
    client.app.state.runtime.config.clock.advance(days=days)

ZHANG = gb11643("32092119800101123")
LI = gb11643("32092119751212246")
ZHAO = gb11643("32092119850301006")  # ends in X
PHONE = "13800138000"
CARD = luhn_complete("621700001001234567")
CLEAR = (ZHANG, LI, ZHAO, PHONE, CARD, "19800101", "19751212", "19850301", CARD[:12], "00138")

ROLES = ("township", "county", "relief_officer", "city", "province", "auditor", "admin")


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert set(error) == {"code", "message", "fields", "details"}, error
    assert " / " in error["message"]
    for entry in error["fields"]:
        assert set(entry) == {"field", "code", "message"}
    if code is not None:
        assert error["code"] == code, error
    return error


def assert_no_clear_personal_data(text: str) -> None:
    for value in CLEAR:
        assert value not in text, value


def application(**overrides: Any) -> dict[str, Any]:
    body = {
        "programme": "winter_spring",
        "period": PERIOD,
        "village": VILLAGE,
        "head_name": "张三",
        "id_number": ZHANG,
        "phone": PHONE,
        "card_number": CARD,
        "household_type": "低保户",
        "household_size": 4,
        "people_in_need": 3,
        "address": "响水镇东园居委会 12 号",
        "causes": ["倒房"],
        "needs": ["口粮", "取暖"],
    }
    body.update(overrides)
    return body


def allocate(client, as_role, amount: int = 1_000_000, document: str = "苏财社〔2025〕88号") -> str:
    response = client.post(
        "/v1/relief/funds",
        headers=as_role("county"),
        json={
            "county": COUNTY,
            "programme": "winter_spring",
            "period": PERIOD,
            "source": "central",
            "amount_fen": amount,
            "document": document,
        },
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def apply(client, as_role, role: str = "township", **overrides: Any) -> str:
    response = client.post("/v1/relief/cases", headers=as_role(role), json=application(**overrides))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/relief/cases/{response.json()['id']}"
    return response.json()["id"]


def step(client, as_role, role: str, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
    response = client.post(path, headers=as_role(role), json=body)
    assert response.status_code == status, response.text
    return response.json()


def posted(client, as_role, **overrides: Any) -> str:
    case_id = apply(client, as_role, **overrides)
    step(
        client,
        as_role,
        "township",
        f"/v1/relief/cases/{case_id}/assessment",
        {
            "minutes_ref": "东园居委会村民代表会议记录",
            "approved": True,
            "held_on": str(TODAY),
        },
    )
    step(client, as_role, "township", f"/v1/relief/cases/{case_id}/posting", POSTING)
    return case_id


def approved(client, as_role, amount: int = 90_000, **overrides: Any) -> str:
    case_id = posted(client, as_role, **overrides)
    later(client)
    step(client, as_role, "township", f"/v1/relief/cases/{case_id}/township-review")
    step(client, as_role, "county", f"/v1/relief/cases/{case_id}/approval", {"amount_fen": amount})
    return case_id


def payment(amount: int = 90_000, **extra: Any) -> dict[str, Any]:
    return {"amount_fen": amount, "batch_id": "2026-01-批次03", "bank_ref": f"NX{uuid4().hex[:12]}", **extra}


def get_case(client, as_role, case_id: str, role: str = "county", **params: str) -> Any:
    return client.get(f"/v1/relief/cases/{case_id}", headers=as_role(role), params=params)


def balance(client, as_role, fund_id: str) -> int:
    response = client.get(f"/v1/relief/funds/{fund_id}", headers=as_role("auditor"))
    assert response.status_code == 200, response.text
    return response.json()["balance_fen"]


def topics(runtime) -> list[str]:
    return [n.topic for n in runtime.app.recorder.select_notifications(start=1, limit=10_000)]


# --- the chain -------------------------------------------------------------------------------------


def test_the_chain_runs_end_to_end_over_http(client, as_role):
    fund_id = allocate(client, as_role, amount=1_000_000)
    top_up = client.post(
        "/v1/relief/funds",
        headers=as_role("city"),
        json={
            "county": COUNTY,
            "programme": "winter_spring",
            "period": PERIOD,
            "source": "city",
            "amount_fen": 200_000,
            "document": "盐财社〔2025〕7号",
        },
    )
    assert top_up.status_code == 200, top_up.text
    assert top_up.json()["id"] == fund_id

    case_id = apply(client, as_role)
    assessed = step(
        client,
        as_role,
        "township",
        f"/v1/relief/cases/{case_id}/assessment",
        {"minutes_ref": "会议记录", "approved": True, "held_on": str(TODAY)},
    )
    assert assessed["version"] == 2
    step(client, as_role, "township", f"/v1/relief/cases/{case_id}/posting", POSTING)
    later(client)
    step(client, as_role, "township", f"/v1/relief/cases/{case_id}/township-review")
    step(client, as_role, "relief_officer", f"/v1/relief/cases/{case_id}/approval", {"amount_fen": 90_000})
    paid = step(
        client, as_role, "county", f"/v1/relief/cases/{case_id}/payments", payment(60_000), status=201
    )
    assert paid["id"] == case_id
    step(
        client,
        as_role,
        "county",
        f"/v1/relief/cases/{case_id}/goods",
        {"item": "棉被", "quantity": 2, "value_fen": 30_000, "evidence": [PHOTO]},
    )
    step(
        client, as_role, "relief_officer", f"/v1/relief/cases/{case_id}/payments", payment(30_000), status=201
    )

    shown = get_case(client, as_role, case_id, role="auditor")
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["stage"] == "paid"
    assert (body["approved_fen"], body["paid_fen"], body["goods_fen"]) == (90_000, 90_000, 30_000)
    assert {k: body["posting"][k] for k in POSTING} == POSTING
    assert balance(client, as_role, fund_id) == 1_200_000 - 90_000


def test_an_upheld_objection_over_http_rejects_the_case_and_a_new_application_is_accepted(client, as_role):
    case_id = posted(client, as_role)
    step(
        client,
        as_role,
        "township",
        f"/v1/relief/cases/{case_id}/objections",
        {"summary": "村民反映该户家庭收入较高", "raised_on": str(TODAY)},
    )
    [objection] = get_case(client, as_role, case_id).json()["objections"]
    later(client)
    error = assert_error(
        client.post(f"/v1/relief/cases/{case_id}/township-review", headers=as_role("township")),
        409,
        "objections_open",
    )
    assert error["details"] == {"objections": [objection]}
    step(
        client,
        as_role,
        "township",
        f"/v1/relief/cases/{case_id}/objections/{objection}/resolution",
        {"resolution": "经入户核实，异议成立", "upheld": True},
    )
    assert get_case(client, as_role, case_id).json()["stage"] == "rejected"
    assert apply(client, as_role) != case_id


def test_a_returned_payment_over_http_restores_the_fund_balance(client, as_role):
    fund_id = allocate(client, as_role, amount=90_000)
    case_id = approved(client, as_role)
    step(
        client,
        as_role,
        "county",
        f"/v1/relief/cases/{case_id}/payments",
        payment(payment_id="pay-1"),
        status=201,
    )
    assert balance(client, as_role, fund_id) == 0
    step(
        client,
        as_role,
        "county",
        f"/v1/relief/cases/{case_id}/payments/pay-1/return",
        {"reason": "账户已销户"},
    )
    assert balance(client, as_role, fund_id) == 90_000
    assert get_case(client, as_role, case_id).json()["stage"] == "approved"
    step(client, as_role, "county", f"/v1/relief/cases/{case_id}/payments", payment(), status=201)
    assert balance(client, as_role, fund_id) == 0


# --- personal data -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_masked_personal_data_by_default(client, as_role, role):
    case_id = apply(client, as_role, id_number=ZHAO.lower())
    response = get_case(client, as_role, case_id, role=role)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["masked"] is True
    assert body["id_number"] == "320921********" + ZHAO[-4:]
    assert body["phone"] == "138****8000"
    assert body["card_number"] == "*" * (len(CARD) - 4) + CARD[-4:]
    assert_no_clear_personal_data(response.text)


@pytest.mark.parametrize("role", ["county", "relief_officer"])
def test_county_and_relief_officers_may_reveal_with_a_purpose_and_the_read_is_recorded(
    client, as_role, runtime, role
):
    case_id = apply(client, as_role)
    before = runtime.position()
    assert "PersonalDataViewed" not in " ".join(topics(runtime))
    response = get_case(client, as_role, case_id, role=role, reveal="true", purpose="核对一卡通账号后发放")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["masked"] is False
    assert (body["id_number"], body["phone"], body["card_number"]) == (ZHANG, PHONE, CARD)
    assert runtime.position() == before + 1
    viewed = [t for t in topics(runtime) if "PersonalDataViewed" in t]
    assert len(viewed) == 1

    get_case(client, as_role, case_id, role=role, reveal="true", purpose="再次核对")
    assert len([t for t in topics(runtime) if "PersonalDataViewed" in t]) == 2


@pytest.mark.parametrize("role", ["township", "city", "auditor", "province", "admin"])
def test_other_roles_may_not_reveal(client, as_role, runtime, role):
    case_id = apply(client, as_role)
    before = runtime.position()
    response = get_case(client, as_role, case_id, role=role, reveal="true", purpose="想看看")
    assert_error(response, 403)
    assert_no_clear_personal_data(response.text)
    assert runtime.position() == before


@pytest.mark.parametrize("purpose", [None, "", "   "])
def test_a_reveal_without_a_purpose_is_refused(client, as_role, runtime, purpose):
    case_id = apply(client, as_role)
    before = runtime.position()
    params = {"reveal": "true"} | ({"purpose": purpose} if purpose is not None else {})
    response = get_case(client, as_role, case_id, role="county", **params)
    error = assert_error(response, 422)
    assert "purpose" in [f["field"] for f in error["fields"]]
    assert_no_clear_personal_data(response.text)
    assert runtime.position() == before


def test_no_answer_of_the_chain_carries_clear_personal_data(client, as_role):
    allocate(client, as_role)
    texts = []
    response = client.post("/v1/relief/cases", headers=as_role("township"), json=application())
    texts.append(response.text)
    case_id = response.json()["id"]
    texts.append(client.post("/v1/relief/cases", headers=as_role("township"), json=application()).text)  # 409
    later_done = False
    for path, body in [
        ("assessment", {"minutes_ref": "记录", "approved": True, "held_on": str(TODAY)}),
        ("posting", POSTING),
        ("township-review", None),
    ]:
        if path == "township-review" and not later_done:
            later(client)
            later_done = True
        texts.append(
            client.post(f"/v1/relief/cases/{case_id}/{path}", headers=as_role("township"), json=body).text
        )
    texts.append(
        client.post(
            f"/v1/relief/cases/{case_id}/approval", headers=as_role("county"), json={"amount_fen": 90_000}
        ).text
    )
    texts.append(
        client.post(f"/v1/relief/cases/{case_id}/payments", headers=as_role("county"), json=payment()).text
    )
    for role in ROLES:
        texts.append(get_case(client, as_role, case_id, role=role).text)
    bad = client.post(
        "/v1/relief/cases",
        headers=as_role("township"),
        json=application(
            id_number=LI[:-1] + ("0" if LI[-1] != "0" else "1"),
            phone="1380013800",
            card_number=CARD[:-1] + str((int(CARD[-1]) + 1) % 10),
        ),
    )
    assert_error(bad, 422)
    texts.append(bad.text)
    for text in texts:
        assert_no_clear_personal_data(text)
        assert LI[:-1] not in text


def test_the_store_keeps_personal_data_only_encrypted(client, as_role, runtime):
    apply(client, as_role)
    states = [bytes(n.state) for n in runtime.app.recorder.select_notifications(start=1, limit=10_000)]
    assert states
    for state in states:
        for value in (ZHANG, PHONE, CARD):
            assert value.encode() not in state


# --- the one error shape -----------------------------------------------------------------------------


def test_without_a_valid_token_the_answer_is_401(client, as_role):
    case_id = apply(client, as_role)
    assert_error(client.get(f"/v1/relief/cases/{case_id}"), 401)
    assert_error(client.post("/v1/relief/cases", json=application(id_number=LI)), 401)
    assert_error(client.get(f"/v1/relief/cases/{case_id}", headers={"Authorization": "Bearer nope"}), 401)


def test_a_role_or_scope_that_may_not_act_gets_403(client, as_role, runtime):
    allocate(client, as_role)
    case_id = posted(client, as_role)
    before = runtime.position()
    assert_error(
        client.post(
            "/v1/relief/cases",
            headers=as_role("township"),
            json=application(id_number=LI, village=CHENJIAGANG_VILLAGE),
        ),
        403,
    )
    assert_error(client.post(f"/v1/relief/cases/{case_id}/township-review", headers=as_role("auditor")), 403)
    assert_error(client.post(f"/v1/relief/cases/{case_id}/township-review", headers=as_role("county")), 403)
    later(client)
    step(client, as_role, "township", f"/v1/relief/cases/{case_id}/township-review")
    before = runtime.position()
    for role in ("township", "city", "auditor"):
        assert_error(
            client.post(
                f"/v1/relief/cases/{case_id}/approval", headers=as_role(role), json={"amount_fen": 90_000}
            ),
            403,
        )
    step(client, as_role, "county", f"/v1/relief/cases/{case_id}/approval", {"amount_fen": 90_000})
    before = runtime.position()
    for role in ("township", "city", "province", "auditor"):
        assert_error(
            client.post(f"/v1/relief/cases/{case_id}/payments", headers=as_role(role), json=payment()), 403
        )
    assert runtime.position() == before


def test_an_unknown_case_or_fund_is_404(client, as_role):
    assert_error(get_case(client, as_role, str(uuid4())), 404, "not_found")
    assert_error(client.get(f"/v1/relief/funds/{uuid4()}", headers=as_role("county")), 404, "not_found")
    assert_error(
        client.post(f"/v1/relief/cases/{uuid4()}/payments", headers=as_role("county"), json=payment()),
        404,
        "not_found",
    )


def test_a_second_open_case_for_the_same_head_is_409_with_the_existing_case(client, as_role, runtime):
    first = apply(client, as_role, id_number=ZHAO)
    before = runtime.position()
    response = client.post(
        "/v1/relief/cases",
        headers=as_role("county"),
        json=application(id_number=ZHAO.lower(), programme="winter_spring"),
    )
    error = assert_error(response, 409, "duplicate_case")
    assert error["details"] == {"existing_id": first}
    assert runtime.position() == before
    other = apply(client, as_role, role="county", id_number=ZHAO, programme="transitional")
    assert get_case(client, as_role, other).json()["review_flags"] == ["also_in:winter_spring"]


def test_an_invalid_application_is_422_naming_each_field(client, as_role, runtime):
    before = runtime.position()
    response = client.post(
        "/v1/relief/cases",
        headers=as_role("township"),
        json=application(
            id_number=gb11643("32092119800230123"), phone="12345", people_in_need=5, household_size=4
        ),
    )
    error = assert_error(response, 422)
    assert {f["field"] for f in error["fields"]} == {"id_number", "phone", "people_in_need"}
    assert gb11643("32092119800230123") not in response.text
    assert runtime.position() == before


def test_a_request_of_the_wrong_shape_is_422_in_the_same_shape(client, as_role):
    error = assert_error(
        client.post(
            "/v1/relief/cases",
            headers=as_role("township"),
            json=application(household_size=0, unexpected="x"),
        ),
        422,
        "invalid_request",
    )
    assert {"household_size", "unexpected"} <= {f["field"] for f in error["fields"]}
    long_id = "3" * 31
    response = client.post(
        "/v1/relief/cases", headers=as_role("township"), json=application(id_number=long_id)
    )
    assert_error(response, 422)
    assert long_id not in response.text


def test_the_posting_and_the_amount_rules_answer_409_and_422(client, as_role, runtime):
    case_id = apply(client, as_role)
    step(
        client,
        as_role,
        "township",
        f"/v1/relief/cases/{case_id}/assessment",
        {"minutes_ref": "记录", "approved": True, "held_on": str(TODAY)},
    )
    short = {
        "start": str(TODAY),
        "end": str(TODAY + timedelta(days=4)),
        "place": "公开栏",
    }
    error = assert_error(
        client.post(f"/v1/relief/cases/{case_id}/posting", headers=as_role("township"), json=short), 422
    )
    assert [(f["field"], f["code"]) for f in error["fields"]] == [("end", "posting_too_short")]
    running = {
        "start": str(TODAY),
        "end": str(TODAY + timedelta(days=7)),
        "place": "公开栏",
    }
    step(client, as_role, "township", f"/v1/relief/cases/{case_id}/posting", running)
    assert_error(
        client.post(f"/v1/relief/cases/{case_id}/township-review", headers=as_role("township")),
        409,
        "posting_not_ended",
    )

    other = posted(client, as_role, id_number=LI)
    later(client)
    step(client, as_role, "township", f"/v1/relief/cases/{other}/township-review")
    before = runtime.position()
    error = assert_error(
        client.post(
            f"/v1/relief/cases/{other}/approval", headers=as_role("county"), json={"amount_fen": 90_001}
        ),
        422,
        "above_standard",
    )
    assert error["details"] == {"cap_fen": 90_000, "standard": "winter_spring/national"}
    assert runtime.position() == before
    step(
        client,
        as_role,
        "county",
        f"/v1/relief/cases/{other}/approval",
        {"amount_fen": 90_001, "reason": "倒房重建户，村委会书面说明"},
    )


def test_refused_payments_write_nothing(client, as_role, runtime):
    fund_id = allocate(client, as_role, amount=50_000)
    early = posted(client, as_role, id_number=LI)
    case_id = approved(client, as_role, amount=90_000)
    before = runtime.position()
    assert_error(
        client.post(f"/v1/relief/cases/{early}/payments", headers=as_role("county"), json=payment(10)),
        409,
        "wrong_stage",
    )
    error = assert_error(
        client.post(f"/v1/relief/cases/{case_id}/payments", headers=as_role("county"), json=payment(60_000)),
        409,
        "insufficient_funds",
    )
    assert error["details"] == {"balance_fen": 50_000, "requested_fen": 60_000}
    error = assert_error(
        client.post(f"/v1/relief/cases/{case_id}/payments", headers=as_role("county"), json=payment(90_001)),
        422,
        "above_approved",
    )
    assert error["details"] == {"remaining_fen": 90_000}
    assert_error(
        client.post(f"/v1/relief/cases/{case_id}/payments", headers=as_role("county"), json=payment(0)),
        422,
        "invalid_request",
    )
    assert runtime.position() == before
    assert balance(client, as_role, fund_id) == 50_000
    assert get_case(client, as_role, case_id).json()["paid_fen"] == 0


# --- idempotent payment -------------------------------------------------------------------------------


def test_a_payment_retried_with_the_same_idempotency_key_pays_once(client, as_role, runtime):
    fund_id = allocate(client, as_role, amount=1_000_000)
    case_id = approved(client, as_role, amount=90_000)
    body = payment(45_000)
    key = {"Idempotency-Key": "batch03-case-0001"}
    first = client.post(f"/v1/relief/cases/{case_id}/payments", headers=as_role("county", **key), json=body)
    assert first.status_code == 201, first.text
    after_first = runtime.position()

    for _ in range(3):
        retry = client.post(
            f"/v1/relief/cases/{case_id}/payments", headers=as_role("county", **key), json=body
        )
        assert retry.status_code == 201, retry.text
        assert retry.json()["id"] == first.json()["id"]
        assert retry.json()["version"] == first.json()["version"]
    assert runtime.position() == after_first
    assert balance(client, as_role, fund_id) == 1_000_000 - 45_000
    shown = get_case(client, as_role, case_id).json()
    assert shown["paid_fen"] == 45_000
    assert len(shown["payments"]) == 1

    other_body = assert_error(
        client.post(
            f"/v1/relief/cases/{case_id}/payments", headers=as_role("county", **key), json=payment(40_000)
        ),
        422,
        "idempotency_key_reused",
    )
    assert other_body["fields"][0]["field"] == "Idempotency-Key"
    assert balance(client, as_role, fund_id) == 1_000_000 - 45_000


def test_the_same_payment_id_twice_without_a_key_is_refused(client, as_role):
    fund_id = allocate(client, as_role)
    case_id = approved(client, as_role)
    step(
        client,
        as_role,
        "county",
        f"/v1/relief/cases/{case_id}/payments",
        payment(10_000, payment_id="p-1"),
        status=201,
    )
    assert_error(
        client.post(
            f"/v1/relief/cases/{case_id}/payments",
            headers=as_role("county"),
            json=payment(10_000, payment_id="p-1"),
        ),
        409,
        "duplicate_payment",
    )
    assert balance(client, as_role, fund_id) == 1_000_000 - 10_000


def test_funds_and_cases_are_read_within_scope_only(client, as_role, runtime, tokens):
    from ledger.accounts.service import local_operator

    runtime.accounts.register(local_operator(), "binhai", "county", "320922")
    token, _ = runtime.accounts.issue_token(local_operator(), "binhai")
    binhai = {"Authorization": f"Bearer {token}"}
    fund_id = allocate(client, as_role)
    case_id = apply(client, as_role)
    assert_error(client.get(f"/v1/relief/cases/{case_id}", headers=binhai), 403)
    assert_error(
        client.get(f"/v1/relief/cases/{case_id}", headers=binhai, params={"reveal": "true", "purpose": "x"}),
        403,
    )
    assert_error(client.get(f"/v1/relief/funds/{fund_id}", headers=binhai), 403)


def test_posting_dates_come_back_as_iso_dates(client, as_role):
    case_id = posted(client, as_role)
    posting = get_case(client, as_role, case_id).json()["posting"]
    assert date.fromisoformat(posting["end"]) == TODAY + timedelta(days=6)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", posting["start"])
