"""The scripted accident: casualties rise from 一般 to 较大 to 重大, over HTTP, on both backends.

A chemical plant in 黄圩镇, 响水县, 2025-03-10 14:00 (Beijing). Events are recorded on a clock the test
sets (`clock`, which replaces the library's timestamp source), so the recorded times are those of
the story; the clocks are then read as of now (long after):

- 14:40 the unit reports 1 dead, 2 seriously injured (一般); the county records it at 14:50 and
  reports to the city at 15:30;
- day 1, 08:00 续报: 4 dead → 较大 (regraded); the city reports to the province at 09:30 — within 2 h
  of the report that raised the grade, but past the hour 较大以上 allows the province;
- day 1, 18:00 续报 without change;
- day 2, 10:00 续报: 11 dead → 重大 (regraded); the province reports to 国务院 at 11:00;
- day 3: one 续报 (09:00) where 重大 needs two a day — the frequency changed with the grade;
- day 4: two 续报; 应急救援结束 at 20:00;
- day 45: a seriously injured worker died on day 44: a 补报 after the 30-day window — refused without a
  written explanation, accepted with one, and flagged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ledger.accounts.service import local_operator
from tests.api.test_accidents_api import CREDIT_CODE, HUANGWEI, assert_error
from tests.unit.test_audit import Clock

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, 10, tzinfo=BEIJING) + timedelta(days=day, hours=hour, minutes=minute)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(bj(0, 14, 50))
    monkeypatch.setattr("eventsourcing.domain.datetime_now_with_tzinfo", c)
    return c


def post(client, as_role, clock: Clock, at: datetime, role: str, path: str, body: dict[str, Any],
         status: int = 200) -> dict[str, Any]:
    clock.set(at)
    response = client.post(path, json=body, headers=as_role(role))
    assert response.status_code == status, response.text
    return response.json()


def file_story(client, as_role, clock: Clock) -> str:
    accident = post(client, as_role, clock, bj(0, 14, 50), "county", "/v1/accidents", {
        "county": "320921", "township": HUANGWEI, "park": "响水生态化工园区", "unit_name": "江苏某化工有限公司",
        "credit_code": CREDIT_CODE, "sector": "hazardous_chemicals", "occurred_at": bj(0, 14).isoformat(),
        "place": "硝化车间", "summary": "硝化车间发生爆炸", "casualties": {"deaths": 1, "serious_injuries": 2},
        "direct_loss_fen": 120_000_000, "unit_reported_at": bj(0, 14, 40).isoformat(),
    }, status=201)
    path = f"/v1/accidents/{accident['id']}"

    def follow_up(day: int, hour: int, **body: Any) -> None:
        post(client, as_role, clock, bj(day, hour), "county", f"{path}/follow-ups",
             {"as_of": bj(day, hour).isoformat(), "text": "续报", **body}, status=201)

    def upward(role: str, to_level: str, at: datetime) -> None:
        post(client, as_role, clock, at, role, f"{path}/upward-reports",
             {"to_level": to_level, "reported_at": at.isoformat(), "channel": "phone"})

    upward("county", "city", bj(0, 15, 30))
    follow_up(1, 8, casualties={"deaths": 4})
    upward("city", "province", bj(1, 9, 30))
    follow_up(1, 18)
    follow_up(2, 10, casualties={"deaths": 11})
    upward("province", "national", bj(2, 11))
    follow_up(3, 9)
    follow_up(4, 8)
    follow_up(4, 16)
    post(client, as_role, clock, bj(4, 20), "county", f"{path}/rescue-concluded", {"at": bj(4, 20).isoformat()})
    return str(accident["id"])


def test_the_scripted_accident_shows_each_regrading_the_follow_up_change_and_the_late_supplement(
        client, as_role, clock, runtime):
    accident_id = file_story(client, as_role, clock)
    path = f"/v1/accidents/{accident_id}"

    # Day 45: a 补报 of a death on day 44 is beyond the 30-day window: refused without a written explanation …
    late = {"as_of": bj(44, 18).isoformat(), "casualties": {"deaths": 12, "serious_injuries": 1}}
    clock.set(bj(45, 9))
    before = runtime.position()
    refused = client.post(f"{path}/follow-ups", json=late, headers=as_role("county"))
    assert [f["field"] for f in assert_error(refused, 422, "explanation_required")["fields"]] == ["explanation"]
    assert runtime.position() == before
    # … accepted with one, and flagged.
    post(client, as_role, clock, bj(45, 9), "county", f"{path}/follow-ups",
         {**late, "explanation": "重伤者经抢救无效于第 44 日死亡，依规补报"}, status=201)

    body = client.get(path, headers=as_role("province")).json()
    state = body["state"]
    assert [(g["previous"], g["grade"]) for g in state["grades"]] == [
        (None, "ordinary"), ("ordinary", "larger"), ("larger", "major")]
    assert [g["recorded_at"] for g in state["grades"][1:]] == [bj(1, 8).isoformat(), bj(2, 10).isoformat()]
    assert body["grade_name"] == "重大" and state["casualties"]["deaths"] == 12
    history = client.get(f"{path}/history", headers=as_role("auditor")).json()
    regradings = [e for e in history if e["type"] == "Regraded"]
    assert [(e["payload"]["previous"], e["payload"]["grade"], e["payload"]["report_number"]) for e in regradings] == [
        ("ordinary", "larger", 2), ("larger", "major", 4)]
    assert all(e["payload"]["rules_version"] == "accidents-default-2026.1" for e in regradings)

    clocks = body["clocks"]

    def flags(rule: str) -> list[tuple[str, str]]:
        return [(c["status"], c["due_at"]) for c in clocks if c["rule"] == rule]

    assert flags("unit.report") == [("on_time", bj(0, 15).isoformat())]
    assert flags("upward.city") == [("on_time", bj(0, 16, 40).isoformat())]
    assert flags("upward.province") == [("on_time", bj(1, 10).isoformat())]
    assert flags("upward.direct_province") == [("late", bj(1, 9).isoformat())]
    assert flags("upward.national") == [("on_time", bj(2, 12).isoformat())]
    # 续报: day 1 (一般 at its start) one; day 2 (较大) one; from day 3 (重大) two a day, until the rescue ended.
    daily = flags("follow_up.daily")
    assert daily == [("on_time", bj(2, 0).isoformat()), ("on_time", bj(3, 0).isoformat()),
                     ("on_time", bj(4, 0).isoformat()), ("missing", bj(4, 0).isoformat())]
    assert [c["grade"] for c in clocks if c["rule"] == "follow_up.daily"] == [
        "ordinary", "larger", "major", "major"]
    assert flags("supplement.window") == [("late", bj(30, 14).isoformat())]
    window = next(c for c in clocks if c["rule"] == "supplement.window")
    assert window["report_number"] == 8 and window["rules_version"] == "accidents-default-2026.1"
    # The death known on day 44 was entered on day 45: the same-day 补报 is late too.
    assert flags("supplement.same_day")[-1] == ("late", bj(45, 0).isoformat())
    assert all(c["due_at"].endswith("+08:00") for c in clocks)
    assert datetime.fromisoformat(state["updated_at"]) == bj(45, 9).astimezone(UTC)


def test_an_accident_as_known_at_a_moment_shows_what_had_been_reported_by_then(client, as_role, clock, runtime):
    accident_id = file_story(client, as_role, clock)
    clock.set(bj(6, 9))

    def known(at: datetime, role: str = "auditor") -> Any:
        return client.get(f"/v1/audit/{accident_id}/as-known-at", params={"at": at.isoformat()},
                          headers=as_role(role))

    day_one = known(bj(1, 12))
    assert day_one.status_code == 200, day_one.text
    body = day_one.json()
    assert (body["state"]["casualties.deaths"], body["state"]["grade"]) == (4, "larger")
    assert [e["type"] for e in body["recorded_after"]].count("FollowUpFiled") == 5
    first_hour = known(bj(0, 15)).json()
    assert (first_hour["state"]["casualties.deaths"], first_hour["state"]["grade"]) == (1, "ordinary")
    assert known(bj(3, 12), "county").json()["state"]["grade"] == "major"
    operator = local_operator()
    runtime.accounts.register(operator, "cq-auditor", "auditor", "500107")
    token, _ = runtime.accounts.issue_token(operator, "cq-auditor")
    elsewhere = client.get(f"/v1/audit/{accident_id}/as-known-at", params={"at": bj(1, 12).isoformat()},
                           headers={"Authorization": f"Bearer {token}"})
    assert elsewhere.status_code == 403  # an auditor of another county does not read this accident
