"""Retries and optimistic concurrency over HTTP: Idempotency-Key and If-Match / ETag.

A retry with the same key returns the first answer and writes nothing; the same
key with another body is refused; keys belong to one account. If-Match carries
the version a change is based on; a stale one is refused and writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.subtypes import default_subtype

COUNTY = "320921"  # 响水县
XIANGSHUI = "320921100"  # 响水镇
CHENJIAGANG = "320921101"  # 陈家港镇


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields", "details"}
    assert body["error"]["code"] == code, body
    return body["error"]


def initial_body(hazard: str = "flood", township: str = XIANGSHUI, value: int = 120) -> dict[str, Any]:
    return {"county": COUNTY, "hazard": hazard, "subtype": default_subtype(hazard), "occurred_at": ago(days=3),
            "figures": {township: {"affected_population": value, "crop_affected_ha": "850.50"}}}


def figures_body(value: int = 130, township: str = XIANGSHUI, days: float = 1) -> dict[str, Any]:
    return {"as_of": ago(days=days), "figures": {township: {"affected_population": value}}}


def open_disaster(client, as_role, role: str = "county") -> str:
    response = client.post("/v1/disasters", json=initial_body(), headers=as_role(role))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def event_types(client, as_role, disaster_id: str) -> list[str]:
    response = client.get(f"/v1/disasters/{disaster_id}/history", headers=as_role("county"))
    assert response.status_code == 200, response.text
    return [e["type"] for e in response.json()]


def current(client, as_role, disaster_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county"))
    assert response.status_code == 200, response.text
    return response.json()


# --- Idempotency-Key -----------------------------------------------------------------------


def test_initial_report_retried_with_the_same_key_gets_the_first_answer_and_writes_nothing(
        client, as_role, runtime):
    body = initial_body()
    first = client.post("/v1/disasters", json=body, headers=as_role("township", **{"Idempotency-Key": "flood-0708-1"}))
    assert first.status_code == 201, first.text
    after_first = runtime.position()

    retry = client.post("/v1/disasters", json=body, headers=as_role("township", **{"Idempotency-Key": "flood-0708-1"}))
    assert retry.status_code == 201, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["version"] == first.json()["version"] == 1
    assert retry.headers["etag"] == first.headers["etag"]
    assert runtime.position() == after_first

    disaster_id = first.json()["id"]
    assert event_types(client, as_role, disaster_id) == ["InitialReportFiled"]
    assert current(client, as_role, disaster_id)["version"] == 1

    # Without the key the second 初报 of the same process is a duplicate, not a retry.
    duplicate = client.post("/v1/disasters", json=body, headers=as_role("township"))
    assert assert_error(duplicate, 409, "duplicate_process")["details"]["existing_id"] == disaster_id
    assert runtime.position() == after_first


def test_same_key_with_a_different_body_is_refused_and_writes_nothing(client, as_role, runtime):
    key = {"Idempotency-Key": "report-42"}
    first = client.post("/v1/disasters", json=initial_body(value=120), headers=as_role("county", **key))
    assert first.status_code == 201, first.text
    disaster_id = first.json()["id"]
    before = runtime.position()

    changed = client.post("/v1/disasters", json=initial_body(value=999), headers=as_role("county", **key))
    error = assert_error(changed, 422, "idempotency_key_reused")
    assert [f["field"] for f in error["fields"]] == ["Idempotency-Key"]
    assert " / " in error["message"]

    other_hazard = client.post("/v1/disasters", json=initial_body(hazard="typhoon"), headers=as_role("county", **key))
    assert_error(other_hazard, 422, "idempotency_key_reused")

    assert runtime.position() == before
    assert current(client, as_role, disaster_id)["totals"]["affected_population"] == "120"


def test_same_key_with_a_different_body_on_a_follow_up_is_refused(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    key = {"Idempotency-Key": "follow-up-1"}
    body = figures_body(130)
    first = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=body, headers=as_role("county", **key))
    assert first.status_code == 201, first.text
    before = runtime.position()
    assert client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=body,
                       headers=as_role("county", **key)).json() | {"position": 0} == first.json() | {"position": 0}
    changed = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(140),
                          headers=as_role("county", **key))
    assert_error(changed, 422, "idempotency_key_reused")
    assert runtime.position() == before
    assert current(client, as_role, disaster_id)["version"] == 2


def test_a_retry_whose_json_members_are_in_another_order_is_the_same_request(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    key = {"Idempotency-Key": "follow-up-ordered"}
    as_of = ago(days=1)
    first = client.post(f"/v1/disasters/{disaster_id}/follow-ups", headers=as_role("county", **key), json={
        "as_of": as_of, "figures": {XIANGSHUI: {"affected_population": 130, "deaths": 1},
                                    CHENJIAGANG: {"injured": 2}}})
    assert first.status_code == 201, first.text
    before = runtime.position()
    retry = client.post(f"/v1/disasters/{disaster_id}/follow-ups", headers=as_role("county", **key), json={
        "figures": {CHENJIAGANG: {"injured": 2}, XIANGSHUI: {"deaths": 1, "affected_population": 130}},
        "as_of": as_of})
    assert retry.status_code == 201, retry.text
    assert retry.json()["version"] == first.json()["version"]
    assert runtime.position() == before


def test_retried_final_report_returns_the_first_answer_not_a_conflict(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    body = figures_body(130)
    key = {"Idempotency-Key": "final-report"}
    first = client.post(f"/v1/disasters/{disaster_id}/final", json=body, headers=as_role("county", **key))
    assert first.status_code == 201, first.text
    before = runtime.position()

    retry = client.post(f"/v1/disasters/{disaster_id}/final", json=body, headers=as_role("county", **key))
    assert retry.status_code == 201, retry.text
    assert (retry.json()["id"], retry.json()["version"]) == (first.json()["id"], first.json()["version"]) \
        == (disaster_id, 2)
    assert runtime.position() == before

    # A genuinely new 核报 (a new key) is refused: the process is closed.
    again = client.post(f"/v1/disasters/{disaster_id}/final", json=body,
                        headers=as_role("county", **{"Idempotency-Key": "final-report-2"}))
    assert_error(again, 409, "report_closed")
    assert runtime.position() == before
    reports = current(client, as_role, disaster_id)["reports"]
    assert [r["kind"] for r in reports] == ["initial", "final"]


def test_retry_of_an_accept_gets_the_first_answer_instead_of_already_reviewed(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, role="township")
    key = {"Idempotency-Key": "accept-1"}
    first = client.post(f"/v1/disasters/{disaster_id}/reports/1/accept", headers=as_role("county", **key))
    assert first.status_code == 200, first.text
    before = runtime.position()
    retry = client.post(f"/v1/disasters/{disaster_id}/reports/1/accept", headers=as_role("county", **key))
    assert retry.status_code == 200, retry.text
    assert retry.json()["version"] == first.json()["version"] == 2
    assert runtime.position() == before
    # The same action without the key is a second review and is refused.
    assert_error(client.post(f"/v1/disasters/{disaster_id}/reports/1/accept", headers=as_role("county")),
                 409, "already_reviewed")


def test_idempotency_keys_belong_to_one_account(client, as_role, runtime):
    key = "shared-key-1"
    by_township = client.post("/v1/disasters", json=initial_body(hazard="flood"),
                              headers=as_role("township", **{"Idempotency-Key": key}))
    assert by_township.status_code == 201, by_township.text

    # Another account using the same key for another request is not refused as a reused key ...
    by_county = client.post("/v1/disasters", json=initial_body(hazard="typhoon", township=CHENJIAGANG),
                            headers=as_role("county", **{"Idempotency-Key": key}))
    assert by_county.status_code == 201, by_county.text
    assert by_county.json()["id"] != by_township.json()["id"]

    # ... nor answered with the township's result: the same body is a real second 初报, a duplicate.
    before = runtime.position()
    same_body = client.post("/v1/disasters", json=initial_body(hazard="flood"),
                            headers=as_role("city", **{"Idempotency-Key": key}))
    error = assert_error(same_body, 409, "duplicate_process")
    assert error["details"]["existing_id"] == by_township.json()["id"]
    assert runtime.position() == before


def test_the_same_key_on_another_process_is_independent(client, as_role):
    flood = open_disaster(client, as_role)
    typhoon = client.post("/v1/disasters", json=initial_body(hazard="typhoon"), headers=as_role("county"))
    assert typhoon.status_code == 201
    key = {"Idempotency-Key": "daily-follow-up"}
    first = client.post(f"/v1/disasters/{flood}/follow-ups", json=figures_body(130), headers=as_role("county", **key))
    second = client.post(f"/v1/disasters/{typhoon.json()['id']}/follow-ups", json=figures_body(130),
                         headers=as_role("county", **key))
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == flood and second.json()["id"] == typhoon.json()["id"]


def test_an_invalid_idempotency_key_is_refused(client, as_role, runtime):
    before = runtime.position()
    for bad in ("x" * 201, "   "):
        response = client.post("/v1/disasters", json=initial_body(), headers=as_role("county", **{"Idempotency-Key": bad}))
        error = assert_error(response, 422, "invalid")
        assert [f["field"] for f in error["fields"]] == ["Idempotency-Key"]
    assert runtime.position() == before


# --- If-Match / ETag ------------------------------------------------------------------------


def test_if_match_with_the_current_version_succeeds_and_the_etag_is_the_new_version(client, as_role):
    disaster_id = open_disaster(client, as_role)
    read = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county"))
    assert read.headers["etag"] == '"1"'

    changed = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(),
                          headers=as_role("county", **{"If-Match": read.headers["etag"]}))
    assert changed.status_code == 201, changed.text
    assert changed.json()["version"] == 2
    assert changed.headers["etag"].strip('"') == "2"
    assert changed.headers["location"] == f"/v1/disasters/{disaster_id}"
    assert client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county")).headers["etag"] == '"2"'


def test_stale_if_match_is_refused_with_the_current_version_and_writes_nothing(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    assert client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(130),
                       headers=as_role("county")).status_code == 201
    before = runtime.position()

    stale_commands = [
        ("follow-ups", figures_body(140)),
        ("final", figures_body(140)),
        ("corrections", {"reason": "文字有误", "text": "更正"}),
        ("stabilisation", {"stabilised_at": ago(days=1)}),
        ("retraction", {"reason": "误报"}),
        ("reports/1/return", {"reason": "请核实"}),
    ]
    for suffix, body in stale_commands:
        response = client.post(f"/v1/disasters/{disaster_id}/{suffix}", json=body,
                               headers=as_role("city" if suffix.startswith("reports") else "county",
                                               **{"If-Match": "1"}))
        error = assert_error(response, 409, "version_mismatch")
        assert error["details"]["current_version"] == 2
        assert error["details"]["expected_version"] == 1
        assert " / " in error["message"]
    stale_accept = client.post(f"/v1/disasters/{disaster_id}/reports/1/accept",
                               headers=as_role("city", **{"If-Match": '"1"'}))
    assert assert_error(stale_accept, 409, "version_mismatch")["details"]["current_version"] == 2

    assert runtime.position() == before
    state = current(client, as_role, disaster_id)
    assert state["version"] == 2
    assert state["totals"]["affected_population"] == "130"


def test_if_match_accepts_a_bare_or_a_quoted_version(client, as_role):
    disaster_id = open_disaster(client, as_role)
    bare = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(130, days=2),
                       headers=as_role("county", **{"If-Match": "1"}))
    assert bare.status_code == 201, bare.text
    quoted = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(140, days=1.5),
                         headers=as_role("county", **{"If-Match": '"2"'}))
    assert quoted.status_code == 201, quoted.text
    weak = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(150, days=1),
                       headers=as_role("county", **{"If-Match": 'W/"3"'}))
    assert weak.status_code == 201, weak.text
    assert weak.json()["version"] == 4


def test_malformed_if_match_is_refused_with_422(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    before = runtime.position()
    for bad in ("abc", "1.0", "-1", "v2", "three", "1,2", "9" * 13):
        response = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(),
                               headers=as_role("county", **{"If-Match": bad}))
        error = assert_error(response, 422, "invalid")
        assert [f["field"] for f in error["fields"]] == ["If-Match"], bad
    assert runtime.position() == before


def test_a_retry_with_the_same_key_gets_the_first_answer_even_if_its_if_match_is_now_stale(
        client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    headers = as_role("county", **{"If-Match": "1", "Idempotency-Key": "fu-1"})
    body = figures_body()
    first = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=body, headers=headers)
    assert first.status_code == 201, first.text
    before = runtime.position()
    retry = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.json()["version"] == 2
    assert runtime.position() == before
