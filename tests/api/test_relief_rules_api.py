"""Relief as the rules say (issue 16), over HTTP and GraphQL with the projections running, on SQLite and
PostgreSQL: postings that cannot be backdated, families, duplicate cards, payments without a card,
floor standards, the 冬春 season's clocks, relief timeliness from the disaster, unambiguous money.

The runtime's clock starts at real time; `later` moves it on (recorded times stay real).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.accounts.service import local_operator
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost
from tests.unit.test_personal import gb11643, luhn_complete

CHINA = ZoneInfo("Asia/Shanghai")
COUNTY, VILLAGE, OTHER_VILLAGE = "320921", "320921100001", "320921100002"
CQ_VILLAGE = "500107001001"  # 九龙坡区 杨家坪街道 西郊二村: 重庆 ≥ 150 元/人
ZHANG, LI, WANG = gb11643("32092119800101123"), gb11643("32092119751212246"), gb11643("32092119900505031")
CHILD = gb11643("32092120100606002")
CARD = luhn_complete("621700001001234567")
PHOTO = {"ref": "sha256:" + "ab" * 32, "type": "image/jpeg", "name": "发放照片.jpg"}


@pytest.fixture
def client(runtime: LedgerRuntime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as c:
        yield c


def today(client: TestClient) -> date:
    return client.app.state.runtime.now().astimezone(CHINA).date()


def later(client: TestClient, days: float = 8) -> None:
    client.app.state.runtime.config.clock.advance(days=days)


def season(client: TestClient) -> str:
    return f"{today(client).year}-{today(client).year + 1}"


def post(client: TestClient, token: str, path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
    return response.json()


def gql(client: TestClient, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


def application(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body = {"programme": "winter_spring", "period": season(client), "village": VILLAGE, "head_name": "张三",
            "id_number": ZHANG, "phone": "13800138000", "card_number": CARD, "household_type": "低保户",
            "household_size": 1, "people_in_need": 1, "address": "响水镇东园居委会 12 号", "causes": ["倒房"],
            "needs": ["口粮"]}
    body.update(overrides)
    return body


def assessed(client: TestClient, tokens: dict[str, str], **overrides: Any) -> str:
    case_id = post(client, tokens["township"], "/v1/relief/cases", application(client, **overrides), 201)["id"]
    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/assessment",
         {"minutes_ref": "村民代表会议记录", "approved": True, "held_on": str(today(client))})
    return case_id


def approved(client: TestClient, tokens: dict[str, str], amount: int = 20_000, **overrides: Any) -> str:
    case_id = assessed(client, tokens, **overrides)
    t = today(client)
    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/posting",
         {"start": str(t), "end": str(t + timedelta(days=6)), "place": "村务公开栏"})
    later(client)
    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/township-review")
    post(client, tokens["county"], f"/v1/relief/cases/{case_id}/approval", {"amount_fen": amount})
    return case_id


# --- 16.1 公示 cannot be backdated ----------------------------------------------------------------


def test_a_backdated_posting_is_refused_or_recorded_with_a_reason_and_still_waits_seven_real_days(
        client: TestClient, tokens: dict[str, str]) -> None:
    t = today(client)
    case_id = post(client, tokens["township"], "/v1/relief/cases",
                   application(client, applied_on=str(t - timedelta(days=12))), 201)["id"]
    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/assessment",
         {"minutes_ref": "村民代表会议记录", "approved": True, "held_on": str(t - timedelta(days=11))})
    backdated = {"start": str(t - timedelta(days=10)), "end": str(t - timedelta(days=4)), "place": "村务公开栏"}
    error = post(client, tokens["township"], f"/v1/relief/cases/{case_id}/posting", backdated, 422)["error"]
    assert error["code"] == "posting_backdated"
    assert [(f["field"], f["code"]) for f in error["fields"]] == [("start", "posting_backdated")]
    before_assessment = {**backdated, "start": str(t - timedelta(days=12)), "reason": "补录"}
    error = post(client, tokens["township"], f"/v1/relief/cases/{case_id}/posting", before_assessment, 422)["error"]
    assert ("start", "before_previous_step") in [(f["field"], f["code"]) for f in error["fields"]]

    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/posting",
         {**backdated, "reason": "纸质公示已张贴，网上系统故障后补录"})
    refused = post(client, tokens["township"], f"/v1/relief/cases/{case_id}/township-review", None, 409)["error"]
    assert refused["code"] == "posting_recorded_too_recently"  # the stated dates have ended; real time has not
    later(client, days=3)
    assert post(client, tokens["township"], f"/v1/relief/cases/{case_id}/township-review", None,
                409)["error"]["code"] == "posting_recorded_too_recently"
    later(client, days=5)
    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/township-review")

    report = client.get("/v1/audit/report", params={"area": COUNTY, "date_from": str(t), "date_to": str(t)},
                        headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
    [row] = report["sections"]["backdated_postings"]
    assert (row["case_id"], row["backdated_days"], row["posting_start"]) == (case_id, 10, backdated["start"])
    assert row["reason"] == "纸质公示已张贴，网上系统故障后补录"


def test_an_objection_is_dated_within_the_posting_and_not_in_the_future(client, tokens) -> None:
    case_id = assessed(client, tokens)
    t = today(client)
    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/posting",
         {"start": str(t), "end": str(t + timedelta(days=6)), "place": "村务公开栏"})
    for raised_on, code in ((t - timedelta(days=1), "outside_posting"), (t + timedelta(days=1), "in_future")):
        error = post(client, tokens["township"], f"/v1/relief/cases/{case_id}/objections",
                     {"summary": "异议", "raised_on": str(raised_on)}, 422)["error"]
        assert [(f["field"], f["code"]) for f in error["fields"]] == [("raised_on", code)]
    answer = post(client, tokens["township"], f"/v1/relief/cases/{case_id}/objections",
                  {"summary": "村民反映收入较高", "raised_on": str(t)})
    objection = answer["created"]["objection_id"]
    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/objections/{objection}/resolution",
         {"resolution": "经核实不成立", "upheld": False})


def test_the_henan_clocks_flag_a_late_township_review_in_overdue_work(client, tokens) -> None:
    case_id = assessed(client, tokens)
    t = today(client)
    post(client, tokens["township"], f"/v1/relief/cases/{case_id}/posting",
         {"start": str(t), "end": str(t + timedelta(days=6)), "place": "村务公开栏"})
    later(client, days=12)  # 6 days after the posting: due, not yet late
    query = "query($p: Int){ overdueWork(minPosition: $p) { counts { kind count } items { kind caseId daysOverdue } } }"
    counts = {c["kind"]: c["count"] for c in gql(client, tokens["county"], query)["overdueWork"]["counts"]}
    assert counts["posting_ended_not_reviewed"] == 1 and counts["township_review_late"] == 0
    later(client, days=5)  # 11 days after the posting ended
    work = gql(client, tokens["county"], query)["overdueWork"]
    [late] = [i for i in work["items"] if i["kind"] == "township_review_late"]
    assert (late["caseId"], late["daysOverdue"]) == (case_id, 0)
    due = str(today(client))
    report = client.get("/v1/audit/report", params={"area": COUNTY, "date_from": due, "date_to": due},
                        headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
    [row] = report["sections"]["relief_late_steps"]
    assert (row["case_id"], row["kind"], row["kind_name"], row["since"]) == (
        case_id, "township_review_late", "乡镇审核超时", due)


# --- 16.2 / 16.3 families, cards, phones --------------------------------------------------------------


MATCHES = """query($p: Int){ householdMatches(minPosition: $p) { kind programme caseA caseB roleA roleB } }"""


def test_a_family_member_in_two_households_and_a_shared_card_are_flagged_not_refused(client, tokens) -> None:
    member = {"name": "王小明", "relation": "子女", "id_number": CHILD, "groups": ["留守儿童"]}
    first = post(client, tokens["township"], "/v1/relief/cases", application(
        client, members=[member], household_size=2, people_in_need=2), 201)
    second = post(client, tokens["township"], "/v1/relief/cases", application(
        client, head_name="李四", id_number=LI, phone="13900139000", members=[{**member, "relation": "孙子女"}],
        card_number=luhn_complete("621700001009999999"),
        household_size=2, people_in_need=2, village=OTHER_VILLAGE), 201)
    third = post(client, tokens["township"], "/v1/relief/cases", application(
        client, head_name="王五", id_number=WANG, phone="13700137000"), 201)  # ZHANG's card
    pairs = gql(client, tokens["county"], MATCHES, p=third["position"])["householdMatches"]
    by_kind = {p["kind"]: p for p in pairs}
    assert set(by_kind) == {"member_in_two_cases", "shared_card"}
    person = by_kind["member_in_two_cases"]
    assert {person["caseA"], person["caseB"]} == {first["id"], second["id"]}
    assert (person["roleA"], person["roleB"]) == ("member", "member")
    assert {by_kind["shared_card"]["caseA"], by_kind["shared_card"]["caseB"]} == {first["id"], third["id"]}

    post(client, tokens["township"], f"/v1/relief/cases/{third['id']}/withdrawal", {"reason": "户主撤回"})
    pairs = gql(client, tokens["county"], MATCHES, p=client.app.state.runtime.position())["householdMatches"]
    assert [p["kind"] for p in pairs] == ["member_in_two_cases"]  # the withdrawn case no longer pairs
    t = today(client)
    report = client.get("/v1/audit/report", params={"area": COUNTY, "date_from": str(t), "date_to": str(t)},
                        headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
    assert [r["kind"] for r in report["sections"]["household_matches"]] == ["member_in_two_cases"]


def test_members_must_add_up_to_the_household_and_each_id_is_checked(client, tokens) -> None:
    member = {"name": "王小明", "relation": "子女", "id_number": CHILD[:-1] + "0"}
    error = post(client, tokens["township"], "/v1/relief/cases", application(
        client, members=[member, {**member, "groups": ["不存在"]}], household_size=2), 422)["error"]
    fields = {(f["field"], f["code"]) for f in error["fields"]}
    assert {("members.0.id_number", "bad_id_number"), ("members.1.groups", "unknown_group"),
            ("household_size", "members_mismatch")} <= fields
    assert CHILD[:-1] not in str(error)


# --- 16.4 no card ----------------------------------------------------------------------------------


SIGNATURES = [{"party": "recipient", "name": "张三", "signed_on": None},
              {"party": "village", "name": "东园居委会 李主任", "signed_on": None},
              {"party": "township", "name": "响水镇 驻村干部 王", "signed_on": None}]


def test_a_household_without_a_card_is_paid_in_cash_with_three_signatures(client, tokens) -> None:
    post(client, tokens["county"], "/v1/relief/funds", {"county": COUNTY, "programme": "winter_spring",
         "period": season(client), "source": "central", "amount_fen": 1_000_000, "document": "苏财社〔2026〕1号"}, 201)
    case_id = approved(client, tokens, card_number="")
    payment = {"amount_fen": 20_000, "batch_id": "现金-01", "bank_ref": "签收单-01"}
    assert post(client, tokens["county"], f"/v1/relief/cases/{case_id}/payments", payment,
                422)["error"]["code"] == "no_card"
    assert post(client, tokens["county"], f"/v1/relief/cases/{case_id}/payments", {**payment, "method": "cash"},
                422)["error"]["code"] == "signatures_required"
    signed = [{**s, "signed_on": str(today(client))} for s in SIGNATURES]
    error = post(client, tokens["county"], f"/v1/relief/cases/{case_id}/payments",
                 {**payment, "method": "cash", "signatures": signed[:2]}, 422)["error"]
    assert ("signatures", "missing_township") in [(f["field"], f["code"]) for f in error["fields"]]
    paid = post(client, tokens["county"], f"/v1/relief/cases/{case_id}/payments",
                {**payment, "method": "cash", "signatures": signed}, 201)
    assert paid["created"]["payment_id"]
    goods = post(client, tokens["county"], f"/v1/relief/cases/{case_id}/goods",
                 {"item": "棉被", "quantity": 1, "value_fen": 8_000, "evidence": [PHOTO], "signatures": signed})
    assert goods["created"]["goods_id"]
    rows = gql(client, tokens["county"], """query($p: Int, $s: String!){ roster(programme: "winter_spring",
        period: $s, minPosition: $p) { edges { node { paymentForm paidFen goodsFen reviewFlags } } } }""",
               p=goods["position"], s=season(client))["roster"]["edges"]
    [node] = [e["node"] for e in rows]
    assert (node["paymentForm"], node["paidFen"], node["goodsFen"]) == ("现金（三方签字）", 20_000, 8_000)
    assert "no_card" in node["reviewFlags"]


def test_goods_carry_evidence_references(client, tokens) -> None:
    case_id = approved(client, tokens)
    for evidence in ([], [{**PHOTO, "ref": "md5:abc"}]):
        post(client, tokens["county"], f"/v1/relief/cases/{case_id}/goods",
             {"item": "棉被", "quantity": 1, "value_fen": 100, "evidence": evidence}, 422)


# --- 16.5 standards -------------------------------------------------------------------------------


def test_a_floor_standard_refuses_less_and_the_approval_records_the_standard(client, runtime, tokens) -> None:
    operator = local_operator()
    runtime.accounts.register(operator, "jlp-town", "township", "500107001")
    runtime.accounts.register(operator, "jlp-county", "county", "500107")
    town, _ = runtime.accounts.issue_token(operator, "jlp-town")
    county, _ = runtime.accounts.issue_token(operator, "jlp-county")
    cq = {"township": town, "county": county}
    case_id = assessed(client, cq, village=CQ_VILLAGE, household_size=3, people_in_need=3,
                       id_number=gb11643("50010719800101123"))
    t = today(client)
    post(client, town, f"/v1/relief/cases/{case_id}/posting",
         {"start": str(t), "end": str(t + timedelta(days=6)), "place": "社区公开栏"})
    later(client)
    post(client, town, f"/v1/relief/cases/{case_id}/township-review")
    error = post(client, county, f"/v1/relief/cases/{case_id}/approval", {"amount_fen": 3 * 15_000 - 1},
                 422)["error"]
    assert (error["code"], error["details"]) == ("below_standard", {"floor_fen": 45_000,
                                                                    "standard": "winter_spring/chongqing/2024"})
    post(client, county, f"/v1/relief/cases/{case_id}/approval", {"amount_fen": 45_000})
    [approval] = [e for e in runtime.app.events.get(UUID(case_id)) if type(e).__name__ == "CountyApproved"]
    assert (approval.floor, approval.standard["id"], approval.rules_version) == (
        45_000, "winter_spring/chongqing/2024", runtime.relief_rules.version)


# --- 16.6 the season's clock ---------------------------------------------------------------------------


DEADLINES = """query($s: String, $p: Int){ winterSpringDeadlines(period: $s, minPosition: $p) {
    rule level area dueOn arrivedAt status daysLate } }"""


def test_the_season_clocks_flag_a_late_survey_and_a_missing_upward_filing(client, tokens) -> None:
    result = post(client, tokens["township"], "/v1/relief/cases", application(client), 201)
    year = int(season(client)[:4])
    flags = {f["rule"]: f for f in gql(client, tokens["county"], DEADLINES, s=season(client),
                                       p=result["position"])["winterSpringDeadlines"]}
    survey, upward = flags["survey_started"], flags["upward_county"]
    assert (survey["area"], survey["dueOn"], upward["dueOn"]) == (COUNTY, f"{year}-09-30", f"{year}-10-15")
    assert survey["status"] == ("late" if today(client) > date(year, 9, 30) else "on_time")
    assert upward["status"] == ("missing" if today(client) > date(year, 10, 15) else "pending")
    assert upward["arrivedAt"] is None  # nothing filed upward (see test_season_filing_api)


def test_a_winter_spring_application_after_the_season_is_refused(client, tokens) -> None:
    year = today(client).year
    error = post(client, tokens["township"], "/v1/relief/cases",
                 application(client, period=f"{year - 1}-{year}"), 422)["error"]
    if today(client) > date(year, 5, 31):
        assert ("applied_on", "season_over") in [(f["field"], f["code"]) for f in error["fields"]]
    one_year = post(client, tokens["township"], "/v1/relief/cases", application(client, period=str(year)), 422)
    assert ("period", "not_a_season") in [(f["field"], f["code"]) for f in one_year["error"]["fields"]]


# --- 16.7 timeliness -------------------------------------------------------------------------------------


TIMELINESS = """query($d: ID, $p: Int){ reliefTimeliness(disasterId: $d, minPosition: $p) {
    households relieved withinTarget shareWithinTarget targetHours breaches { caseId breach hours } } }"""


def test_relief_timeliness_of_a_scripted_disaster(client, tokens) -> None:
    now = datetime.now(CHINA).replace(microsecond=0)
    occurred = now - timedelta(hours=12)
    disaster = post(client, tokens["county"], "/v1/disasters", {
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": occurred.isoformat(),
        "figures": {"320921100": {"affected_population": 300}}}, 201)["id"]
    cases = []
    for n, (name, number, phone) in enumerate((("张三", ZHANG, "13800138000"), ("李四", LI, "13900139000"),
                                                ("王五", WANG, "13700137000"))):
        cases.append(post(client, tokens["township"], "/v1/relief/cases", application(
            client, programme="emergency", head_name=name, id_number=number, phone=phone,
            card_number=luhn_complete(f"62170000100123456{n}"), disaster_id=disaster), 201)["id"])
    for case_id, hours in ((cases[0], 6), (cases[1], 11)):
        post(client, tokens["county"], f"/v1/relief/cases/{case_id}/goods", {
            "item": "饮用水", "quantity": 2, "value_fen": 2_000, "evidence": [PHOTO],
            "delivered_at": (occurred + timedelta(hours=hours)).isoformat()})
    [figure] = gql(client, tokens["county"], TIMELINESS, d=disaster,
                   p=client.app.state.runtime.position())["reliefTimeliness"]
    assert (figure["households"], figure["relieved"], figure["withinTarget"], figure["targetHours"]) == (3, 2, 1, 10)
    assert figure["shareWithinTarget"] == pytest.approx(1 / 3, abs=1e-4)
    assert {(b["caseId"], b["breach"], b["hours"]) for b in figure["breaches"]} == {
        (cases[1], "late", 11.0), (cases[2], "not_yet_relieved", None)}


# --- 16.8 money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["5000.00", 5000.0, "5000"])
def test_a_fen_amount_with_a_decimal_point_or_as_text_is_refused(client, tokens, amount) -> None:
    error = post(client, tokens["county"], "/v1/relief/funds", {
        "county": COUNTY, "programme": "winter_spring", "period": season(client), "source": "central",
        "amount_fen": amount, "document": "苏财社〔2026〕9号"}, 422)["error"]
    assert [f["field"] for f in error["fields"]] == ["amount_fen"]
    assert "fen" in error["fields"][0]["message"]


def test_a_village_where_every_household_got_the_same_amount_is_flagged(client, tokens) -> None:
    heads = [gb11643(f"32092119600101{n:03d}") for n in range(5)]
    period = season(client)  # the clock moves on past new year while the cases go through
    for n, head in enumerate(heads[:4]):
        approved(client, tokens, amount=20_000, id_number=head, head_name=f"户主{n}", phone=f"1380000{n:04d}",
                 card_number=luhn_complete(f"62170000100900000{n}"), period=period)
    query = "query($p: Int){ equalAmounts(minPosition: $p) { village households amountFen } }"
    assert gql(client, tokens["county"], query, p=client.app.state.runtime.position())["equalAmounts"] == []
    approved(client, tokens, amount=20_000, id_number=heads[4], head_name="户主4", phone="13800000004",
             card_number=luhn_complete("621700001009000004"), period=period)
    [flag] = gql(client, tokens["county"], query, p=client.app.state.runtime.position())["equalAmounts"]
    assert (flag["village"], flag["households"], flag["amountFen"]) == (VILLAGE, 5, 20_000)  # 不得平均分配


def test_a_retried_payment_answers_the_same_created_ids(client, tokens) -> None:
    post(client, tokens["county"], "/v1/relief/funds", {"county": COUNTY, "programme": "winter_spring",
         "period": season(client), "source": "central", "amount_fen": 1_000_000, "document": "苏财社〔2026〕7号"}, 201)
    case_id = approved(client, tokens)
    headers = {"Authorization": f"Bearer {tokens['county']}", "Idempotency-Key": "pay-once-7"}
    body = {"amount_fen": 20_000, "batch_id": "2026-12", "bank_ref": "NX1"}
    first = client.post(f"/v1/relief/cases/{case_id}/payments", json=body, headers=headers)
    again = client.post(f"/v1/relief/cases/{case_id}/payments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["created"] == again.json()["created"] and first.json()["created"]["payment_id"]
