"""The accident register and incident command read models (both backends): given events → rows; batch
sizes and a rebuild give the same rows; the accountability log answers by area, period and position;
yearly sums leave withdrawn accidents out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.accidents.findings import Finding
from ledger.accidents.inputs import AccidentReport, FollowUp
from ledger.incidents.service import Opening
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from projections.accidents.register import AccidentRegisterProjection
from projections.incidents.command import IncidentCommandProjection

EVIDENCE = [{"ref": "sha256:" + "cd" * 32, "type": "application/pdf", "name": "笔录.pdf"}]


def hours_ago(h: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=h)


def accident(runtime: LedgerRuntime, county: Actor, name: str, deaths: int, sector: str = "industry_trade") -> Any:
    return runtime.accidents.record(county, AccidentReport(
        county="320921", township="320921103", unit_name=name, sector=sector, occurred_at=hours_ago(30),
        place="车间", summary="事故", casualties={"deaths": deaths}, direct_loss_fen=0, unit_reported_at=hours_ago(29.5)))


def story(runtime: LedgerRuntime, officers: dict[str, Actor]) -> dict[str, Any]:
    county, city = officers["county"], officers["city"]
    a = accident(runtime, county, "甲公司", 1)
    runtime.accidents.file_follow_up(county, a.id, FollowUp(as_of=hours_ago(20), casualties={"deaths": 3}))
    middle = runtime.position()
    runtime.accidents.record_finding(city, a.id, Finding(kind="omitted", text="漏报一名重伤人员", evidence=EVIDENCE))
    b = accident(runtime, county, "乙运输公司", 2, sector="road_transport")
    runtime.accidents.withdraw(county, b.id, "经查属于非生产经营活动")
    accident(runtime, county, "丙公司", 1, sector="construction")
    incident = runtime.incidents.open(county, Opening(title="甲公司爆炸", category="accident", area="320921103",
                                                      occurred_at=hours_ago(30), links=[{"kind": "accident",
                                                                                         "id": str(a.id)}]))
    runtime.incidents.request_support(officers["county"], incident.id, "320921103", "请求支援", [], hours_ago(25))
    return {"a": str(a.id), "b": str(b.id), "incident": str(incident.id), "middle": middle}


def rows(view: Any, table: str) -> list[dict[str, Any]]:
    return view.query(f"SELECT * FROM {{t}}_{table} ORDER BY 1, 2")


def test_batch_sizes_and_a_rebuild_give_the_same_rows(runtime, officers, follow):
    story(runtime, officers)
    for projection in (AccidentRegisterProjection, IncidentCommandProjection):
        one, many = follow(projection, batch=1), follow(projection, batch=500)
        # two followers of one projection share its tables on PostgreSQL: compare a rebuild with the first pass
        one.catch_up()
        before = {t: rows(one.projection.view, t) for t in ("rows", "log", "calls") if
                  f"{{t}}_{t}" in one.projection.view.own_tables}
        many.rebuild()
        after = {t: rows(many.projection.view, t) for t in before}
        assert before == after and before["rows"]


def test_the_register_answers_by_area_period_and_position(runtime, officers, follow):
    ids = story(runtime, officers)
    register = follow(AccidentRegisterProjection)
    register.catch_up()
    view = register.projection.view
    found = {r["accident_id"]: r for r in view.find("320921")}
    assert found[ids["a"]]["grade"] == "larger" and found[ids["b"]]["status"] == "withdrawn"
    assert len(json.loads(found[ids["a"]]["entries"])) == 4  # recorded, 续报, regraded, finding
    start, end = hours_ago(48), datetime.now(UTC) + timedelta(minutes=1)
    assert [r["kind"] for r in view.log("320921", start, end)] == ["regrading", "finding"]
    assert [r["kind"] for r in view.log("320921", start, end, upto=ids["middle"])] == ["regrading"]
    assert view.log("500107", start, end) == [] and view.find("320921100") == []
    year = hours_ago(30).astimezone().year
    sums = {(r["sector"], r["grade"]): (r["accidents"], r["deaths"]) for r in view.yearly("320921", year, year)}
    assert sums == {("industry_trade", "larger"): (1, 3), ("construction", "ordinary"): (1, 1)}  # 乙 withdrawn


def test_incident_calls_are_found_by_township_and_time(runtime, officers, follow):
    ids = story(runtime, officers)
    command = follow(IncidentCommandProjection)
    command.catch_up()
    view = command.projection.view
    [call] = view.calls_waiting_since("320921103", datetime.now(UTC).isoformat())
    assert (call["incident_id"], call["request_id"], call["answered_at"]) == (ids["incident"], "R1", None)
    assert view.calls_waiting_since("320921103", hours_ago(26).isoformat()) == []
    assert [r["incident_id"] for r in view.find("320921")] == [ids["incident"]]
