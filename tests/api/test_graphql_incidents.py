"""GraphQL over accidents and incident command, with the projections running (both backends).

The scripted accident (一般 → 较大 → 重大) is read back through GraphQL with its regradings and clocks;
an incident answers "who held command at T" and an area "which calls went unanswered for more than N
minutes"; every field applies the caller's scope.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost
from tests.api.graphql_fixtures import Api
from tests.api.test_accident_story_api import bj, clock, file_story  # noqa: F401 — clock is a fixture
from tests.api.test_incidents_api import HUANGWEI, XIANGSHUI, at


@pytest.fixture
def api(runtime: LedgerRuntime, tokens: dict[str, str]) -> Iterator[Api]:
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as client:
        yield Api(client, runtime, dict(tokens))


def as_role(api: Api):
    return lambda role, **extra: {**api.headers(role), **extra}


ACCIDENT = """
query($id: ID!, $p: Int) {
  accident(id: $id, minPosition: $p) {
    county grade gradeName status deaths seriouslyInjured reportCount unitName creditCode
    grades { previous grade reportNumber basis rulesVersion }
    clocks(status: ["late", "missing"]) { rule status grade dueAt ruleSource rulesVersion }
  }
}
"""


def test_the_scripted_accident_reads_back_through_graphql_with_its_regradings(api, clock):  # noqa: F811
    accident_id = file_story(api.client, as_role(api), clock)
    head = api.runtime.position()
    data = api.data(ACCIDENT, {"id": accident_id, "p": head}, role="city")["accident"]
    assert (data["grade"], data["gradeName"], data["deaths"], data["status"]) == ("major", "重大", 11,
                                                                                   "rescue_concluded")
    assert [(g["previous"], g["grade"], g["reportNumber"]) for g in data["grades"]] == [
        (None, "ordinary", 1), ("ordinary", "larger", 2), ("larger", "major", 4)]
    assert data["grades"][2]["basis"] == ["死亡（含失踪） 11 ≥ 10"]
    flagged = {(c["rule"], c["status"], c["grade"]) for c in data["clocks"]}
    assert flagged == {("upward.direct_province", "late", "larger"), ("follow_up.daily", "missing", "major")}

    listed = api.data('{ accidents(area: "320921", period: {year: 2025}) { edges { node { id gradeName } } } }')
    assert [e["node"] for e in listed["accidents"]["edges"]] == [{"id": accident_id, "gradeName": "重大"}]
    report = api.data('{ accidentClocks(area: "3209", period: {month: "2025-03"}, status: ["late"]) '
                      '{ late missing clocks { rule } } }', role="auditor")["accidentClocks"]
    assert report["late"] == 1 and report["missing"] == 1 and [c["rule"] for c in report["clocks"]] == [
        "upward.direct_province"]
    # Outside one's scope: refused.
    other = api.add_account("jiulongpo", "county", "500107")
    assert api.error(ACCIDENT, {"id": accident_id}, role=other)["extensions"]["code"] == "forbidden"


COMMAND = """
query($id: ID!, $at: DateTime!, $p: Int) {
  commandAt(incidentId: $id, at: $at, minPosition: $p) { name post unit since until handedOverBy }
  incident(id: $id) { title responses(activeOnly: true) { governmentLevel level plan } command { name } }
}
"""


def test_who_held_command_at_a_moment_and_which_calls_waited_too_long(api):
    def post(role: str, path: str, body: dict) -> dict:
        response = api.client.post(path, json=body, headers=api.headers(role))
        assert response.status_code in (200, 201), response.text
        api.positions.append(response.json()["position"])
        return response.json()

    incident = post("county", "/v1/incidents", {"title": "响水镇内涝", "category": "natural_disaster",
                                                "area": XIANGSHUI, "occurred_at": at(10)})
    path = f"/v1/incidents/{incident['id']}"
    post("county", f"{path}/command", {"commander": {"name": "李某", "post": "响水镇镇长", "unit": XIANGSHUI},
                                       "since": at(9.5)})
    post("county", f"{path}/command", {"commander": {"name": "张某", "post": "副县长", "unit": "320921"},
                                       "since": at(7), "reason": "县级响应启动"})
    post("county", f"{path}/responses", {"action": "start", "government_level": "county", "plan": "响水县防汛应急预案",
                                         "plan_version": "2021", "level": 4, "decided_at": at(7)})
    calls = f"{path}/support-requests"
    post("township", calls, {"township": XIANGSHUI, "what": "请求排涝泵车", "requested_at": at(9)})
    post("county", f"{calls}/R1/answer", {"outcome": "dispatched", "answered_at": at(8.9)})  # 6 minutes
    post("township", calls, {"township": XIANGSHUI, "what": "请求冲锋舟 2 艘", "requested_at": at(8)})
    post("county", f"{calls}/R2/answer", {"outcome": "partial", "answered_at": at(7)})  # 60 minutes
    post("township", calls, {"township": XIANGSHUI, "what": "请求医疗队", "requested_at": at(2)})  # never
    head = api.last_position

    data = api.data(COMMAND, {"id": incident["id"], "at": at(8), "p": head})
    assert data["commandAt"]["name"] == "李某" and data["commandAt"]["until"] is not None
    assert data["incident"]["responses"] == [{"governmentLevel": "county", "level": 4, "plan": "响水县防汛应急预案"}]
    later = api.data(COMMAND, {"id": incident["id"], "at": at(1)})["commandAt"]
    assert (later["name"], later["handedOverBy"]) == ("张某", "李某")
    assert api.data(COMMAND, {"id": incident["id"], "at": at(9.9)})["commandAt"] is None

    query = ('query($m: Int!, $area: String) { unansweredCalls(minutes: $m, area: $area) '
             '{ requestId waitedMinutes stillWaiting outcome } }')
    waited = api.data(query, {"m": 30})["unansweredCalls"]
    assert [(c["requestId"], c["stillWaiting"], c["outcome"]) for c in waited] == [
        ("R2", False, "partial"), ("R3", True, None)]
    assert waited[0]["waitedMinutes"] == 60 and waited[1]["waitedMinutes"] >= 119
    assert [c["requestId"] for c in api.data(query, {"m": 90})["unansweredCalls"]] == ["R3"]
    assert api.data(query, {"m": 30, "area": HUANGWEI})["unansweredCalls"] == []
    assert api.error(query, {"m": 30, "area": "500107"})["extensions"]["code"] == "forbidden"
