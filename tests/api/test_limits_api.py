"""Hostile and careless input at the edge: text no person types, oversized and mis-encoded bodies,
dates out of range, token guessing — and the positions commands answer.

Each refusal is a 4xx in the one error shape and writes nothing; every test
runs on SQLite and on PostgreSQL (PostgreSQL is where a NUL used to get in and
stop the roster for good).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.runtime import LedgerRuntime
from tests.api.test_idempotency_api import initial_body
from tests.api.test_relief_api import TODAY, allocate, application, assert_error


def position(runtime: LedgerRuntime) -> int:
    return runtime.position()


# --- text that cannot be stored ------------------------------------------------------------------

BAD_TEXT = {
    "NUL": "张\u0000三",
    "bell": "张三\u0007",
    "escape": "\u001b[31m张三",
    "lone surrogate": "张\ud800三",
    "C1 control": "张\u0085三",
    "lone CR": "第一行\r第二行",
}


@pytest.mark.parametrize("kind", list(BAD_TEXT))
def test_a_household_head_name_no_person_types_is_refused_and_nothing_is_written(
    kind: str, client: TestClient, as_role: Any, runtime: LedgerRuntime,
) -> None:
    before = position(runtime)
    body = json.dumps(application(head_name=BAD_TEXT[kind]))  # escaped as JSON allows (\\u0000, \\ud800)
    response = client.post("/v1/relief/cases", content=body,
                           headers=as_role("township", **{"Content-Type": "application/json"}))
    error = assert_error(response, 422)
    # the JSON layer already refuses a lone surrogate (invalid_request); the ledger refuses the rest (bad_text)
    assert error["code"] == ("invalid_request" if kind == "lone surrogate" else "bad_text")
    assert error["fields"][0]["field"] == "head_name"
    assert position(runtime) == before


@pytest.mark.parametrize(("path", "field"), [
    ("/v1/disasters", "text"), ("/v1/disasters", "explanation"),
])
def test_report_texts_with_a_nul_are_refused(path: str, field: str, client: TestClient, as_role: Any,
                                             runtime: LedgerRuntime) -> None:
    before = position(runtime)
    body = {**initial_body(), field: "灌河\u0000水位上涨"}
    error = assert_error(client.post(path, json=body, headers=as_role("county")), 422, "bad_text")
    assert error["fields"][0]["field"] == field
    assert position(runtime) == before


def test_a_reason_with_a_control_character_is_refused_on_an_existing_process(
    client: TestClient, as_role: Any, runtime: LedgerRuntime,
) -> None:
    disaster = client.post("/v1/disasters", json=initial_body(), headers=as_role("county")).json()["id"]
    before = position(runtime)
    response = client.post(f"/v1/disasters/{disaster}/retraction", json={"reason": "误报\u0000"},
                           headers=as_role("county"))
    assert_error(response, 422, "bad_text")
    assert position(runtime) == before
    assert client.get(f"/v1/disasters/{disaster}", headers=as_role("county")).json()["stage"] == "initial"


def test_tabs_and_line_breaks_are_text(client: TestClient, as_role: Any) -> None:
    body = {**initial_body(), "text": "第一行\r\n第二行\n\t第三行"}
    response = client.post("/v1/disasters", json=body, headers=as_role("county"))
    assert response.status_code == 201, response.text
    shown = client.get(f"/v1/disasters/{response.json()['id']}", headers=as_role("county")).json()
    assert shown["text"] == "第一行\r\n第二行\n\t第三行"


# --- bodies ----------------------------------------------------------------------------------------


@pytest.fixture
def small_client(runtime: LedgerRuntime) -> Iterator[TestClient]:
    settings = Settings(max_body_bytes=2000, max_upload_bytes=5000, auth_failure_burst=100_000)
    with TestClient(create_app(runtime, settings), raise_server_exceptions=False) as c:
        yield c


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(
    small_client: TestClient, as_role: Any, runtime: LedgerRuntime,
) -> None:
    before = position(runtime)
    body = {**initial_body(), "text": "水" * 3000}
    error = assert_error(small_client.post("/v1/disasters", json=body, headers=as_role("county")), 413,
                         "body_too_large")
    assert error["details"] == {"limit_bytes": 2000}
    assert position(runtime) == before


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(small_client: TestClient, as_role: Any) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b'{"padding": "' + b"x" * 100 + b'"}'

    response = small_client.post("/v1/disasters", content=chunks(),
                                 headers={**as_role("county"), "Content-Type": "application/json"})
    assert_error(response, 413, "body_too_large")


def test_an_upload_over_its_limit_is_refused_with_413(small_client: TestClient, as_role: Any) -> None:
    response = small_client.post(
        "/v1/relief/imports", data={"programme": "winter_spring", "period": "2025-2026"},
        files={"file": ("big.csv", b"a" * 6000, "text/csv")}, headers=as_role("township"),
    )
    assert_error(response, 413, "body_too_large")


@pytest.mark.parametrize("path", ["/v1/disasters", "/graphql"])
def test_a_body_that_is_not_utf8_is_a_400_not_a_crash(path: str, client: TestClient, as_role: Any) -> None:
    response = client.post(path, content=b'{"query": "{ me }", "x": "\xff\xfe"}',
                           headers={**as_role("county"), "Content-Type": "application/json"})
    error = assert_error(response, 400, "bad_encoding")
    assert error["fields"][0]["field"] == "body"


# --- dates -----------------------------------------------------------------------------------------


def test_goods_dated_in_the_far_future_or_before_1949_are_refused(
    client: TestClient, as_role: Any, runtime: LedgerRuntime,
) -> None:
    allocate(client, as_role)
    case = client.post("/v1/relief/cases", json=application(), headers=as_role("township")).json()["id"]
    evidence = [{"ref": "sha256:" + "0" * 64, "type": "image/jpeg", "name": "发放照片.jpg"}]
    for delivered_at, code in (("9999-12-31T10:00:00+08:00", "in_future"),
                               ((TODAY + timedelta(days=3)).isoformat() + "T10:00:00+08:00", "in_future"),
                               ("1900-01-01T10:00:00+08:00", "out_of_range")):
        before = position(runtime)
        response = client.post(f"/v1/relief/cases/{case}/goods", headers=as_role("county"),
                               json={"item": "棉被", "quantity": 1, "value_fen": 100, "delivered_at": delivered_at,
                                     "evidence": evidence})
        error = assert_error(response, 422)
        assert (error["fields"][0]["field"], error["fields"][0]["code"]) == ("delivered_at", code)
        assert position(runtime) == before


def test_an_application_dated_tomorrow_plus_two_is_refused(client: TestClient, as_role: Any) -> None:
    later = (TODAY + timedelta(days=2)).isoformat()
    error = assert_error(client.post("/v1/relief/cases", json=application(applied_on=later),
                                     headers=as_role("township")), 422)
    assert [f["field"] for f in error["fields"]] == ["applied_on"]


# --- token guessing -------------------------------------------------------------------------------


def test_a_client_that_keeps_failing_to_authenticate_is_slowed(runtime: LedgerRuntime,
                                                                tokens: dict[str, str]) -> None:
    settings = Settings(auth_failure_burst=3, auth_failures_per_minute=0.01)
    with TestClient(create_app(runtime, settings), raise_server_exceptions=False) as client:
        for _ in range(3):
            assert_error(client.get("/v1/me", headers={"Authorization": "Bearer rl_guess"}), 401, "unauthenticated")
        refused = client.get("/v1/me", headers={"Authorization": "Bearer rl_guess"})
        assert_error(refused, 429, "too_many_failures")
        assert int(refused.headers["Retry-After"]) > 0
        # while slowed, even a right token waits: guessing cannot go faster than the refill
        assert_error(client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['county']}"}), 429,
                     "too_many_failures")
        graphql = client.post("/graphql", json={"query": "{ projectionStatus { name } }"},
                              headers={"Authorization": "Bearer rl_guess"})
        assert graphql.json()["errors"][0]["extensions"]["code"] == "too_many_failures"


def test_behind_a_trusted_proxy_each_client_address_has_its_own_bucket(runtime: LedgerRuntime,
                                                                        tokens: dict[str, str]) -> None:
    settings = Settings(auth_failure_burst=2, auth_failures_per_minute=0.01, trusted_proxies=["testclient"])
    with TestClient(create_app(runtime, settings), raise_server_exceptions=False) as client:
        guesser = {"Authorization": "Bearer rl_guess", "X-Forwarded-For": "203.0.113.9"}
        for _ in range(2):
            assert_error(client.get("/v1/me", headers=guesser), 401, "unauthenticated")
        assert_error(client.get("/v1/me", headers=guesser), 429, "too_many_failures")
        other = {"Authorization": f"Bearer {tokens['county']}", "X-Forwarded-For": "198.51.100.7"}
        assert client.get("/v1/me", headers=other).status_code == 200
        # a client cannot pick its own address: without the proxy, the header counts for nothing
    with TestClient(create_app(runtime, Settings(auth_failure_burst=1, auth_failures_per_minute=0.01)),
                    raise_server_exceptions=False) as client:
        assert_error(client.get("/v1/me", headers={"Authorization": "Bearer x", "X-Forwarded-For": "1.1.1.1"}),
                     401, "unauthenticated")
        assert_error(client.get("/v1/me", headers={"Authorization": "Bearer x", "X-Forwarded-For": "2.2.2.2"}),
                     429, "too_many_failures")


# --- positions -------------------------------------------------------------------------------------


def test_a_command_answers_the_position_of_its_own_event(client: TestClient, as_role: Any,
                                                          runtime: LedgerRuntime) -> None:
    answer = client.post("/v1/disasters", json=initial_body(), headers=as_role("county", **{"Idempotency-Key": "k1"}))
    assert answer.status_code == 201
    body = answer.json()
    [notification] = runtime.app.recorder.select_notifications(start=body["position"], limit=1)
    assert (str(notification.originator_id), notification.originator_version) == (body["id"], body["version"])
    assert runtime.position() == body["position"] + 1  # the idempotency record follows it


def test_a_replay_answers_the_position_of_the_original_event(client: TestClient, as_role: Any,
                                                              runtime: LedgerRuntime) -> None:
    body = initial_body()
    first = client.post("/v1/disasters", json=body, headers=as_role("county", **{"Idempotency-Key": "k2"}))
    client.post("/v1/disasters", json=initial_body(hazard="drought"), headers=as_role("county"))  # the log moves on
    again = client.post("/v1/disasters", json=body, headers=as_role("county", **{"Idempotency-Key": "k2"}))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert runtime.position() > first.json()["position"] + 1


def test_a_payment_answers_the_case_event_even_though_the_fund_is_saved_with_it(
    client: TestClient, as_role: Any, runtime: LedgerRuntime,
) -> None:
    allocate(client, as_role)
    case = client.post("/v1/relief/cases", json=application(), headers=as_role("township")).json()["id"]
    case_version = client.get(f"/v1/relief/cases/{case}", headers=as_role("county")).json()["version"]
    assert case_version == 1
    key = {"Idempotency-Key": "withdraw-1"}
    first = client.post(f"/v1/relief/cases/{case}/withdrawal", json={"reason": "户主申请撤回"},
                        headers=as_role("township", **key))
    again = client.post(f"/v1/relief/cases/{case}/withdrawal", json={"reason": "户主申请撤回"},
                        headers=as_role("township", **key))
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    [notification] = runtime.app.recorder.select_notifications(start=first.json()["position"], limit=1)
    assert str(notification.originator_id) == case  # the case's event, saved after the released claim
