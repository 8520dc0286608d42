"""The disaster-report lifecycle over HTTP, as the people filing and reviewing it see it.

Every test runs on SQLite and on PostgreSQL (through the `client` fixture).
Places are real codes of 响水县 (320921); times are relative to now, in the past.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

from ledger.reference.hazards import HazardCatalogue

COUNTY = "320921"  # 响水县
XIANGSHUI = "320921100"  # 响水镇 (the township account's own township)
CHENJIAGANG = "320921101"  # 陈家港镇
XIAOJIAN = "320921102"  # 小尖镇
SHANGHAI = ZoneInfo("Asia/Shanghai")
SUBTYPES = {h.code: next(iter(h.subtypes), None) for h in HazardCatalogue.load().hazards.values()}


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields", "details"}
    assert body["error"]["code"] == code, body
    return body["error"]


def open_disaster(client, as_role, *, role: str = "township", hazard: str = "flood",
                  figures: dict[str, Any] | None = None, occurred_at: str | None = None, **extra: Any) -> dict:
    extra.setdefault("subtype", SUBTYPES.get(hazard))  # the county fills the 亚灾种; subtype=None leaves it out
    if extra["subtype"] is None:
        del extra["subtype"]
    body = {"county": COUNTY, "hazard": hazard, "occurred_at": occurred_at or ago(days=3),
            "figures": figures or {XIANGSHUI: {"affected_population": 120, "crop_affected_ha": "850.50"}}, **extra}
    response = client.post("/v1/disasters", json=body, headers=as_role(role))
    assert response.status_code == 201, response.text
    return {**response.json(), "body": body}


def post(client, as_role, role: str, path: str, body: dict[str, Any], **headers: str):
    return client.post(path, json=body, headers=as_role(role, **headers))


def state(client, as_role, disaster_id: str, role: str = "county") -> dict[str, Any]:
    response = client.get(f"/v1/disasters/{disaster_id}", headers=as_role(role))
    assert response.status_code == 200, response.text
    return response.json()


def history(client, as_role, disaster_id: str, role: str = "county") -> list[dict[str, Any]]:
    response = client.get(f"/v1/disasters/{disaster_id}/history", headers=as_role(role))
    assert response.status_code == 200, response.text
    return response.json()


def response_change(action: str, level: int | None = None, hours_ago: float = 60) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": action, "plan": "响水县自然灾害救助应急预案", "plan_version": "2021",
        "government_level": "county", "decided_at": ago(hours=hours_ago), "reason": "紧急转移安置人口达到四级响应条件",
    }
    if level is not None:
        body["level"] = level
    return body


# --- the full lifecycle ------------------------------------------------------------------


def file_lifecycle(client, as_role) -> dict[str, Any]:
    """初报 by the township, 续报 by the county naming two townships, accepted by the city, 核报 by the county."""
    occurred_at = ago(days=3)
    opened = open_disaster(client, as_role, occurred_at=occurred_at, subtype="river_flood",
                           text="强降雨，响水镇部分村组受淹。",
                           figures={XIANGSHUI: {"affected_population": 120, "crop_affected_ha": "850.50"}})
    disaster_id = opened["id"]
    assert opened["version"] == 1

    follow_up_as_of = ago(days=2)
    follow_up = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/follow-ups", {
        "as_of": follow_up_as_of,
        "figures": {XIANGSHUI: {"affected_population": 150},
                    CHENJIAGANG: {"affected_population": 80, "crop_affected_ha": "100.25"}},
    })
    assert follow_up.status_code == 201, follow_up.text
    assert follow_up.json()["id"] == disaster_id and follow_up.json()["version"] == 2

    accepted = client.post(f"/v1/disasters/{disaster_id}/reports/2/accept", headers=as_role("city"))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["version"] == 3

    final_as_of = ago(days=1)
    final = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/final", {
        "as_of": final_as_of,
        "figures": {XIANGSHUI: {"affected_population": 160, "deaths": 1},
                    CHENJIAGANG: {"affected_population": 90}},
    })
    assert final.status_code == 201, final.text
    assert final.json()["version"] == 4
    assert final.json()["position"] > follow_up.json()["position"]
    return {"id": disaster_id, "occurred_at": occurred_at, "follow_up_as_of": follow_up_as_of,
            "final_as_of": final_as_of}


def test_full_lifecycle_initial_follow_up_accept_final_then_current_state(client, as_role):
    filed = file_lifecycle(client, as_role)
    disaster_id, occurred_at = filed["id"], filed["occurred_at"]
    follow_up_as_of, final_as_of = filed["follow_up_as_of"], filed["final_as_of"]

    read = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county"))
    assert read.status_code == 200
    assert read.headers["etag"].strip('"') == "4"
    current = read.json()
    assert current["id"] == disaster_id
    assert current["version"] == 4
    assert current["stage"] == "final"
    assert current["county"] == COUNTY and current["county_name"] == "响水县"
    assert current["hazard"] == "flood" and current["hazard_name"] == "洪涝灾害"
    assert current["subtype"] == "river_flood"
    assert current["text"] == "强降雨，响水镇部分村组受淹。"
    assert instant(current["occurred_at"]) == instant(occurred_at)
    # Per township: the latest figures of every report naming it; indicators left out keep their value.
    townships = {t["code"]: t for t in current["townships"]}
    assert set(townships) == {XIANGSHUI, CHENJIAGANG}
    assert townships[XIANGSHUI]["name"] == "响水镇"
    assert townships[CHENJIAGANG]["name"] == "陈家港镇"
    assert townships[XIANGSHUI]["figures"] == {"affected_population": "160", "crop_affected_ha": "850.50",
                                               "deaths": "1"}
    assert townships[CHENJIAGANG]["figures"] == {"affected_population": "90", "crop_affected_ha": "100.25"}
    # County totals are the sum of the townships.
    assert current["totals"] == {"affected_population": "250", "crop_affected_ha": "950.75", "deaths": "1"}

    reports = current["reports"]
    assert [r["number"] for r in reports] == [1, 2, 3]
    assert [r["kind"] for r in reports] == ["initial", "follow_up", "final"]
    assert [r["review"] for r in reports] == ["submitted", "accepted", "submitted"]
    assert [r["filed_by"]["username"] for r in reports] == ["test-township", "test-county", "test-county"]
    assert reports[1]["reviewed_by"]["username"] == "test-city"
    assert reports[1]["reviewed_by"]["unit"] == "320900000000"
    assert reports[0]["townships"] == [XIANGSHUI]
    assert reports[1]["townships"] == [XIANGSHUI, CHENJIAGANG]
    assert [instant(r["as_of"]) for r in reports] == [instant(occurred_at), instant(follow_up_as_of),
                                                      instant(final_as_of)]
    recorded = [instant(r["recorded_at"]) for r in reports]
    assert recorded == sorted(recorded)
    now = datetime.now(UTC)
    assert all(now - timedelta(minutes=5) < t <= now for t in recorded)


def test_full_lifecycle_history_names_every_event_its_actor_and_times(client, as_role):
    filed = file_lifecycle(client, as_role)
    disaster_id, occurred_at = filed["id"], filed["occurred_at"]
    follow_up_as_of, final_as_of = filed["follow_up_as_of"], filed["final_as_of"]
    recorded = [instant(r["recorded_at"]) for r in state(client, as_role, disaster_id)["reports"]]

    events = history(client, as_role, disaster_id)
    assert [e["type"] for e in events] == [
        "InitialReportFiled", "FollowUpReportFiled", "ReportAccepted", "FinalReportFiled"]
    assert [e["version"] for e in events] == [1, 2, 3, 4]
    assert [e["actor"]["username"] for e in events] == ["test-township", "test-county", "test-city", "test-county"]
    assert [e["actor"]["role"] for e in events] == ["township", "county", "city", "county"]
    assert [e["unit"] for e in events] == ["320921100000", "320921000000", "320900000000", "320921000000"]
    assert all(e["actor"]["unit"] == e["unit"] for e in events)
    times = [instant(e["recorded_at"]) for e in events]
    assert times == sorted(times)
    assert times[0] == recorded[0] and times[1] == recorded[1] and times[3] == recorded[2]
    # occurred_at is when the reported state of the world held, not when it was recorded.
    assert instant(events[0]["occurred_at"]) == instant(occurred_at)
    assert instant(events[1]["occurred_at"]) == instant(follow_up_as_of)
    assert events[2]["occurred_at"] is None
    assert instant(events[3]["occurred_at"]) == instant(final_as_of)
    # Figures travel as exact decimal strings in the payload too.
    assert events[0]["payload"]["figures"] == {XIANGSHUI: {"affected_population": "120",
                                                           "crop_affected_ha": "850.50"}}
    assert events[1]["payload"]["figures"][CHENJIAGANG] == {"affected_population": "80", "crop_affected_ha": "100.25"}
    assert events[3]["payload"]["figures"][XIANGSHUI] == {"affected_population": "160", "deaths": "1"}
    assert events[2]["payload"]["number"] == 2


def test_follow_up_or_second_final_after_final_is_refused_as_report_closed(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)["id"]
    final = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/final",
                 {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 130}}})
    assert final.status_code == 201, final.text
    before = runtime.position()

    for role in ("county", "township"):
        late = post(client, as_role, role, f"/v1/disasters/{disaster_id}/follow-ups",
                    {"as_of": ago(hours=1), "figures": {XIANGSHUI: {"affected_population": 140}}})
        assert_error(late, 409, "report_closed")
    again = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/final",
                 {"as_of": ago(hours=1), "figures": {XIANGSHUI: {"affected_population": 140}}})
    assert_error(again, 409, "report_closed")

    assert runtime.position() == before
    current = state(client, as_role, disaster_id)
    assert current["stage"] == "final"
    assert current["totals"]["affected_population"] == "130"
    assert len(current["reports"]) == 2


def test_return_of_a_follow_up_removes_its_figures_and_refiling_brings_them_back(client, as_role):
    disaster_id = open_disaster(client, as_role, figures={XIANGSHUI: {"affected_population": 120}})["id"]
    follow_up = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/follow-ups", {
        "as_of": ago(days=2),
        "figures": {XIANGSHUI: {"affected_population": 150}, CHENJIAGANG: {"affected_population": 80}},
    })
    assert follow_up.status_code == 201, follow_up.text
    assert state(client, as_role, disaster_id)["totals"] == {"affected_population": "230"}

    returned = post(client, as_role, "city", f"/v1/disasters/{disaster_id}/reports/2/return",
                    {"reason": "受灾人口与转移人口不符，请核实后重报"})
    assert returned.status_code == 200, returned.text
    after_return = state(client, as_role, disaster_id)
    assert after_return["totals"] == {"affected_population": "120"}
    assert [t["code"] for t in after_return["townships"]] == [XIANGSHUI]
    assert after_return["townships"][0]["figures"] == {"affected_population": "120"}
    assert after_return["stage"] == "initial"
    report = after_return["reports"][1]
    assert report["review"] == "returned"
    assert report["return_reason"] == "受灾人口与转移人口不符，请核实后重报"
    assert report["reviewed_by"]["username"] == "test-city"

    # A report that was not returned cannot be refiled.
    assert_error(post(client, as_role, "county", f"/v1/disasters/{disaster_id}/reports/1/refile",
                      {"as_of": ago(days=2), "figures": {XIANGSHUI: {"affected_population": 150}}}),
                 409, "not_returned")

    refiled = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/reports/2/refile", {
        "as_of": ago(days=2),
        "figures": {XIANGSHUI: {"affected_population": 150}, CHENJIAGANG: {"affected_population": 80}},
    })
    assert refiled.status_code == 201, refiled.text
    after_refile = state(client, as_role, disaster_id)
    assert after_refile["totals"] == {"affected_population": "230"}
    assert {t["code"] for t in after_refile["townships"]} == {XIANGSHUI, CHENJIAGANG}
    assert after_refile["stage"] == "follow_up"
    assert [r["review"] for r in after_refile["reports"]] == ["submitted", "returned", "submitted"]
    assert after_refile["reports"][2]["kind"] == "follow_up"
    assert after_refile["reports"][2]["refiles"] == 2
    assert after_refile["reports"][1]["refiles"] is None


def test_returned_final_report_reopens_the_process_and_is_refiled_as_a_final(client, as_role):
    disaster_id = open_disaster(client, as_role, figures={XIANGSHUI: {"affected_population": 120}})["id"]
    assert post(client, as_role, "county", f"/v1/disasters/{disaster_id}/final",
                {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 130}}}).status_code == 201
    returned = post(client, as_role, "city", f"/v1/disasters/{disaster_id}/reports/2/return", {"reason": "请核实"})
    assert returned.status_code == 200, returned.text
    reopened = state(client, as_role, disaster_id)
    assert reopened["stage"] == "initial"
    assert reopened["totals"] == {"affected_population": "120"}

    refiled = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/reports/2/refile",
                   {"as_of": ago(hours=20), "figures": {XIANGSHUI: {"affected_population": 135}}})
    assert refiled.status_code == 201, refiled.text
    current = state(client, as_role, disaster_id)
    assert current["stage"] == "final"
    assert current["reports"][2]["kind"] == "final"
    assert current["totals"] == {"affected_population": "135"}


def test_a_returned_initial_report_is_refiled_as_an_initial_report(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, figures={XIANGSHUI: {"affected_population": 120}})["id"]
    returned = post(client, as_role, "city", f"/v1/disasters/{disaster_id}/reports/1/return", {"reason": "请核实"})
    assert returned.status_code == 200, returned.text
    refiled = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/reports/1/refile",
                   {"as_of": ago(hours=1), "figures": {XIANGSHUI: {"affected_population": 125}}})
    assert refiled.status_code == 201, refiled.text
    current = state(client, as_role, disaster_id)
    assert [(r["kind"], r["refiles"], r["review"]) for r in current["reports"]] == [
        ("initial", None, "returned"), ("initial", 1, "submitted")]
    assert current["stage"] == "initial" and current["totals"] == {"affected_population": "125"}
    # The read side says the same.
    query = """query($id: ID!, $p: Int) { disaster(id: $id, minPosition: $p) { stage reports { number kind } } }"""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from projections.runner import ProjectionHost

    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as reader:
        node = reader.post("/graphql", json={"query": query, "variables": {"id": disaster_id,
                                                                              "p": refiled.json()["position"]}},
                           headers=as_role("county")).json()["data"]["disaster"]
    assert node["stage"] == "initial" and [r["kind"] for r in node["reports"]] == ["initial", "initial"]


def test_correction_of_the_hazard_keeps_the_id_and_claims_the_corrected_key(client, as_role, runtime):
    occurred_at = ago(days=3)
    disaster_id = open_disaster(client, as_role, occurred_at=occurred_at, subtype="river_flood")["id"]

    corrected = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/corrections",
                     {"reason": "灾种误报，应为风雹", "hazard": "wind_hail", "subtype": "hail"})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["id"] == disaster_id
    assert corrected.json()["version"] == 2

    current = state(client, as_role, disaster_id)
    assert current["id"] == disaster_id
    assert current["hazard"] == "wind_hail"
    assert current["hazard_name"] == "风雹灾害"
    assert current["subtype"] == "hail"
    # The figures are untouched by a 勘误.
    assert current["totals"] == {"affected_population": "120", "crop_affected_ha": "850.50"}

    last = history(client, as_role, disaster_id)[-1]
    assert last["type"] == "Corrected"
    assert last["payload"]["reason"] == "灾种误报，应为风雹"
    assert last["payload"]["hazard"] == "wind_hail"
    assert last["payload"]["subtype"] == "hail"
    assert last["actor"]["username"] == "test-county"
    assert last["actor"]["role"] == "county"
    assert last["unit"] == "320921000000"
    assert last["occurred_at"] is None

    before = runtime.position()
    duplicate = client.post("/v1/disasters", headers=as_role("county"), json={  # the corrected key is held
        "county": COUNTY, "hazard": "wind_hail", "subtype": "hail", "occurred_at": occurred_at,
        "figures": {CHENJIAGANG: {"affected_population": 5}}})
    error = assert_error(duplicate, 409, "duplicate_process")
    assert error["details"]["existing_id"] == disaster_id and disaster_id in error["message"]
    assert runtime.position() == before
    # The original key is free again: a flood 初报 of that day opens the key's second process.
    flood = client.post("/v1/disasters", headers=as_role("county"), json={
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": occurred_at,
        "figures": {CHENJIAGANG: {"affected_population": 5}}})
    assert flood.status_code == 201, flood.text
    day = datetime.fromisoformat(occurred_at).astimezone(SHANGHAI).date().isoformat()
    assert flood.json()["id"] == str(uuid5(NAMESPACE_URL, f"/disasters/{COUNTY}/{day}/flood/2"))


def test_correction_of_the_date_claims_the_new_date_and_never_takes_another_process_key(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, occurred_at=ago(days=3))["id"]
    other_occurred_at = ago(days=6)
    other_id = open_disaster(client, as_role, occurred_at=other_occurred_at)["id"]
    other_date = state(client, as_role, other_id)["disaster_date"]
    before = runtime.position()

    # Onto the date of another flood process: refused, naming that process.
    taken = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/corrections",
                 {"reason": "日期误报", "disaster_date": other_date})
    assert assert_error(taken, 409, "duplicate_process")["details"]["existing_id"] == other_id
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date().isoformat()
    future = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/corrections",
                  {"reason": "日期误报", "disaster_date": tomorrow})
    assert [f["field"] for f in assert_error(future, 422, "invalid")["fields"]] == ["disaster_date"]
    assert runtime.position() == before

    # Onto a free date: the id stays and the new date is claimed.
    free_occurred_at = ago(days=9)
    free_date = datetime.fromisoformat(free_occurred_at).astimezone(SHANGHAI).date().isoformat()
    corrected = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/corrections",
                     {"reason": "日期误报", "disaster_date": free_date})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["id"] == disaster_id
    assert state(client, as_role, disaster_id)["disaster_date"] == free_date
    before = runtime.position()
    late = client.post("/v1/disasters", headers=as_role("county"), json={
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": free_occurred_at,
        "figures": {CHENJIAGANG: {"affected_population": 5}}})
    assert assert_error(late, 409, "duplicate_process")["details"]["existing_id"] == disaster_id
    assert runtime.position() == before


def test_correction_that_changes_nothing_or_has_no_reason_is_refused(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)["id"]
    before = runtime.position()
    assert_error(post(client, as_role, "county", f"/v1/disasters/{disaster_id}/corrections",
                      {"reason": "无变化", "hazard": "flood"}), 422, "nothing_to_correct")
    missing_reason = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/corrections",
                          {"hazard": "wind_hail"})
    error = assert_error(missing_reason, 422, "invalid_request")
    assert "reason" in [f["field"] for f in error["fields"]]
    assert runtime.position() == before


def test_response_level_start_adjust_end_and_their_rules(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)["id"]
    path = f"/v1/disasters/{disaster_id}/response-level"
    before = runtime.position()

    assert_error(post(client, as_role, "county", path, response_change("adjust", 3)), 409, "no_response")
    assert_error(post(client, as_role, "county", path, response_change("end")), 409, "no_response")
    assert runtime.position() == before

    started = post(client, as_role, "county", path, response_change("start", 4, hours_ago=60))
    assert started.status_code == 200, started.text
    response = state(client, as_role, disaster_id)["response"]
    assert response["action"] == "start" and response["level"] == 4
    assert response["plan"] == "响水县自然灾害救助应急预案"

    assert_error(post(client, as_role, "county", path, response_change("start", 3)), 409, "response_active")
    assert_error(post(client, as_role, "county", path, response_change("adjust", 4)), 409, "level_unchanged")

    adjusted = post(client, as_role, "county", path, response_change("adjust", 3, hours_ago=50))
    assert adjusted.status_code == 200, adjusted.text
    assert state(client, as_role, disaster_id)["response"]["level"] == 3

    end_body = response_change("end", hours_ago=40)
    ended = post(client, as_role, "county", path, end_body)
    assert ended.status_code == 200, ended.text
    response = state(client, as_role, disaster_id)["response"]
    assert response["action"] == "end" and response["level"] is None
    assert_error(post(client, as_role, "county", path, response_change("adjust", 2)), 409, "no_response")

    changes = [e for e in history(client, as_role, disaster_id) if e["type"] == "ResponseLevelChanged"]
    assert [(e["payload"]["action"], e["payload"]["level"]) for e in changes] == [
        ("start", 4), ("adjust", 3), ("end", None)]
    assert instant(changes[2]["occurred_at"]) == instant(end_body["decided_at"])
    assert all(e["actor"]["username"] == "test-county" for e in changes)


def test_response_level_needs_a_level_and_a_decision_after_the_disaster(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, occurred_at=ago(days=3))["id"]
    path = f"/v1/disasters/{disaster_id}/response-level"
    before = runtime.position()
    error = assert_error(post(client, as_role, "county", path, response_change("start")), 422, "invalid")
    assert [f["field"] for f in error["fields"]] == ["level"]
    error = assert_error(post(client, as_role, "county", path, response_change("start", 4, hours_ago=24 * 4)),
                         422, "invalid")
    assert [f["field"] for f in error["fields"]] == ["decided_at"]
    error = assert_error(post(client, as_role, "county", path, response_change("start", 5)), 422, "invalid_request")
    assert [f["field"] for f in error["fields"]] == ["level"]
    assert runtime.position() == before
    assert state(client, as_role, disaster_id)["response"] is None


def test_declare_stable_records_when_the_disaster_stabilised(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, occurred_at=ago(days=3))["id"]
    path = f"/v1/disasters/{disaster_id}/stabilisation"

    before = runtime.position()
    too_early = post(client, as_role, "county", path, {"stabilised_at": ago(days=4)})
    error = assert_error(too_early, 422, "invalid")
    assert [f["field"] for f in error["fields"]] == ["stabilised_at"]
    future = post(client, as_role, "county", path, {"stabilised_at": ago(hours=-24)})
    assert [f["field"] for f in assert_error(future, 422, "invalid")["fields"]] == ["stabilised_at"]
    assert runtime.position() == before

    stabilised_at = ago(days=1)
    stable = post(client, as_role, "county", path, {"stabilised_at": stabilised_at})
    assert stable.status_code == 200, stable.text
    assert instant(state(client, as_role, disaster_id)["stabilised_at"]) == instant(stabilised_at)
    last = history(client, as_role, disaster_id)[-1]
    assert last["type"] == "DeclaredStable"
    assert instant(last["occurred_at"]) == instant(stabilised_at)
    assert last["actor"]["username"] == "test-county"


def test_retraction_refuses_every_later_command_but_reads_still_work(client, as_role, runtime):
    occurred_at = ago(days=3)
    disaster_id = open_disaster(client, as_role, occurred_at=occurred_at)["id"]
    retracted = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/retraction", {"reason": "误报，核销"})
    assert retracted.status_code == 200, retracted.text
    assert retracted.json()["version"] == 2

    before = runtime.position()
    figures = {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 130}}}
    commands = [
        ("township", "follow-ups", figures),
        ("county", "follow-ups", figures),
        ("county", "final", figures),
        ("county", "reports/1/accept", None),
        ("county", "reports/1/return", {"reason": "请核实"}),
        ("county", "reports/1/refile", figures),
        ("county", "corrections", {"reason": "日期有误", "text": "更正说明"}),
        ("county", "stabilisation", {"stabilised_at": ago(days=1)}),
        ("county", "response-level", response_change("start", 4)),
        ("city", "retraction", {"reason": "再次核销"}),
    ]
    for role, suffix, body in commands:
        url = f"/v1/disasters/{disaster_id}/{suffix}"
        answer = client.post(url, json=body, headers=as_role(role)) if body is not None else \
            client.post(url, headers=as_role(role))
        assert_error(answer, 409, "retracted")
    assert runtime.position() == before

    current = state(client, as_role, disaster_id)
    assert current["stage"] == "retracted"
    assert current["retraction"]["reason"] == "误报，核销"
    assert current["retraction"]["actor"]["username"] == "test-county"
    assert state(client, as_role, disaster_id, role="township")["stage"] == "retracted"
    events = history(client, as_role, disaster_id)
    assert [e["type"] for e in events] == ["InitialReportFiled", "Retracted"]
    assert events[1]["payload"]["reason"] == "误报，核销"

    # The retracted process no longer holds its key: a new 初报 opens the key's second process.
    again = client.post("/v1/disasters", headers=as_role("county"), json={
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": occurred_at,
        "figures": {XIANGSHUI: {"affected_population": 1}}})
    assert again.status_code == 201, again.text
    assert again.json()["id"] != disaster_id


def test_figures_come_back_as_exact_decimal_strings_never_floats(client, as_role):
    opened = client.post("/v1/disasters", headers=as_role("county"), json={
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": ago(days=3),
        "figures": {
            XIANGSHUI: {"affected_population": 1200, "crop_affected_ha": "850.50", "direct_loss_10k_yuan": "0.10"},
            CHENJIAGANG: {"crop_affected_ha": 0.2, "direct_loss_10k_yuan": "12345678901.99"},
            XIAOJIAN: {"crop_affected_ha": "0.1", "direct_loss_10k_yuan": 7},
        }})
    assert opened.status_code == 201, opened.text
    disaster_id = opened.json()["id"]
    read = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county"))
    current = read.json()
    townships = {t["code"]: t["figures"] for t in current["townships"]}
    assert townships[XIANGSHUI] == {"affected_population": "1200", "crop_affected_ha": "850.50",
                                    "direct_loss_10k_yuan": "0.10"}
    assert townships[CHENJIAGANG] == {"crop_affected_ha": "0.20", "direct_loss_10k_yuan": "12345678901.99"}
    assert townships[XIAOJIAN] == {"crop_affected_ha": "0.10", "direct_loss_10k_yuan": "7.00"}
    # 850.50 + 0.2 + 0.1 in binary floats would be 850.8000000000001 or similar.
    assert current["totals"] == {"affected_population": "1200", "crop_affected_ha": "850.80",
                                 "direct_loss_10k_yuan": "12345678909.09"}
    # No figure anywhere in the raw body is a JSON number.
    assert not re.search(r'"(crop_affected_ha|direct_loss_10k_yuan|affected_population)":\s*[0-9]', read.text)

    events = client.get(f"/v1/disasters/{disaster_id}/history", headers=as_role("county"))
    assert events.status_code == 200, events.text
    payload_figures = events.json()[0]["payload"]["figures"]
    assert payload_figures[XIANGSHUI]["crop_affected_ha"] == "850.50"
    assert payload_figures[CHENJIAGANG]["crop_affected_ha"] == "0.20"
    assert all(isinstance(v, str) for f in payload_figures.values() for v in f.values())


def test_township_account_sees_only_its_own_township(client, as_role):
    disaster_id = open_disaster(client, as_role, figures={XIANGSHUI: {"affected_population": 120}})["id"]
    follow_up = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/follow-ups", {
        "as_of": ago(days=2),
        "figures": {XIANGSHUI: {"affected_population": 150}, CHENJIAGANG: {"affected_population": 80, "deaths": 2}},
    })
    assert follow_up.status_code == 201, follow_up.text

    own = state(client, as_role, disaster_id, role="township")
    assert [t["code"] for t in own["townships"]] == [XIANGSHUI]
    assert own["townships"][0]["figures"] == {"affected_population": "150"}
    assert own["totals"] == {"affected_population": "150"}
    assert own["version"] == 2

    county = state(client, as_role, disaster_id, role="county")
    assert {t["code"] for t in county["townships"]} == {XIANGSHUI, CHENJIAGANG}
    assert county["totals"] == {"affected_population": "230", "deaths": "2"}


def test_township_account_history_shows_only_its_own_township_figures(client, as_role):
    disaster_id = open_disaster(client, as_role, figures={XIANGSHUI: {"affected_population": 120}})["id"]
    follow_up = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/follow-ups", {
        "as_of": ago(days=2),
        "figures": {XIANGSHUI: {"affected_population": 150}, CHENJIAGANG: {"affected_population": 80, "deaths": 2}},
    })
    assert follow_up.status_code == 201, follow_up.text

    events = history(client, as_role, disaster_id, role="township")
    assert [e["type"] for e in events] == ["InitialReportFiled", "FollowUpReportFiled"]
    assert events[1]["payload"]["figures"] == {XIANGSHUI: {"affected_population": "150"}}
    assert events[1]["actor"]["username"] == "test-county"
    assert CHENJIAGANG not in str(events)
    # The county still sees every township.
    assert set(history(client, as_role, disaster_id)[1]["payload"]["figures"]) == {XIANGSHUI, CHENJIAGANG}


def test_township_account_does_not_see_other_townships_figures_through_report_jumps(client, as_role):
    disaster_id = open_disaster(client, as_role, role="county", figures={
        XIANGSHUI: {"affected_population": 120}, CHENJIAGANG: {"affected_population": 50}})["id"]
    surge = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/follow-ups", {
        "as_of": ago(days=2), "explanation": "陈家港镇沿海村组新增受灾",
        "figures": {CHENJIAGANG: {"affected_population": 500}}})
    assert surge.status_code == 201, surge.text
    county_view = state(client, as_role, disaster_id, role="county")
    assert county_view["reports"][1]["jumps"][0]["township"] == CHENJIAGANG

    own = state(client, as_role, disaster_id, role="township")
    assert own["totals"] == {"affected_population": "120"}
    assert all(j["township"] == XIANGSHUI for r in own["reports"] for j in r["jumps"]), own["reports"]


# --- 亚灾种 and 其中 (issue 15, points 3 and 5) ---------------------------------------------------


def test_a_county_initial_report_without_the_subtype_is_refused_naming_it(client, as_role, runtime):
    before = runtime.position()
    response = client.post("/v1/disasters", json={
        "county": COUNTY, "hazard": "flood", "occurred_at": ago(days=2),
        "figures": {XIANGSHUI: {"affected_population": 10}}}, headers=as_role("county"))
    error = assert_error(response, 422, "invalid")
    assert [(f["field"], f["code"]) for f in error["fields"]] == [("subtype", "subtype_required")]
    assert "river_flood" in error["fields"][0]["message"] and "亚灾种" in error["fields"][0]["message"]
    assert runtime.position() == before


def test_a_township_may_leave_the_subtype_out_and_the_county_gives_it_when_it_first_acts(client, as_role):
    opened = open_disaster(client, as_role, subtype=None)
    assert state(client, as_role, opened["id"])["subtype"] is None
    follow_up = {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 130}}}
    refused = post(client, as_role, "county", f"/v1/disasters/{opened['id']}/follow-ups", follow_up)
    assert [f["field"] for f in assert_error(refused, 422, "subtype_required")["fields"]] == ["subtype"]
    accept_bare = client.post(f"/v1/disasters/{opened['id']}/reports/1/accept", headers=as_role("county"))
    assert_error(accept_bare, 422, "subtype_required")
    unknown = post(client, as_role, "county", f"/v1/disasters/{opened['id']}/reports/1/accept", {"subtype": "hail"})
    assert [f["code"] for f in assert_error(unknown, 422, "invalid")["fields"]] == ["unknown_subtype"]

    accepted = post(client, as_role, "county", f"/v1/disasters/{opened['id']}/reports/1/accept",
                    {"subtype": "mountain_flood"})
    assert accepted.status_code == 200, accepted.text
    after = state(client, as_role, opened["id"])
    assert after["subtype"] == "mountain_flood" and after["reports"][0]["review"] == "accepted"
    given = [e for e in history(client, as_role, opened["id"]) if e["type"] == "Corrected"]
    assert given[-1]["actor"]["role"] == "county" and given[-1]["payload"]["subtype"] == "mountain_flood"
    # …after which the county files without repeating it, and a different one is a 勘误, not a filing
    assert post(client, as_role, "county", f"/v1/disasters/{opened['id']}/follow-ups", follow_up).status_code == 201
    other = post(client, as_role, "county", f"/v1/disasters/{opened['id']}/follow-ups",
                 {**follow_up, "as_of": ago(hours=20), "subtype": "river_flood"})
    assert [f["code"] for f in assert_error(other, 422, "subtype_required")["fields"]] == ["subtype_differs"]


def test_a_county_follow_up_can_give_the_missing_subtype_with_its_figures(client, as_role):
    opened = open_disaster(client, as_role, subtype=None)
    filed = post(client, as_role, "county", f"/v1/disasters/{opened['id']}/follow-ups",
                 {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 130}},
                  "subtype": "urban_waterlogging"})
    assert filed.status_code == 201, filed.text
    assert state(client, as_role, opened["id"])["subtype"] == "urban_waterlogging"


def test_a_part_needs_its_total_given_now_or_before_and_households_never_exceed_rooms(client, as_role, runtime):
    # 其中倒塌住房间数 9 and no 倒塌房屋间数: the county total would read 0 < 9
    opened = open_disaster(client, as_role, figures={XIANGSHUI: {"affected_population": 50, "collapsed_rooms": 12}})
    before = runtime.position()
    alone = post(client, as_role, "county", f"/v1/disasters/{opened['id']}/follow-ups",
                 {"as_of": ago(days=2), "figures": {CHENJIAGANG: {"collapsed_dwelling_rooms": 9}}})
    error = assert_error(alone, 422, "inconsistent_figures")
    assert [(f["field"], f["code"]) for f in error["fields"]] == [
        (f"figures.{CHENJIAGANG}.collapsed_dwelling_rooms", "parent_missing")]
    assert "collapsed_rooms" in error["fields"][0]["message"]
    # 倒塌住房户数 5 with 倒塌房屋间数 3 (given before) is refused too
    too_many = post(client, as_role, "county", f"/v1/disasters/{opened['id']}/follow-ups",
                    {"as_of": ago(days=2), "figures": {XIANGSHUI: {"collapsed_rooms": 3,
                                                                   "collapsed_dwelling_households": 5}}})
    assert [(f["field"], f["code"]) for f in assert_error(too_many, 422, "inconsistent_figures")["fields"]] == [
        (f"figures.{XIANGSHUI}.collapsed_dwelling_households", "exceeds")]
    assert runtime.position() == before
    # the total given before is enough for a later part
    later = post(client, as_role, "county", f"/v1/disasters/{opened['id']}/follow-ups",
                 {"as_of": ago(days=2), "figures": {XIANGSHUI: {"collapsed_dwelling_rooms": 9}}})
    assert later.status_code == 201, later.text
    assert state(client, as_role, opened["id"])["totals"]["collapsed_rooms"] == "12"


# --- retracted and corrected keys (issue 15, point 4) ------------------------------------------------


def _initial(client, as_role, occurred_at: str, role: str = "county", value: int = 5):
    return client.post("/v1/disasters", headers=as_role(role), json={
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": occurred_at,
        "figures": {XIANGSHUI: {"affected_population": value}}})


def test_after_a_retraction_the_key_opens_its_next_process_with_a_deterministic_id(client, as_role, runtime):
    occurred_at = ago(days=4)
    day = datetime.fromisoformat(occurred_at).astimezone(SHANGHAI).date().isoformat()
    first = _initial(client, as_role, occurred_at)
    assert first.status_code == 201, first.text
    # The first process of a key keeps the id it always had.
    assert first.json()["id"] == str(uuid5(NAMESPACE_URL, f"/disasters/{COUNTY}/{day}/flood"))
    assert post(client, as_role, "county", f"/v1/disasters/{first.json()['id']}/retraction",
                {"reason": "误报"}).status_code == 200

    second = _initial(client, as_role, occurred_at, role="township")
    assert second.status_code == 201, second.text
    second_id = second.json()["id"]
    assert second_id == str(uuid5(NAMESPACE_URL, f"/disasters/{COUNTY}/{day}/flood/2"))
    # A live duplicate is answered with the live process (not the retracted one), and a 续报 to it works.
    before = runtime.position()
    duplicate = _initial(client, as_role, occurred_at)
    error = assert_error(duplicate, 409, "duplicate_process")
    assert error["details"]["existing_id"] == second_id
    assert runtime.position() == before
    follow_up = post(client, as_role, "township", f"/v1/disasters/{second_id}/follow-ups",
                     {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 6}}})
    assert follow_up.status_code == 201, follow_up.text

    assert post(client, as_role, "county", f"/v1/disasters/{second_id}/retraction",
                {"reason": "重复"}).status_code == 200
    third = _initial(client, as_role, occurred_at)
    assert third.json()["id"] == str(uuid5(NAMESPACE_URL, f"/disasters/{COUNTY}/{day}/flood/3"))
    assert state(client, as_role, third.json()["id"])["stage"] == "initial"
    assert state(client, as_role, first.json()["id"])["stage"] == "retracted"


def test_a_date_correction_frees_the_old_key_and_the_new_key_names_the_live_process(client, as_role, runtime):
    moved_from = ago(days=5)
    moved_to = ago(days=8)
    moved = _initial(client, as_role, moved_from).json()["id"]
    new_date = datetime.fromisoformat(moved_to).astimezone(SHANGHAI).date().isoformat()
    corrected = post(client, as_role, "county", f"/v1/disasters/{moved}/corrections",
                     {"reason": "日期误报", "disaster_date": new_date})
    assert corrected.status_code == 200, corrected.text

    on_new = _initial(client, as_role, moved_to)
    assert assert_error(on_new, 409, "duplicate_process")["details"]["existing_id"] == moved
    on_old = _initial(client, as_role, moved_from)
    assert on_old.status_code == 201, on_old.text
    # The old key's first id is the moved process itself, so the new process is the key's second.
    old_day = datetime.fromisoformat(moved_from).astimezone(SHANGHAI).date().isoformat()
    assert on_old.json()["id"] == str(uuid5(NAMESPACE_URL, f"/disasters/{COUNTY}/{old_day}/flood/2"))
    # …and the moved process cannot be corrected back onto a key a live process holds.
    back = post(client, as_role, "county", f"/v1/disasters/{moved}/corrections",
                {"reason": "日期误报", "disaster_date": old_day})
    assert assert_error(back, 409, "duplicate_process")["details"]["existing_id"] == on_old.json()["id"]
