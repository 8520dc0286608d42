"""Production-safety accidents over HTTP, as the county regulator records them and the levels above read them.

Every test runs on SQLite and on PostgreSQL (the `client` fixture). Places are real codes of
响水县 (320921); times are relative to now, in the past.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

COUNTY = "320921"  # 响水县
HUANGWEI = "320921103"  # 黄圩镇
CREDIT_CODE = "91350100M000100Y43"  # a well-formed code (check character 3)


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields", "details"}
    assert body["error"]["code"] == code, body
    assert " / " in body["error"]["message"]  # Chinese, then English
    return body["error"]


def accident_body(**extra: Any) -> dict[str, Any]:
    body = {
        "county": COUNTY, "township": HUANGWEI, "park": "响水生态化工园区", "unit_name": "江苏某化工有限公司",
        "credit_code": CREDIT_CODE, "sector": "hazardous_chemicals", "occurred_at": ago(hours=6),
        "place": "储罐区", "summary": "储罐区发生闪爆", "casualties": {"deaths": 1, "serious_injuries": 2},
        "direct_loss_fen": 350_000_000, "unit_reported_at": ago(hours=5, minutes=30),
    }
    body.update(extra)
    return body


def record(client, as_role, role: str = "county", **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/accidents", json=accident_body(**extra), headers=as_role(role))
    assert response.status_code == 201, response.text
    return response.json()


def read(client, as_role, accident_id: str, role: str = "county") -> dict[str, Any]:
    response = client.get(f"/v1/accidents/{accident_id}", headers=as_role(role))
    assert response.status_code == 200, response.text
    return response.json()


def test_an_accident_recorded_by_the_county_is_read_back_graded_with_its_clocks(client, as_role):
    created = record(client, as_role)
    assert set(created) == {"id", "version", "position"} and created["version"] == 1

    body = read(client, as_role, created["id"], role="city")
    state = body["state"]
    assert state["unit"] == {"name": "江苏某化工有限公司", "credit_code": CREDIT_CODE}
    assert state["township"] == HUANGWEI and state["park"] == "响水生态化工园区"
    assert state["casualties"]["deaths"] == 1 and state["direct_loss_fen"] == 350_000_000
    assert body["grade_name"] == "一般" and body["status"] == "open"
    assert state["recorded_by"]["username"] == "test-county"
    assert state["occurred_at"].endswith("+08:00") and state["first_recorded_at"].endswith("+08:00")
    unit_clock = next(c for c in body["clocks"] if c["rule"] == "unit.report")
    assert unit_clock["status"] == "on_time" and unit_clock["unit"] == CREDIT_CODE
    assert unit_clock["rules_version"] == "accidents-default-2026.1"
    # 一般: the county reports to the city within 2 h of the unit's report; nobody recorded it yet.
    city = next(c for c in body["clocks"] if c["rule"] == "upward.city")
    assert city["status"] == "missing" and city["unit"] == "320921000000"


def test_a_second_record_of_the_same_accident_answers_with_the_first(client, as_role, runtime):
    first = record(client, as_role)
    before = runtime.position()
    again = client.post("/v1/accidents", json=accident_body(occurred_at=read(client, as_role, first["id"])["state"]
                                                             ["occurred_at"]), headers=as_role("county"))
    assert assert_error(again, 409, "duplicate_accident")["details"]["existing_id"] == first["id"]
    assert runtime.position() == before


def test_a_credit_code_with_a_wrong_check_character_is_refused_and_nothing_is_written(client, as_role, runtime):
    before = runtime.position()
    error = assert_error(client.post("/v1/accidents", json=accident_body(credit_code="91350100M000100Y44"),
                                     headers=as_role("county")), 422, "invalid")
    assert [f["field"] for f in error["fields"]] == ["credit_code"]
    assert "check character" in error["fields"][0]["message"]
    money = client.post("/v1/accidents", json=accident_body(direct_loss_fen=3500.5), headers=as_role("county"))
    assert "direct_loss_fen" in [f["field"] for f in assert_error(money, 422, "invalid_request")["fields"]]
    assert runtime.position() == before


def test_only_regulators_record_accidents_and_auditors_only_read(client, as_role, runtime):
    before = runtime.position()
    for role in ("township", "relief_officer", "auditor"):
        assert_error(client.post("/v1/accidents", json=accident_body(), headers=as_role(role)), 403, "forbidden")
    assert runtime.position() == before
    created = record(client, as_role, role="city")
    assert read(client, as_role, created["id"], role="auditor")["state"]["unit"]["name"] == "江苏某化工有限公司"


def test_the_unit_report_time_is_required_when_the_unit_reported(client, as_role):
    error = assert_error(client.post("/v1/accidents", json=accident_body(unit_reported_at=None),
                                     headers=as_role("county")), 422, "invalid")
    assert [f["field"] for f in error["fields"]] == ["unit_reported_at"]
    learned = record(client, as_role, unit_reported_at=None, source="public_report")
    clock = next(c for c in read(client, as_role, learned["id"])["clocks"] if c["rule"] == "unit.report")
    assert clock["status"] == "missing" and clock["arrived_at"] is None  # the unit never reported: 瞒报 to examine


def test_a_retried_command_answers_once_and_a_stale_version_is_refused(client, as_role, runtime):
    created = record(client, as_role)
    path = f"/v1/accidents/{created['id']}/follow-ups"
    body = {"as_of": ago(hours=1), "casualties": {"deaths": 3}, "text": "续报"}
    first = client.post(path, json=body, headers=as_role("county", **{"Idempotency-Key": "fu-1"}))
    assert first.status_code == 201, first.text
    head = runtime.position()
    again = client.post(path, json=body, headers=as_role("county", **{"Idempotency-Key": "fu-1"}))
    assert again.json() == first.json() and runtime.position() == head
    state = read(client, as_role, created["id"])
    assert state["version"] == 3 and state["grade_name"] == "较大"  # 续报 + its regrading
    stale = client.post(path, json={"as_of": ago(minutes=30)}, headers=as_role("county", **{"If-Match": '"2"'}))
    assert assert_error(stale, 409, "version_mismatch")["details"] == {"expected_version": 2, "current_version": 3}
    assert runtime.position() == head
