"""Who may do what over HTTP: authentication (401) and role / scope (403).

Accounts (tests/conftest.py): township 320921100 响水镇, county 320921 响水县,
city 3209 盐城, province 32 江苏, relief_officer 320921, auditor 3209, admin 32.
Every refusal leaves the store untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from ledger.accounts.service import local_operator
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
    assert " / " in body["error"]["message"]
    return body["error"]


def forbidden(response: Any) -> dict[str, Any]:
    return assert_error(response, 403, "forbidden")


def initial_body(township: str = XIANGSHUI, hazard: str = "flood", county: str = COUNTY) -> dict[str, Any]:
    return {"county": county, "hazard": hazard, "subtype": default_subtype(hazard), "occurred_at": ago(days=3),
            "figures": {township: {"affected_population": 120}}}


def figures_body(township: str = XIANGSHUI, value: int = 130) -> dict[str, Any]:
    return {"as_of": ago(days=1), "figures": {township: {"affected_population": value}}}


def open_disaster(client, as_role, role: str = "township", hazard: str = "flood") -> str:
    response = client.post("/v1/disasters", json=initial_body(hazard=hazard), headers=as_role(role))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def extra_account(runtime, username: str, role: str, scope: str) -> dict[str, str]:
    operator = local_operator()
    runtime.accounts.register(operator, username, role, scope)
    token, _ = runtime.accounts.issue_token(operator, username)
    return {"Authorization": f"Bearer {token}"}


# --- 401 ------------------------------------------------------------------------------


def test_requests_without_a_valid_bearer_token_are_refused_with_401(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    before = runtime.position()
    bad_headers = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer rl_" + "x" * 43},
        {"Authorization": "Basic dGVzdC1jb3VudHk6c2VjcmV0"},
        {"Authorization": "rl_" + "x" * 43},
    ]
    for headers in bad_headers:
        for method, path, body in [
            ("GET", f"/v1/disasters/{disaster_id}", None),
            ("GET", f"/v1/disasters/{disaster_id}/history", None),
            ("GET", "/v1/me", None),
            ("POST", "/v1/disasters", initial_body(hazard="typhoon")),
            ("POST", f"/v1/disasters/{disaster_id}/follow-ups", figures_body()),
            ("POST", f"/v1/disasters/{disaster_id}/reports/1/accept", None),
        ]:
            response = client.request(method, path, json=body, headers=headers)
            error = assert_error(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"] == "Bearer", (headers, path)
            assert error["fields"] == [] and error["details"] == {}
            assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert runtime.position() == before


def test_the_real_token_of_another_scheme_is_not_accepted(client, as_role, tokens):
    assert client.get("/v1/me", headers=as_role("county")).status_code == 200
    for scheme in ("Basic", "Token", "Digest"):
        response = client.get("/v1/me", headers={"Authorization": f"{scheme} {tokens['county']}"})
        assert_error(response, 401, "unauthenticated")
    # The scheme name itself is case-insensitive (RFC 7235).
    assert client.get("/v1/me", headers={"Authorization": f"bearer {tokens['county']}"}).status_code == 200


def test_a_revoked_accounts_token_stops_working(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    me = client.get("/v1/me", headers=as_role("township"))
    assert me.status_code == 200 and me.json()["username"] == "test-township"

    runtime.accounts.revoke(local_operator(), "test-township", reason="调离岗位")

    before = runtime.position()
    assert_error(client.get("/v1/me", headers=as_role("township")), 401, "unauthenticated")
    assert_error(client.get(f"/v1/disasters/{disaster_id}", headers=as_role("township")), 401, "unauthenticated")
    refused = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(), headers=as_role("township"))
    assert_error(refused, 401, "unauthenticated")
    assert refused.headers["www-authenticate"] == "Bearer"
    assert runtime.position() == before
    # Other accounts are unaffected.
    assert client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county")).status_code == 200


# --- 403: filing ----------------------------------------------------------------------------


def test_township_may_file_only_for_its_own_township(client, as_role, runtime):
    before = runtime.position()
    forbidden(client.post("/v1/disasters", json=initial_body(township=CHENJIAGANG), headers=as_role("township")))
    both = initial_body()
    both["figures"][CHENJIAGANG] = {"affected_population": 3}
    forbidden(client.post("/v1/disasters", json=both, headers=as_role("township")))
    assert runtime.position() == before

    disaster_id = open_disaster(client, as_role)
    before = runtime.position()
    forbidden(client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(CHENJIAGANG),
                          headers=as_role("township")))
    assert runtime.position() == before
    ok = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(XIANGSHUI),
                     headers=as_role("township"))
    assert ok.status_code == 201, ok.text


def test_only_the_county_files_the_final_report(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    before = runtime.position()
    for role in ("township", "city", "province", "relief_officer", "auditor", "admin"):
        forbidden(client.post(f"/v1/disasters/{disaster_id}/final", json=figures_body(), headers=as_role(role)))
    assert runtime.position() == before
    final = client.post(f"/v1/disasters/{disaster_id}/final", json=figures_body(), headers=as_role("county"))
    assert final.status_code == 201, final.text


def test_county_of_another_county_can_neither_file_nor_read(client, as_role, runtime):
    binhai = extra_account(runtime, "binhai-county", "county", "320922")  # 滨海县, also in 盐城
    disaster_id = open_disaster(client, as_role)
    before = runtime.position()

    forbidden(client.post("/v1/disasters", json=initial_body(hazard="typhoon"), headers=binhai))
    forbidden(client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(), headers=binhai))
    forbidden(client.post(f"/v1/disasters/{disaster_id}/final", json=figures_body(), headers=binhai))
    forbidden(client.post(f"/v1/disasters/{disaster_id}/reports/1/accept", headers=binhai))
    forbidden(client.post(f"/v1/disasters/{disaster_id}/corrections", json={"reason": "x", "text": "y"},
                          headers=binhai))
    forbidden(client.post(f"/v1/disasters/{disaster_id}/retraction", json={"reason": "x"}, headers=binhai))
    forbidden(client.get(f"/v1/disasters/{disaster_id}", headers=binhai))
    forbidden(client.get(f"/v1/disasters/{disaster_id}/history", headers=binhai))
    assert runtime.position() == before


def test_reading_a_disaster_outside_ones_scope_is_forbidden(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    nanjing_city = extra_account(runtime, "nanjing-city", "city", "3201")
    other_township = extra_account(runtime, "xijiao-town", "township", "360202001")  # 景德镇 西郊街道
    zhejiang = extra_account(runtime, "zhejiang-province", "province", "33")
    for headers in (nanjing_city, other_township, zhejiang):
        forbidden(client.get(f"/v1/disasters/{disaster_id}", headers=headers))
        forbidden(client.get(f"/v1/disasters/{disaster_id}/history", headers=headers))
    # Within scope every role may read, the auditor included.
    for role in ("township", "county", "city", "province", "relief_officer", "auditor", "admin"):
        assert client.get(f"/v1/disasters/{disaster_id}", headers=as_role(role)).status_code == 200, role


def test_relief_officer_and_admin_do_not_file_disaster_reports(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    before = runtime.position()
    for role in ("relief_officer", "admin"):
        forbidden(client.post("/v1/disasters", json=initial_body(hazard="typhoon"), headers=as_role(role)))
        forbidden(client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(),
                              headers=as_role(role)))
    assert runtime.position() == before


def test_auditor_is_refused_on_every_command(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    follow_up = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(CHENJIAGANG, 50),
                            headers=as_role("county"))
    assert follow_up.status_code == 201, follow_up.text
    returned = client.post(f"/v1/disasters/{disaster_id}/reports/2/return", json={"reason": "请核实"},
                           headers=as_role("city"))
    assert returned.status_code == 200, returned.text

    before = runtime.position()
    commands: list[tuple[str, dict[str, Any] | None]] = [
        ("/v1/disasters", initial_body(hazard="typhoon")),
        (f"/v1/disasters/{disaster_id}/follow-ups", figures_body()),
        (f"/v1/disasters/{disaster_id}/final", figures_body()),
        (f"/v1/disasters/{disaster_id}/reports/1/accept", None),
        (f"/v1/disasters/{disaster_id}/reports/1/return", {"reason": "请核实"}),
        (f"/v1/disasters/{disaster_id}/reports/2/refile", figures_body(CHENJIAGANG, 50)),
        (f"/v1/disasters/{disaster_id}/corrections", {"reason": "灾种误报", "hazard": "wind_hail"}),
        (f"/v1/disasters/{disaster_id}/stabilisation", {"stabilised_at": ago(days=1)}),
        (f"/v1/disasters/{disaster_id}/response-level", {
            "action": "start", "level": 4, "plan": "预案", "plan_version": "2021", "government_level": "county",
            "decided_at": ago(days=2), "reason": "达到响应条件"}),
        (f"/v1/disasters/{disaster_id}/retraction", {"reason": "误报"}),
    ]
    for path, body in commands:
        response = client.post(path, json=body, headers=as_role("auditor", **{"Idempotency-Key": "audit-1"}))
        forbidden(response)
    assert runtime.position() == before
    # The auditor still reads everything in scope.
    current = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("auditor"))
    assert current.status_code == 200
    assert current.json()["version"] == 3


# --- 403: review, correction, response, retraction ----------------------------------------------


def test_a_report_is_reviewed_by_a_level_above_its_filer(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, role="county")  # report 1, filed by the county
    before = runtime.position()
    forbidden(client.post(f"/v1/disasters/{disaster_id}/reports/1/accept", headers=as_role("county")))
    forbidden(client.post(f"/v1/disasters/{disaster_id}/reports/1/return", json={"reason": "自己驳回"},
                          headers=as_role("county")))
    for role in ("township", "relief_officer", "admin"):
        forbidden(client.post(f"/v1/disasters/{disaster_id}/reports/1/return", json={"reason": "x"},
                              headers=as_role(role)))
    assert runtime.position() == before

    returned = client.post(f"/v1/disasters/{disaster_id}/reports/1/return", json={"reason": "请核实后重报"},
                           headers=as_role("city"))
    assert returned.status_code == 200, returned.text

    follow_up = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=figures_body(CHENJIAGANG, 40),
                            headers=as_role("county"))
    assert follow_up.status_code == 201, follow_up.text
    by_province = client.post(f"/v1/disasters/{disaster_id}/reports/2/return", json={"reason": "省级核查"},
                              headers=as_role("province"))
    assert by_province.status_code == 200, by_province.text

    reports = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county")).json()["reports"]
    assert [r["review"] for r in reports] == ["returned", "returned"]
    assert [r["reviewed_by"]["username"] for r in reports] == ["test-city", "test-province"]


def test_county_reviews_a_township_report_but_a_township_reviews_nothing(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, role="township")
    before = runtime.position()
    forbidden(client.post(f"/v1/disasters/{disaster_id}/reports/1/accept", headers=as_role("township")))
    assert runtime.position() == before
    accepted = client.post(f"/v1/disasters/{disaster_id}/reports/1/accept", headers=as_role("county"))
    assert accepted.status_code == 200, accepted.text
    report = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county")).json()["reports"][0]
    assert report["review"] == "accepted" and report["reviewed_by"]["username"] == "test-county"


def test_only_county_level_and_above_correct_change_response_or_retract(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    response_start = {"action": "start", "level": 4, "plan": "预案", "plan_version": "2021",
                      "government_level": "county", "decided_at": ago(days=2), "reason": "达到响应条件"}
    commands = [
        ("corrections", {"reason": "文字有误", "text": "更正后的灾情说明"}),
        ("stabilisation", {"stabilised_at": ago(days=1)}),
        ("response-level", response_start),
        ("retraction", {"reason": "误报"}),
    ]
    before = runtime.position()
    for role in ("township", "relief_officer", "admin"):
        for suffix, body in commands:
            forbidden(client.post(f"/v1/disasters/{disaster_id}/{suffix}", json=body, headers=as_role(role)))
    assert runtime.position() == before
    for suffix, body in commands:
        answer = client.post(f"/v1/disasters/{disaster_id}/{suffix}", json=body, headers=as_role("city"))
        assert answer.status_code == 200, (suffix, answer.text)


def test_forbidden_answers_name_the_reason_in_both_languages(client, as_role):
    disaster_id = open_disaster(client, as_role)
    error = forbidden(client.post(f"/v1/disasters/{disaster_id}/final", json=figures_body(),
                                  headers=as_role("township")))
    assert "核报" in error["message"] and "final report" in error["message"]
    unknown = client.get(f"/v1/disasters/{uuid4()}", headers=as_role("county"))
    assert_error(unknown, 404, "not_found")
