"""Incident command over HTTP: responses per government, command and its handover, 镇呼区应 calls.

Every test runs on SQLite and on PostgreSQL. Places are 响水县 (320921) and its townships; times
are relative to now, in the past.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.test_accidents_api import assert_error, record

COUNTY = "320921"
XIANGSHUI = "320921100"  # 响水镇 (the township account's own township)
HUANGWEI = "320921103"


def at(hours: float) -> str:
    """`hours` ago, as an ISO time."""
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def post(client, as_role, role: str, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = client.post(path, json=body, headers=as_role(role))
    assert response.status_code == status, response.text
    return response.json()


def read(client, as_role, incident_id: str, role: str = "county", **params: str) -> dict[str, Any]:
    response = client.get(f"/v1/incidents/{incident_id}", params=params, headers=as_role(role))
    assert response.status_code == 200, response.text
    return response.json()


def open_flood(client, as_role, deaths: int = 0) -> str:
    body = {"county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": at(30),
            "figures": {XIANGSHUI: {"affected_population": 1200, "deaths": deaths}}}
    return str(post(client, as_role, "township", "/v1/disasters", body, status=201)["id"])


def county_response(action: str, level: int | None, hours: float, plan: str = "响水县自然灾害救助应急预案") -> dict:
    body: dict[str, Any] = {"action": action, "plan": plan, "plan_version": "2021", "government_level": "county",
                            "decided_at": at(hours), "reason": "灾情达到启动条件"}
    if level is not None:
        body["level"] = level
    return body


def test_the_disaster_response_endpoint_records_on_the_incident_in_the_same_save(client, as_role):
    disaster_id = open_flood(client, as_role)
    started = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/response-level",
                   county_response("start", 4, 28))
    incident_id = client.get(f"/v1/incidents/of/disaster/{disaster_id}", headers=as_role("county")).json()["id"]
    body = read(client, as_role, incident_id)
    assert [link["id"] for link in body["state"]["links"]] == [disaster_id]
    [response] = body["active_responses"]
    assert (response["government_level"], response["area"], response["level"]) == ("county", COUNTY, 4)
    assert response["changes"][0]["via"] == f"disaster:{disaster_id}"
    post(client, as_role, "county", f"/v1/disasters/{disaster_id}/response-level", county_response("adjust", 3, 26))
    post(client, as_role, "county", f"/v1/disasters/{disaster_id}/response-level", county_response("end", None, 20))
    body = read(client, as_role, incident_id)
    assert body["active_responses"] == []
    assert [(c["action"], c["level"]) for c in body["state"]["responses"][0]["changes"]] == [
        ("start", 4), ("adjust", 3), ("end", None)]
    disaster = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county")).json()
    assert disaster["response"]["action"] == "end" and started["version"] == 2


def test_a_county_iv_and_a_city_iii_response_to_the_same_event_coexist(client, as_role):
    disaster_id = open_flood(client, as_role)
    post(client, as_role, "county", f"/v1/disasters/{disaster_id}/response-level", county_response("start", 4, 28))
    incident_id = client.get(f"/v1/incidents/of/disaster/{disaster_id}", headers=as_role("county")).json()["id"]
    city = {"action": "start", "government_level": "city", "plan": "盐城市自然灾害救助应急预案", "plan_version": "2022",
            "level": 3, "decided_at": at(27), "reason": "多县受灾，市级启动三级响应"}
    assert_error(client.post(f"/v1/incidents/{incident_id}/responses", json=city, headers=as_role("county")),
                 403, "forbidden")  # a county account does not decide the city's response
    post(client, as_role, "city", f"/v1/incidents/{incident_id}/responses", city)
    active = {(r["government_level"], r["area"], r["level"]) for r in read(client, as_role, incident_id)
              ["active_responses"]}
    assert active == {("county", COUNTY, 4), ("city", "3209", 3)}
    again = client.post(f"/v1/incidents/{incident_id}/responses", json=city, headers=as_role("city"))
    assert_error(again, 409, "response_active")


def test_who_held_command_at_a_moment_follows_the_handover(client, as_role):
    accident = record(client, as_role)
    incident = post(client, as_role, "county", "/v1/incidents", {
        "title": "黄圩镇化工企业闪爆", "category": "accident", "area": HUANGWEI, "occurred_at": at(6),
        "links": [{"kind": "accident", "id": accident["id"]}]}, status=201)
    path = f"/v1/incidents/{incident['id']}"
    post(client, as_role, "county", f"{path}/command", {
        "commander": {"name": "李某", "post": "黄圩镇镇长", "unit": HUANGWEI}, "since": at(5.5)})
    post(client, as_role, "county", f"{path}/command", {
        "commander": {"name": "张某", "post": "副县长", "unit": COUNTY}, "since": at(4),
        "reason": "县现场指挥部成立，指挥权移交"})
    stale = client.post(f"{path}/command", json={"commander": {"name": "王某", "post": "县长", "unit": COUNTY},
                                                 "since": at(5)}, headers=as_role("county"))
    assert [f["field"] for f in assert_error(stale, 422, "invalid")["fields"]] == ["since"]

    assert read(client, as_role, incident["id"], command_at=at(6.5))["command_at"] is None
    held = read(client, as_role, incident["id"], command_at=at(5))["command_at"]
    assert held["commander"]["name"] == "李某" and held["until"] is not None
    now = read(client, as_role, incident["id"], command_at=at(1))["command_at"]
    assert now["commander"] == {"name": "张某", "post": "副县长", "unit": COUNTY}
    assert now["handed_over_by"]["name"] == "李某" and now["reason"] == "县现场指挥部成立，指挥权移交"


def test_a_township_calls_the_district_and_the_answer_is_kept_with_its_times(client, as_role):
    incident = post(client, as_role, "township", "/v1/incidents", {
        "title": "响水镇内涝", "category": "natural_disaster", "area": XIANGSHUI, "occurred_at": at(10)}, status=201)
    path = f"/v1/incidents/{incident['id']}/support-requests"
    call = post(client, as_role, "township", path, {"township": XIANGSHUI, "what": "请求调派排涝泵车 3 台",
                                                     "categories": ["equipment"], "requested_at": at(9)}, status=201)
    assert call["created"] == {"request_id": "R1"}
    assert_error(client.post(f"{path}/R1/answer", json={"outcome": "dispatched", "answered_at": at(8)},
                             headers=as_role("township")), 403, "forbidden")  # the district answers
    post(client, as_role, "county", f"{path}/R1/answer", {"outcome": "dispatched", "what": "县水利局泵车 3 台已出发",
                                                           "answered_at": at(8.5)})
    assert_error(client.post(f"{path}/R1/answer", json={"outcome": "declined", "answered_at": at(8)},
                             headers=as_role("county")), 409, "already_answered")
    elsewhere = client.post(path, json={"township": HUANGWEI, "what": "支援", "requested_at": at(7)},
                            headers=as_role("township"))
    assert_error(elsewhere, 403, "forbidden")
    [kept] = read(client, as_role, incident["id"])["state"]["calls"]
    assert kept["outcome"] == "dispatched" and kept["requested_by"]["username"] == "test-township"
    assert kept["answered_by"]["username"] == "test-county"


def test_a_level_other_than_the_plan_s_suggestion_needs_a_reason(client, as_role):
    disaster_id = open_flood(client, as_role, deaths=25)
    incident = post(client, as_role, "county", "/v1/incidents", {
        "title": "响水县洪涝", "category": "natural_disaster", "area": COUNTY, "occurred_at": at(30),
        "links": [{"kind": "disaster", "id": disaster_id}]}, status=201)
    path = f"/v1/incidents/{incident['id']}"
    plan = {"plan": "国家自然灾害救助应急预案", "plan_version": "2024"}
    suggested = client.get(f"{path}/suggestion", params=plan, headers=as_role("county")).json()["suggestion"]
    assert suggested["level"] == 4 and suggested["basis"] == ["死亡和失踪 25 ≥ 20"]
    decision = {"action": "start", "government_level": "national", "level": 3, "decided_at": at(20), **plan}
    refused = client.post(f"{path}/responses", json=decision, headers=as_role("province"))
    assert [f["field"] for f in assert_error(refused, 422, "reason_required")["fields"]] == ["reason"]
    post(client, as_role, "province", f"{path}/responses", {**decision, "reason": "考虑次生灾害风险，提高一级"})
    change = read(client, as_role, incident["id"])["active_responses"][0]["changes"][0]
    assert change["outside_suggestion"] is True and change["suggestion"]["level"] == 4
    assert change["suggestion"]["thresholds_version"] == "response-plans-2026.1"
    # A plan with no configured thresholds suggests nothing, and needs no reason.
    post(client, as_role, "county", f"{path}/responses", county_response("start", 4, 19) | {"reason": ""})


def test_one_disaster_belongs_to_one_incident(client, as_role):
    disaster_id = open_flood(client, as_role)
    body = {"title": "洪涝", "category": "natural_disaster", "area": COUNTY, "occurred_at": at(30),
            "links": [{"kind": "disaster", "id": disaster_id}]}
    first = post(client, as_role, "county", "/v1/incidents", body, status=201)
    error = assert_error(client.post("/v1/incidents", json=body, headers=as_role("county")), 409, "already_linked")
    assert error["details"]["existing_id"] == first["id"]
