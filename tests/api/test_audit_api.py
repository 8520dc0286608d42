"""Audit through REST (`/v1/audit/{id}/as-known-at`, `/v1/audit/{id}/diff`), GraphQL (`asKnownAt`, `diff`)
and the command line (`relief-ledger audit show`).

The story is the flood of tests/unit/test_audit.py, recorded on a clock the
test sets (`clock`): 初报 08:00 on 2025-07-08 … 续报 13:30 on the second day,
— 14:00 — 续报 21:00, 勘误 next morning; and a household's relief case and
its county's fund. GraphQL is served by the root query merged with
`api.graphql.audit.AuditQuery` (as `api.graphql.schema` merges it) on an app
without a projection host: the audit fields replay the event store. REST
and GraphQL must give the same answers, except that GraphQL masks personal
data for every role. Every test but the CLI's runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient

from api.app import create_app
from api.presenters import EXACT
from ledger.personal.identifiers import mask_card, mask_id, mask_phone
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from tests.api.graphql_fixtures import Api
from tests.unit.test_audit import (  # noqa: F401 — clock and officers are fixtures
    CARD,
    CHENJIAGANG,
    CORRECTION_REASON,
    EXPLAIN_CJG,
    EXPLAIN_V4,
    EXPLAIN_V5,
    ID_NUMBER,
    OTHER_COUNTY,
    PHONE,
    XIANGSHUI,
    Clock,
    Flood,
    Household,
    bj,
    clock,
    file_flood,
    file_household,
    officers,
)

T = "2025-07-09T14:00:00"  # 14:00 on the second day, Beijing time (no offset)


@pytest.fixture
def client(runtime: LedgerRuntime, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app without a projection host, serving the merged schema."""
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api(client: TestClient, runtime: LedgerRuntime, tokens: dict[str, str]) -> Api:
    return Api(client, runtime, dict(tokens))


@pytest.fixture
def flood(runtime: LedgerRuntime, officers: dict[str, Actor], clock: Clock) -> Flood:  # noqa: F811
    return file_flood(runtime, officers, clock)


@pytest.fixture
def household(runtime: LedgerRuntime, officers: dict[str, Actor], clock: Clock) -> Household:  # noqa: F811
    return file_household(runtime, officers, clock)


def rest(api: Api, role: str | None, path: str, status: int = 200, **params: Any) -> dict[str, Any]:
    response = api.client.get(path, params=params, headers=api.headers(role))
    assert response.status_code == status, response.text
    return response.json()


def known_at(api: Api, role: str | None, aggregate_id: Any, at: str = T, status: int = 200) -> dict[str, Any]:
    return rest(api, role, f"/v1/audit/{aggregate_id}/as-known-at", status, at=at)


def diff(api: Api, role: str | None, aggregate_id: Any, status: int = 200, **params: Any) -> dict[str, Any]:
    return rest(api, role, f"/v1/audit/{aggregate_id}/diff", status, **params)


def time_of(value: str) -> datetime:
    return datetime.fromisoformat(value)


def service_state(runtime: LedgerRuntime, actor: Actor, aggregate_id: Any, at: datetime) -> dict[str, Any]:
    return jsonable_encoder(runtime.audit.as_known_at(actor, UUID(str(aggregate_id)), at).state, custom_encoder=EXACT)


AS_KNOWN_AT = """
query($id: ID!, $at: DateTime!) {
  asKnownAt(id: $id, at: $at) {
    id at version state fields { field value }
    recordedAfter { version type recordedAt actor unit occurredAt }
  }
}
"""

DIFF = """
query($id: ID!, $fromVersion: Int, $toVersion: Int, $fromTime: DateTime, $toTime: DateTime) {
  diff(id: $id, fromVersion: $fromVersion, toVersion: $toVersion, fromTime: $fromTime, toTime: $toTime) {
    field old new oldValue newValue version event actor unit recordedAt reason
  }
}
"""


# --- REST: as known at ------------------------------------------------------------------------------------


def test_rest_what_the_county_had_reported_at_14_00_on_the_second_day(
        api: Api, runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:  # noqa: F811
    body = known_at(api, "county", flood.id)
    assert body["id"] == str(flood.id)
    assert time_of(body["as_known_at"]) == flood.at
    assert body["version"] == 4
    assert body["state"] == service_state(runtime, officers["county"], flood.id, flood.at)
    state = body["state"]
    assert state["figures.320921100.affected_population"] == "1500"
    assert state["figures.320921100.direct_loss_10k_yuan"] == "600.50"
    assert state["figures.320921101.affected_population"] == "300"
    assert (state["stage"], state["text"], state["report_reviews.1"]) == ("follow_up", "响水镇暴雨内涝", "accepted")

    later = body["recorded_after"]
    assert [(e["version"], e["type"]) for e in later] == [(5, "FollowUpReportFiled"), (6, "Corrected")]
    assert [time_of(e["recorded_at"]) for e in later] == [flood.recorded[5], flood.recorded[6]]
    assert [e["actor"]["username"] for e in later] == ["test-county", "test-city"]
    assert [e["unit"] for e in later] == ["320921000000", "320900000000"]
    assert time_of(later[0]["occurred_at"]) == bj(9, 20) and later[1]["occurred_at"] is None
    assert later[0]["payload"]["explanation"] == EXPLAIN_V5
    assert later[0]["payload"]["figures"] == {XIANGSHUI: {"affected_population": "5000"}}
    assert later[1]["payload"]["reason"] == CORRECTION_REASON

    # the same moment with an explicit offset, and in UTC
    assert known_at(api, "county", flood.id, at="2025-07-09T14:00:00+08:00") == body
    assert known_at(api, "county", flood.id, at="2025-07-09T06:00:00Z")["version"] == 4


def test_rest_before_the_first_event_and_after_the_last(api: Api, flood: Flood) -> None:
    before = known_at(api, "auditor", flood.id, at="2025-07-08T07:59:59")
    assert (before["version"], before["state"]) == (0, {})
    assert [e["version"] for e in before["recorded_after"]] == [1, 2, 3, 4, 5, 6]
    assert before["recorded_after"][0]["type"] == "InitialReportFiled"
    after = known_at(api, "auditor", flood.id, at="2030-01-01T00:00:00")
    assert after["version"] == 6 and after["recorded_after"] == []
    assert after["state"]["figures.320921100.affected_population"] == "5000"


# --- REST: diff -------------------------------------------------------------------------------------------


def test_rest_diff_between_versions_and_between_times(
        api: Api, runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:  # noqa: F811
    by_version = diff(api, "auditor", flood.id, from_version=3, to_version=5)
    assert (by_version["from_version"], by_version["to_version"]) == (3, 5)
    changes = by_version["changes"]
    assert changes == jsonable_encoder([vars(c) for c in runtime.audit.diff(officers["auditor"], flood.id, 3, 5)],
                                       custom_encoder=EXACT)
    people = [c for c in changes if c["field"] == "figures.320921100.affected_population"]
    assert [(c["old"], c["new"], c["version"], c["reason"]) for c in people] == [
        ("1200", "1500", 4, EXPLAIN_V4), ("1500", "5000", 5, EXPLAIN_V5)]
    assert {(c["event"], c["actor"], c["unit"]) for c in people} == {
        ("FollowUpReportFiled", "test-county", "320921000000")}
    assert [time_of(c["recorded_at"]) for c in people] == [flood.recorded[4], flood.recorded[5]]
    assert set(changes[0]) == {"field", "old", "new", "version", "event", "actor", "unit", "recorded_at", "reason"}

    backwards = api.client.get(f"/v1/audit/{flood.id}/diff", params={"from_version": 3, "to_version": 1},
                               headers=api.headers("auditor"))
    assert backwards.status_code == 422 and backwards.json()["error"]["fields"][0]["field"] == "from_version"

    by_time = diff(api, "auditor", flood.id, from_time="2025-07-08T12:00:00", to_time=T)
    assert (by_time["from_version"], by_time["to_version"]) == (2, 4)
    assert by_time["changes"] == diff(api, "auditor", flood.id, from_version=2, to_version=4)["changes"]
    cjg = next(c for c in by_time["changes"] if c["field"] == "figures.320921101.affected_population")
    assert (cjg["old"], cjg["new"], cjg["reason"]) == (None, "300", EXPLAIN_CJG)

    [text] = diff(api, "auditor", flood.id, from_time=T)["changes"][-1:]  # to the latest: the 勘误 last
    assert (text["field"], text["old"], text["new"]) == ("text", "响水镇暴雨内涝", "响水镇、陈家港镇暴雨内涝")
    assert (text["event"], text["reason"], text["actor"], text["unit"]) == (
        "Corrected", CORRECTION_REASON, "test-city", "320900000000")

    missing = diff(api, "auditor", flood.id, status=422)
    assert missing["error"]["code"] == "invalid"
    assert [f["field"] for f in missing["error"]["fields"]] == ["from_version"]


# --- REST: scope ------------------------------------------------------------------------------------------


def test_rest_scope(api: Api, runtime: LedgerRuntime, flood: Flood) -> None:
    assert known_at(api, "auditor", flood.id)["version"] == 4  # auditor 3209 reads a 320921 process
    api.add_account("county-320922", "county", OTHER_COUNTY)
    refused = known_at(api, "county-320922", flood.id, status=403)
    assert refused["error"]["code"] == "forbidden"
    assert diff(api, "county-320922", flood.id, status=403, from_version=0)["error"]["code"] == "forbidden"
    assert known_at(api, None, flood.id, status=401)["error"]["code"] == "unauthenticated"
    assert known_at(api, "auditor", uuid4(), status=404)["error"]["code"] == "not_found"
    assert diff(api, "admin", uuid4(), status=404, from_version=0)["error"]["code"] == "not_found"


def test_rest_a_township_sees_only_its_townships_figures(api: Api, flood: Flood) -> None:
    api.add_account("town-320921101", "township", CHENJIAGANG)
    mine = known_at(api, "township", flood.id)["state"]
    assert mine["figures.320921100.affected_population"] == "1500"
    assert not any(k.startswith("figures.320921101") for k in mine)
    theirs = known_at(api, "town-320921101", flood.id)
    assert theirs["state"]["figures.320921101.affected_population"] == "300"
    assert not any(k.startswith("figures.320921100") for k in theirs["state"])
    assert theirs["recorded_after"][0]["payload"]["figures"] == {}  # 响水镇's 续报, hidden from 陈家港镇
    changes = diff(api, "town-320921101", flood.id, from_version=0)["changes"]
    assert not any(c["field"].startswith("figures.320921100") for c in changes)
    assert any(c["field"] == "figures.320921101.affected_population" for c in changes)


# --- REST: relief cases, funds, accounts ------------------------------------------------------------------------


def test_rest_relief_case_masked_for_an_auditor_and_for_the_county(api: Api, household: Household) -> None:
    at = household.at.isoformat()
    audited = known_at(api, "auditor", household.case_id, at=at)
    assert audited["version"] == 2
    assert (audited["state"]["id_number"], audited["state"]["phone"], audited["state"]["card_number"]) == (
        mask_id(ID_NUMBER), mask_phone(PHONE), mask_card(CARD))
    county = known_at(api, "county", household.case_id, at=at)
    assert (county["state"]["id_number"], county["state"]["phone"], county["state"]["card_number"]) == (
        mask_id(ID_NUMBER), mask_phone(PHONE), mask_card(CARD))
    assert "id_hash" not in audited["state"] and "id_hash" not in county["state"]
    assert [e["type"] for e in audited["recorded_after"]] == ["Posted", "TownshipReviewed", "CountyApproved"]
    approved = diff(api, "auditor", household.case_id, from_version=4)["changes"]
    assert {c["reason"] for c in approved} == {"重点救助: 因灾倒房户"}
    assert {c["field"]: c["new"] for c in approved}["approved_amount"] == 150_000


def test_rest_fund_and_account(api: Api, officers: dict[str, Actor], household: Household) -> None:  # noqa: F811
    fund = known_at(api, "auditor", household.fund_id, at=household.at.isoformat())
    assert fund["version"] == 3 and fund["state"]["allocated.provincial"] == 200_000
    assert [e["type"] for e in fund["recorded_after"]] == ["GivenBack"]
    assert fund["recorded_after"][0]["payload"]["reason"] == "结余收回"
    account = officers["township"].account_id
    mine = known_at(api, "auditor", account, at="2030-01-01T00:00:00")
    assert mine["state"]["username"] == "test-township" and mine["state"]["role"] == "township"
    assert not any("hash" in k for k in mine["state"])
    assert known_at(api, "county", account, at="2030-01-01T00:00:00", status=403)["error"]["code"] == "forbidden"


SECRETS = (ID_NUMBER, PHONE, CARD)


def test_rest_events_recorded_after_do_not_carry_clear_personal_data(api: Api, household: Household) -> None:
    body = known_at(api, "auditor", household.case_id, at="2025-01-01T00:00:00")
    assert body["recorded_after"][0]["type"] == "Applied"
    text = str(body["recorded_after"])
    assert not [s for s in SECRETS if s in text]
    assert "id_hash" not in text


def test_rest_events_recorded_after_do_not_carry_token_hashes(
        api: Api, officers: dict[str, Actor]) -> None:  # noqa: F811
    body = known_at(api, "auditor", officers["township"].account_id, at="2000-01-01T00:00:00")
    assert [e["type"] for e in body["recorded_after"]] == ["Registered", "TokenIssued"]
    assert "token_hash" not in body["recorded_after"][1]["payload"]


def test_rest_the_audit_gives_no_unrecorded_clear_read_of_personal_data(
        api: Api, runtime: LedgerRuntime, household: Household) -> None:
    body = known_at(api, "county", household.case_id, at=household.at.isoformat())
    assert body["state"]["id_number"] == mask_id(ID_NUMBER)
    assert not [s for s in SECRETS if s in str(body)]
    viewed = [n for n in runtime.app.recorder.select_notifications(start=1, limit=10_000) if "Viewed" in n.topic]
    assert not viewed  # nothing clear was shown, so nothing to record


# --- GraphQL: the same answers --------------------------------------------------------------------------------


def gql_known_at(api: Api, role: str, aggregate_id: Any, at: str) -> dict[str, Any]:
    return api.data(AS_KNOWN_AT, {"id": str(aggregate_id), "at": at}, role=role)["asKnownAt"]


def assert_same_known_at(api: Api, role: str, aggregate_id: Any, at: str) -> dict[str, Any]:
    answer = gql_known_at(api, role, aggregate_id, at)
    body = known_at(api, role, aggregate_id, at=at)
    assert answer["id"] == body["id"]
    assert time_of(answer["at"]) == time_of(body["as_known_at"])
    assert answer["version"] == body["version"]
    assert answer["state"] == body["state"]
    assert [f["field"] for f in answer["fields"]] == list(body["state"])
    for f in answer["fields"]:
        value = body["state"][f["field"]]
        text = value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                                                 sort_keys=True)
        assert f["value"] == text, f
    assert [(e["version"], e["type"], time_of(e["recordedAt"]), e["actor"], e["unit"],
             time_of(e["occurredAt"]) if e["occurredAt"] else None) for e in answer["recordedAfter"]] == [
        (e["version"], e["type"], time_of(e["recorded_at"]), e["actor"]["username"], e["unit"],
         time_of(e["occurred_at"]) if e["occurred_at"] else None) for e in body["recorded_after"]]
    return answer


def assert_same_diff(api: Api, role: str, aggregate_id: Any, **params: Any) -> list[dict[str, Any]]:
    names = {"from_version": "fromVersion", "to_version": "toVersion", "from_time": "fromTime", "to_time": "toTime"}
    answer = api.data(DIFF, {"id": str(aggregate_id), **{names[k]: v for k, v in params.items()}}, role=role)["diff"]
    body = diff(api, role, aggregate_id, **params)["changes"]
    assert [(c["field"], c["oldValue"], c["newValue"], c["version"], c["event"], c["actor"], c["unit"],
             time_of(c["recordedAt"]), c["reason"]) for c in answer] == [
        (c["field"], c["old"], c["new"], c["version"], c["event"], c["actor"], c["unit"],
         time_of(c["recorded_at"]), c["reason"]) for c in body]
    return answer


def test_graphql_gives_the_same_answers_as_rest(
        api: Api, officers: dict[str, Actor], flood: Flood, household: Household) -> None:  # noqa: F811
    for role in ("county", "auditor", "township", "city"):
        for at in (T, "2025-07-08T07:00:00", "2025-07-08T19:00:00+08:00", "2030-01-01T00:00:00Z"):
            assert_same_known_at(api, role, flood.id, at)
        assert_same_diff(api, role, flood.id, from_version=0)
        assert_same_diff(api, role, flood.id, from_version=3, to_version=5)
        assert_same_diff(api, role, flood.id, from_time="2025-07-08T12:00:00", to_time=T)
    for aggregate_id in (household.case_id, household.fund_id, officers["township"].account_id):
        assert_same_known_at(api, "auditor", aggregate_id, household.at.isoformat())
        assert_same_known_at(api, "auditor", aggregate_id, "2030-01-01T00:00:00")
        assert_same_diff(api, "auditor", aggregate_id, from_version=0)


def test_graphql_answers_the_issue_question(api: Api, flood: Flood) -> None:
    answer = gql_known_at(api, "county", flood.id, T)
    assert answer["version"] == 4
    fields = {f["field"]: f["value"] for f in answer["fields"]}
    assert fields["figures.320921100.affected_population"] == "1500"
    assert fields["figures.320921101.affected_population"] == "300"
    assert fields["text"] == "响水镇暴雨内涝"
    assert [(e["version"], e["type"], e["actor"], e["unit"]) for e in answer["recordedAfter"]] == [
        (5, "FollowUpReportFiled", "test-county", "320921000000"), (6, "Corrected", "test-city", "320900000000")]
    assert time_of(answer["recordedAfter"][0]["recordedAt"]) == flood.recorded[5]
    assert time_of(answer["recordedAfter"][0]["occurredAt"]) == bj(9, 20)

    changes = api.data(DIFF, {"id": str(flood.id), "fromTime": T}, role="auditor")["diff"]
    text = changes[-1]
    assert (text["field"], text["old"], text["new"], text["event"], text["reason"], text["actor"]) == (
        "text", "响水镇暴雨内涝", "响水镇、陈家港镇暴雨内涝", "Corrected", CORRECTION_REASON, "test-city")
    jump = next(c for c in changes if c["field"] == "figures.320921100.affected_population")
    assert (jump["old"], jump["new"], jump["version"], jump["reason"]) == ("1500", "5000", 5, EXPLAIN_V5)
    assert time_of(jump["recordedAt"]) == flood.recorded[5]
    # non-string values render as JSON text; the raw values travel in oldValue / newValue
    before = api.data(DIFF, {"id": str(flood.id), "fromVersion": 0, "toVersion": 1}, role="auditor")["diff"]
    assert all(c["old"] is None and c["oldValue"] is None for c in before)


def test_graphql_masks_personal_data_for_every_role(api: Api, household: Household) -> None:
    """Audit reads are always masked, in GraphQL as in REST."""
    at = household.at.isoformat()
    masked = (mask_id(ID_NUMBER), mask_phone(PHONE), mask_card(CARD))
    for role in ("county", "relief_officer", "auditor", "township"):
        state = gql_known_at(api, role, household.case_id, at)["state"]
        assert (state["id_number"], state["phone"], state["card_number"]) == masked, role
        changes = api.data(DIFF, {"id": str(household.case_id), "fromVersion": 0}, role=role)["diff"]
        shown = {str(v) for c in changes for v in (c["old"], c["new"], c["oldValue"], c["newValue"])}
        assert not set(SECRETS) & shown and mask_id(ID_NUMBER) in shown, role
    assert known_at(api, "county", household.case_id, at=at)["state"]["id_number"] == mask_id(ID_NUMBER)


def test_graphql_errors_carry_codes(api: Api, flood: Flood) -> None:
    api.add_account("county-320922", "county", OTHER_COUNTY)
    cases = [
        (AS_KNOWN_AT, {"id": str(flood.id), "at": T}, "county-320922", "forbidden"),
        (DIFF, {"id": str(flood.id), "fromVersion": 0}, "county-320922", "forbidden"),
        (AS_KNOWN_AT, {"id": str(flood.id), "at": T}, None, "unauthenticated"),
        (AS_KNOWN_AT, {"id": str(uuid4()), "at": T}, "auditor", "not_found"),
        (DIFF, {"id": str(uuid4()), "fromVersion": 0}, "admin", "not_found"),
        (AS_KNOWN_AT, {"id": "not-a-uuid", "at": T}, "auditor", "invalid"),
        (DIFF, {"id": str(flood.id)}, "auditor", "invalid"),
        (DIFF, {"id": str(flood.id), "fromVersion": -1}, "auditor", "invalid"),
        (DIFF, {"id": str(flood.id), "fromVersion": 0, "toVersion": 0}, "auditor", "invalid"),
    ]
    for query, variables, role, code in cases:
        error = api.error(query, variables, role=role)
        assert error["extensions"]["code"] == code, (variables, role, error)
        assert " / " in error["message"]  # Chinese / English
    missing = api.error(DIFF, {"id": str(flood.id)}, role="auditor")
    assert [f["field"] for f in missing["extensions"]["fields"]] == ["fromVersion"]


def test_graphql_scope_township(api: Api, flood: Flood) -> None:
    answer = gql_known_at(api, "township", flood.id, T)
    assert answer["state"]["figures.320921100.affected_population"] == "1500"
    assert not any(k.startswith("figures.320921101") for k in answer["state"])
    assert gql_known_at(api, "auditor", flood.id, T)["state"]["figures.320921101.affected_population"] == "300"


# --- the command line ---------------------------------------------------------------------------------------


def test_the_command_line_shows_the_state_as_known_at_a_moment(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:  # noqa: F811
    """(SQLite: the CLI opens the store from its settings and reads as the local operator.)"""
    from typer.testing import CliRunner

    from api.cli.audit import audit_cli
    from api.settings import Settings
    from ledger.accounts.service import local_operator

    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RELIEF_DEMO", "false")
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("RELIEF_DATABASE_URL", "RELIEF_CIPHER_KEY", "RELIEF_TOKEN_PEPPER", "RELIEF_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    with LedgerRuntime(Settings().ledger_config()) as runtime:
        people = {}
        for role, scope in (("township", XIANGSHUI), ("county", "320921"), ("city", "3209"),
                            ("relief_officer", "320921")):
            runtime.accounts.register(local_operator(), f"test-{role}", role, scope)
            token, _ = runtime.accounts.issue_token(local_operator(), f"test-{role}")
            people[role] = runtime.accounts.authenticate(token)
        flood = file_flood(runtime, people, clock)
        household = file_household(runtime, people, clock)
    runner = CliRunner()

    shown = runner.invoke(audit_cli, ["show", str(flood.id), "--as-known-at", T, "--diff-from", "3"])
    assert shown.exit_code == 0, shown.output
    out = shown.output
    lines = out.splitlines()

    def row(field: str, value: str) -> bool:
        return any(re.search(rf"\b{re.escape(field)}\s.*\s{re.escape(value)}\s", line) for line in lines)

    assert f"{flood.id} as known at 2025-07-09T14:00:00+08:00: version 4" in out
    assert row("figures.320921100.affected_population", "1500")
    assert row("figures.320921100.direct_loss_10k_yuan", "600.50")
    assert row("figures.320921101.affected_population", "300")
    assert row("text", "响水镇暴雨内涝") and row("stage", "follow_up")
    assert "recorded after 2025-07-09T14:00:00+08:00: 2 events" in out
    assert any("5" in line and "FollowUpReportFiled" in line and "2025-07-09T21:00:00+08:00" in line
               and "test-county (320921000000)" in line for line in lines)
    assert any("Corrected" in line and "test-city (320900000000)" in line for line in lines)
    assert "changes after version 3:" in out
    assert "v4 FollowUpReportFiled  2025-07-09T13:30:00+08:00  by test-county (320921000000)" in out
    assert f"reason: {EXPLAIN_V4}" in out and f"reason: {CORRECTION_REASON}" in out
    assert "figures.320921100.affected_population: 1200 → 1500" in out
    assert "figures.320921100.affected_population: 1500 → 5000" in out
    assert "text: 响水镇暴雨内涝 → 响水镇、陈家港镇暴雨内涝" in out
    assert "report_reviews.3: — → submitted" in out

    without_diff = runner.invoke(audit_cli, ["show", str(flood.id), "--as-known-at", "2025-07-09T06:00:00Z"])
    assert without_diff.exit_code == 0 and "version 4" in without_diff.output
    assert "changes after" not in without_diff.output
    before = runner.invoke(audit_cli, ["show", str(flood.id), "--as-known-at", "2025-07-01T00:00"])
    assert before.exit_code == 0 and "version 0" in before.output
    assert "nothing had been recorded yet" in before.output and "6 events" in before.output

    case = runner.invoke(audit_cli, ["show", str(household.case_id), "--as-known-at", household.at.isoformat()])
    assert case.exit_code == 0, case.output
    assert mask_id(ID_NUMBER) in case.output and mask_card(CARD) in case.output  # the operator is an admin: masked
    assert not [s for s in SECRETS if s in case.output]

    unknown = runner.invoke(audit_cli, ["show", str(uuid4()), "--as-known-at", T])
    assert unknown.exit_code == 1 and "not found" in unknown.output
    assert runner.invoke(audit_cli, ["show", "nope", "--as-known-at", T]).exit_code == 2
    assert runner.invoke(audit_cli, ["show", str(flood.id), "--as-known-at", "yesterday"]).exit_code == 2
    assert runner.invoke(audit_cli, ["show", str(flood.id), "--as-known-at", T, "--diff-from", "-1"]).exit_code == 2
    assert runner.invoke(audit_cli, ["show", str(flood.id)]).exit_code == 2  # --as-known-at is required
