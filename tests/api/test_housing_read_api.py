"""Housing read side with the projections running, on SQLite and PostgreSQL: reconciliation against the
reported 住房 figures (mismatches both ways), progress, overdue files, the accountability rows, the
因灾倒塌损坏住房户 list, as-known-at and diff of a file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost
from tests.api.test_housing_api import (
    CHINA,
    COUNTY,
    LI,
    ZHANG,
    a_fund,
    application,
    approved,
    call,
    later,
    today,
)


@pytest.fixture
def client(runtime: LedgerRuntime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as c:
        yield c


def gql(client: TestClient, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


def reported_flood(client: TestClient, tokens: dict[str, str]) -> str:
    """响水镇: 2 collapsed households (6 间), nothing severe; 陈家港镇: 1 collapsed household (3 间)."""
    occurred = datetime.now(CHINA).replace(microsecond=0) - timedelta(hours=3)
    return call(client, tokens["county"], "/v1/disasters", {
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": occurred.isoformat(),
        "figures": {
            "320921100": {"affected_population": 500, "collapsed_rooms": 6, "collapsed_dwelling_rooms": 6,
                          "collapsed_dwelling_households": 2},
            "320921101": {"affected_population": 80, "collapsed_rooms": 3, "collapsed_dwelling_rooms": 3,
                          "collapsed_dwelling_households": 1}}}, 201)["id"]


RECONCILE = """query($d: ID, $p: Int){ housingReconciliation(disasterId: $d, minPosition: $p) {
    township damage unit cases reported difference status } }"""


def test_reconciliation_lists_differences_both_ways(client, tokens) -> None:
    disaster = reported_flood(client, tokens)
    call(client, tokens["township"], "/v1/housing/cases", application(client, disaster, rooms=3), 201)
    last = call(client, tokens["township"], "/v1/housing/cases", application(
        client, disaster, id_number=LI, head_name="李四", damage="severe", rooms=2, mode="repair"), 201)
    found = gql(client, tokens["county"], RECONCILE, d=disaster, p=last["position"])["housingReconciliation"]
    rows = {(r["township"], r["damage"], r["unit"]): (r["cases"], r["reported"], r["status"]) for r in found}
    assert rows == {
        ("320921100", "collapsed", "户"): (1, 2, "to_explain"),  # fewer files than reported
        ("320921100", "collapsed", "间"): (3, 6, "to_explain"),
        ("320921100", "severe", "户"): (1, 0, "possible_underreport"),  # more files than reported: 漏报?
        ("320921100", "severe", "间"): (2, 0, "possible_underreport"),
        ("320921101", "collapsed", "户"): (0, 1, "to_explain"),
        ("320921101", "collapsed", "间"): (0, 3, "to_explain"),
    }
    t = today(client)
    report = client.get("/v1/audit/report", params={"area": COUNTY, "date_from": str(t - timedelta(days=1)),
                                                    "date_to": str(t)},
                        headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
    assert len(report["sections"]["housing_reconciliation"]) == 6
    assert {r["status_name"] for r in report["sections"]["housing_reconciliation"]} == {"可能漏报", "待说明"}


PROGRESS = """query($p: Int){ housingProgress(minPosition: $p) { kind households started completed movedIn
    approvedFen paidFen outstandingFen } overdueWork(minPosition: $p) { housing { kind caseId daysOverdue } } }"""


def test_progress_overdue_and_above_standard_rows(client, tokens) -> None:
    disaster = reported_flood(client, tokens)
    a_fund(client, tokens)
    case = approved(client, tokens, disaster)
    t = today(client)
    call(client, tokens["county"], f"/v1/housing/cases/{case}/agreement",
         {"signed_on": str(t), "planned_start": str(t + timedelta(days=2)), "planned_completion": str(t + timedelta(days=30))})
    started = call(client, tokens["township"], f"/v1/housing/cases/{case}/steps", {"step": "started", "stated_on": str(t)})
    paid = call(client, tokens["county"], f"/v1/housing/cases/{case}/tranches", {"tranche": 1, "bank_ref": "B"}, 201)
    data = gql(client, tokens["county"], PROGRESS, p=paid["position"])
    [rebuild] = data["housingProgress"]
    assert (rebuild["kind"], rebuild["households"], rebuild["started"], rebuild["completed"], rebuild["movedIn"]) == (
        "rebuild", 1, 1, 0, 0)
    assert (rebuild["approvedFen"], rebuild["paidFen"], rebuild["outstandingFen"]) == (1_500_000, 750_000, 750_000)
    assert data["overdueWork"]["housing"] == []
    later(client, days=40)  # past the planned 竣工 and the 20-day progress rhythm
    kinds = {i["kind"] for i in gql(client, tokens["county"], PROGRESS, p=started["position"])["overdueWork"]["housing"]}
    assert kinds == {"completion_late", "progress_report_due"}

    other = call(client, tokens["township"], "/v1/housing/cases", application(client, disaster, id_number=LI,
                                                                                  head_name="李四"), 201)["id"]
    t = today(client)
    call(client, tokens["township"], f"/v1/housing/cases/{other}/deliberation", {"minutes_ref": "记录", "held_on": str(t)})
    call(client, tokens["township"], f"/v1/housing/cases/{other}/posting",
         {"start": str(t), "end": str(t + timedelta(days=6)), "place": "公开栏"})
    later(client)
    call(client, tokens["township"], f"/v1/housing/cases/{other}/township-review", {})
    call(client, tokens["county"], f"/v1/housing/cases/{other}/approval",
         {"subsidy_fen": 1_800_000, "reason": "特困供养户，县政府专题会议同意"})
    real = datetime.now(CHINA).date()
    report = client.get("/v1/audit/report", params={"area": COUNTY, "date_from": str(real), "date_to": str(real)},
                        headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
    [row] = report["sections"]["housing_above_standard"]
    assert (row["case_id"], row["subsidy_fen"], row["standard_fen"], row["standard_yuan"]) == (
        other, 1_800_000, 1_500_000, "15000.00")
    assert row["reason"] == "特困供养户，县政府专题会议同意" and row["table_version"] == "housing-default-2026.1"


def test_the_list_downloads_with_names_for_officers_and_numbers_masked(client, tokens, runtime) -> None:
    disaster = reported_flood(client, tokens)
    call(client, tokens["township"], "/v1/housing/cases", application(client, disaster), 201)
    runtime_position = runtime.position()
    for role, name in (("county", "张三"), ("auditor", "张*")):
        response = client.get("/v1/housing/list.xlsx", params={"area": COUNTY},
                              headers={"Authorization": f"Bearer {tokens[role]}"})
        assert response.status_code == 200, response.text
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = [c.value for row in sheet.iter_rows() for c in row]
        assert name in values and ZHANG not in values
    revealed = client.get("/v1/housing/list.xlsx", params={"area": COUNTY, "reveal": True, "purpose": "核对身份"},
                          headers={"Authorization": f"Bearer {tokens['county']}"})
    assert ZHANG in [c.value for row in load_workbook(io.BytesIO(revealed.content)).active.iter_rows() for c in row]
    assert runtime.position() == runtime_position + 1  # the clear export was recorded
    refused = client.get("/v1/housing/list.xlsx", params={"area": COUNTY, "reveal": True, "purpose": "x"},
                         headers={"Authorization": f"Bearer {tokens['auditor']}"})
    assert refused.status_code == 403


def test_as_known_at_and_diff_work_for_a_housing_file(client, tokens) -> None:
    disaster = reported_flood(client, tokens)
    created = call(client, tokens["township"], "/v1/housing/cases", application(client, disaster), 201)
    moment = datetime.now(CHINA).isoformat()
    call(client, tokens["township"], f"/v1/housing/cases/{created['id']}/deliberation",
         {"minutes_ref": "四议两公开记录", "held_on": str(today(client))})
    known = client.get(f"/v1/audit/{created['id']}/as-known-at", params={"at": moment},
                       headers={"Authorization": f"Bearer {tokens['auditor']}"})
    assert known.status_code == 200, known.text
    body = known.json()
    assert body["version"] == 1 and body["state"]["step"] == "applied"
    assert body["state"]["head_name"] == "张*" and ZHANG not in known.text
    diff = client.get(f"/v1/audit/{created['id']}/diff", params={"from_version": 1},
                      headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
    assert {(c["field"], c["new"]) for c in diff["changes"] if c["field"] == "step"} == {("step", "deliberated")}
