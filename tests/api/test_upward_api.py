"""Upward reports (上报) of the city and the province, and the clocks of every level they answer (issue 15.1/15.2).

Every test runs on SQLite and on PostgreSQL, with the projections running.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost
from tests.api.graphql_fixtures import BEIJING, CHENJIAGANG, XIANGSHUI, Api, ago
from tests.api.test_graphql import COMPLIANCE

COUNTY, CITY = "320921", "3209"


@pytest.fixture
def api(runtime: LedgerRuntime, tokens: dict[str, str]) -> Iterator[Api]:
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as client:
        yield Api(client, runtime, dict(tokens))


def flags_of(api: Api, role: str = "province", area: str = "32", days: int = 4) -> dict[tuple[str, str], list]:
    today = datetime.now(BEIJING).date()
    period = {"dateFrom": (today - timedelta(days=days)).isoformat(), "dateTo": today.isoformat()}
    report = api.data(COMPLIANCE, {"area": area, "period": period, "p": api.last_position}, role)["compliance"]
    out: dict[tuple[str, str], list] = {}
    for f in report["flags"]:
        out.setdefault((f["disasterId"], f["rule"]), []).append(f)
    return out


def upward(api: Api, role: str, kind: str, ids: list[str], status: int = 201, **extra: Any) -> dict[str, Any]:
    response = api.client.post("/v1/upward-reports", json={"kind": kind, "disaster_ids": ids, **extra},
                               headers=api.headers(role))
    assert response.status_code == status, response.text
    if status < 300:
        api.positions.append(response.json()["position"])
    return response.json()


def test_the_city_and_the_province_each_report_the_initial_report_upward_within_two_hours(api: Api) -> None:
    opened = api.initial("township", occurred_at=ago(hours=1).isoformat(),
                         figures={XIANGSHUI: {"affected_population": 40}})
    api.accept("county", opened["id"], 1)
    flags = flags_of(api)
    assert flags[(opened["id"], "initial.city")][0]["status"] == "pending"
    assert (opened["id"], "initial.province") not in flags  # the city has not handled it yet

    upward(api, "city", "initial", [opened["id"]], text="响水县洪涝初报，已审核上报")
    flags = flags_of(api)
    city = flags[(opened["id"], "initial.city")][0]
    assert (city["status"], city["level"], city["unit"]) == ("on_time", "city", "320900000000")
    assert flags[(opened["id"], "initial.province")][0]["status"] == "pending"

    upward(api, "province", "initial", [opened["id"]])
    province = flags_of(api)[(opened["id"], "initial.province")][0]
    assert (province["status"], province["level"], province["unit"]) == ("on_time", "province", "320000000000")
    assert province["arrivedAt"] is not None


def test_only_the_city_and_province_file_upward_within_their_area_and_a_final_waits_for_the_county(
    api: Api, runtime: LedgerRuntime,
) -> None:
    opened = api.initial("county", occurred_at=ago(hours=3).isoformat(),
                         figures={XIANGSHUI: {"affected_population": 40}})
    before = runtime.position()
    assert upward(api, "county", "initial", [opened["id"]], status=403)["error"]["code"] == "forbidden"
    assert upward(api, "city", "daily", [opened["id"]], status=422)["error"]["fields"][0]["field"] == "day"
    unknown = upward(api, "city", "initial", ["00000000-0000-0000-0000-000000000000"], status=422)
    assert unknown["error"]["code"] == "unknown_process"
    waiting = upward(api, "city", "final", [opened["id"]], status=409)["error"]
    assert waiting["code"] == "county_final_missing" and waiting["details"]["disaster_ids"] == [opened["id"]]
    assert runtime.position() == before

    api.final("county", opened["id"], as_of=ago(hours=1).isoformat(),
              figures={XIANGSHUI: {"affected_population": 42}, CHENJIAGANG: {"affected_population": 3}})
    filed = upward(api, "city", "final", [opened["id"]])
    report = runtime.app.repository.get(UUID(filed["id"]))
    # The figures are derived from the ledger at the stated position, never typed in.
    assert report.figures == {"affected_population": "45"} and report.position >= before
    assert (report.level, report.unit, report.kind) == ("city", "320900000000", "final")


def response(level: int, government: str, decided_at: datetime) -> dict[str, Any]:
    return {"action": "start", "level": level, "plan": "自然灾害救助应急预案", "plan_version": "2024",
            "government_level": government, "decided_at": decided_at.isoformat(), "reason": "灾情达到启动条件"}


def test_the_daily_zero_report_only_follows_a_major_response_and_the_province_reports_by_noon(api: Api) -> None:
    occurred = ago(days=3)
    minor = api.initial("county", occurred_at=occurred.isoformat(), hazard="flood",
                        figures={XIANGSHUI: {"affected_population": 40}})
    major = api.initial("county", occurred_at=occurred.isoformat(), hazard="wind_hail",
                        figures={CHENJIAGANG: {"affected_population": 400}})
    # A county's own Ⅳ: not 特别重大/重大 — no daily 未报.
    api.command("county", f"/v1/disasters/{minor['id']}/response-level",
                response(4, "county", occurred + timedelta(hours=3)))
    api.command("province", f"/v1/disasters/{major['id']}/response-level",
                response(2, "province", occurred + timedelta(hours=3)))
    yesterday = (datetime.now(BEIJING) - timedelta(days=1)).date()
    upward(api, "province", "daily", [major["id"]], day=yesterday.isoformat())

    flags = flags_of(api)
    assert not [k for k in flags if k[0] == minor["id"] and k[1].startswith("daily")]
    county_days = flags[(major["id"], "daily.county")]
    assert county_days and {f["status"] for f in county_days} <= {"missing", "late", "on_time"}
    province_days = {f["dueAt"][:10]: f["status"] for f in flags[(major["id"], "daily.province")]}
    assert province_days[yesterday.isoformat()] in ("on_time", "late")
    assert "missing" in province_days.values()  # the days it did not report


UPWARD = """
query($area: String!, $p: Int) {
  upwardReports(area: $area, minPosition: $p) { id level unit kind day recordedAt disasterIds }
}
"""


def test_graphql_lists_the_upward_reports_of_an_area(api: Api) -> None:
    opened = api.initial("county", occurred_at=ago(hours=2).isoformat(),
                         figures={XIANGSHUI: {"affected_population": 40}})
    filed = upward(api, "city", "daily", [opened["id"]], day=datetime.now(BEIJING).date().isoformat())
    listed = api.data(UPWARD, {"area": "32", "p": api.last_position}, "province")["upwardReports"]
    assert [(r["id"], r["level"], r["unit"], r["kind"], r["disasterIds"]) for r in listed] == \
        [(filed["id"], "city", "320900000000", "daily", [opened["id"]])]
    assert listed[0]["day"] == datetime.now(BEIJING).date().isoformat()
