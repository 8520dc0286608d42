"""Accidents in the accountability report: 迟报 / 未报 from the clocks, regradings, findings and late 补报,
from the accident register by area and period (both backends; with and without projections running).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.files.accountability import check_jsonl
from projections.runner import ProjectionHost
from tests.api.test_accident_story_api import bj, clock, file_story, post  # noqa: F401 — clock is a fixture

EVIDENCE = [{"ref": "sha256:" + "ab" * 32, "type": "application/pdf", "name": "调查询问笔录.pdf"}]


def story_with_findings(client, as_role, clock) -> str:  # noqa: F811
    accident_id = file_story(client, as_role, clock)
    path = f"/v1/accidents/{accident_id}"
    finding = post(client, as_role, clock, bj(20, 10), "city", f"{path}/findings", {
        "kind": "late", "against_party": "regulator", "against_level": "county", "evidence": EVIDENCE,
        "text": "县应急管理局未在 1 小时内报告省级，联系电话 13800001234"}, status=201)
    assert finding["created"] == {"finding_id": "F1"}
    post(client, as_role, clock, bj(21, 10), "city", f"{path}/findings", {
        "kind": "concealed", "evidence": EVIDENCE, "text": "企业隐瞒 1 名重伤人员"}, status=201)
    post(client, as_role, clock, bj(22, 10), "province", f"{path}/findings/F2/withdrawal",
         {"reason": "经复核，该人员属轻伤"})
    post(client, as_role, clock, bj(45, 9), "county", f"{path}/follow-ups", {
        "as_of": bj(44, 18).isoformat(), "casualties": {"deaths": 12, "serious_injuries": 1},
        "explanation": "重伤者经抢救无效于第 44 日死亡"}, status=201)
    return accident_id


def sections(client, as_role, fmt: str = "json") -> Any:
    response = client.get("/v1/audit/report", params={"area": "320921", "date_from": "2025-03-01",
                                                      "date_to": "2025-04-30", "format": fmt},
                          headers=as_role("auditor"))
    assert response.status_code == 200, response.text
    return response.json()["sections"] if fmt == "json" else response.content


def test_accidents_appear_in_the_accountability_report(client, as_role, clock):  # noqa: F811
    accident_id = story_with_findings(client, as_role, clock)
    report = sections(client, as_role)
    late = [(r["rule"], r["status"], r["grade_name"]) for r in report["accident_clocks"]]
    assert sorted(late) == [("follow_up.daily", "missing", "重大"), ("supplement.same_day", "late", "重大"),
                            ("supplement.window", "late", "重大"), ("upward.direct_province", "late", "较大")]
    assert all(r["accident_id"] == accident_id and r["county_name"] == "响水县" for r in report["accident_clocks"])
    assert [(r["previous"], r["grade"], r["actor"]) for r in report["accident_regradings"]] == [
        ("ordinary", "larger", "test-county"), ("larger", "major", "test-county")]
    findings = report["accident_findings"]
    assert [(r["action"], r["finding_id"], r["kind_name"], r["actor"]) for r in findings] == [
        ("recorded", "F1", "迟报", "test-city"), ("recorded", "F2", "瞒报", "test-city"),
        ("withdrawn", "F2", "瞒报", "test-province")]
    assert findings[0]["against"] == "county 320921000000" and "sha256:" + "ab" * 32 in findings[0]["evidence"]
    assert "13800001234" not in findings[0]["text"] and findings[0]["definition"] == "报告事故的时间超过规定时限"
    actions = {(r["actor"], r["event_name"]): r["count"] for r in report["actions_per_account"]}
    assert actions[("test-city", "认定迟报/漏报/谎报/瞒报")] == 2 and actions[("test-province", "撤销认定")] == 1
    assert actions[("test-county", "事故续报")] >= 1  # who acted on accidents is counted like everyone else
    [late_supplement] = report["accident_late_supplements"]
    assert late_supplement["window_days"] == 30 and late_supplement["report_number"] == 8
    # The original reports are untouched by the findings.
    state = client.get(f"/v1/accidents/{accident_id}", headers=as_role("county")).json()["state"]
    assert [r["number"] for r in state["reports"]] == list(range(1, 9))


def test_the_report_reads_the_running_register_and_its_bundle_checks(runtime, tokens, clock):  # noqa: F811
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as client:
        def as_role(role: str, **extra: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[role]}", **extra}

        story_with_findings(client, as_role, clock)
        bundle = sections(client, as_role, fmt="jsonl")
        assert check_jsonl(bundle)
        assert b'"type":"accident_findings"' in bundle and b'"type":"accident_regradings"' in bundle
        outside = client.get("/v1/audit/report", params={"area": "320921", "date_from": "2025-06-01",
                                                         "date_to": "2025-06-30"}, headers=as_role("auditor"))
        body = outside.json()["sections"]
        assert body["accident_clocks"] == [] and body["accident_findings"] == []
