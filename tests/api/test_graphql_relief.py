"""GraphQL reads of relief (`api.graphql.relief.ReliefQuery`) through /graphql, as the accounts use them.

The app serves its one schema (`api.graphql.schema`, every concept's queries merged with the `Fen`
scalar map), so the requests go through the real router, bearer tokens and projection host. The relief story is told through `runtime.relief`
(tests/projections/test_relief_projections.py); each read passes the log's
head as `minPosition`. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.graphql.schema import schema
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from projections.runner import ProjectionHost
from tests.projections.test_relief_projections import (
    CHENGDONG,
    CHENJIAGANG,
    COUNTY,
    DONGYUAN,
    PERIOD,
    WS,
    XIANGSHUI,
    Story,
    tell_story,
)


@pytest.fixture
def client(runtime: LedgerRuntime, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app with its projections running, serving the merged schema."""
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def officers(runtime: LedgerRuntime, tokens: dict[str, str]) -> dict[str, Actor]:
    return {role: runtime.accounts.authenticate(token) for role, token in tokens.items()}


@pytest.fixture
def story(runtime: LedgerRuntime, officers: dict[str, Actor]) -> Story:
    return tell_story(runtime, officers)


def ask(client: TestClient, tokens: dict[str, str], role: str | None, query: str, **variables: Any
        ) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def data(client: TestClient, tokens: dict[str, str], role: str, query: str, **variables: Any) -> dict[str, Any]:
    body = ask(client, tokens, role, query, **variables)
    assert not body.get("errors"), body["errors"]
    return body["data"]


def error_code(client: TestClient, tokens: dict[str, str], role: str | None, query: str, **variables: Any) -> str:
    body = ask(client, tokens, role, query, **variables)
    [error] = body["errors"]
    return str(error["extensions"]["code"])


ROSTER = """
query($programme: String!, $period: String!, $area: String, $first: Int, $after: String, $p: Int) {
  roster(programme: $programme, period: $period, area: $area, first: $first, after: $after, minPosition: $p) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      caseId programme period county township village villageName headName idNumber phone householdType
      householdSize address peopleInNeed paidFen goodsFen paymentForm cardNumber masked stage approvedFen
      returnedFen paymentCount returnedCount reviewFlags postingStart postingEnd openObjections appliedOn updatedAt
    } }
  }
}
"""
FUNDS = """
query($area: String, $programme: String, $period: String, $p: Int) {
  funds(area: $area, programme: $programme, period: $period, minPosition: $p) {
    fundId county countyName programme period allocatedCentralFen allocatedProvincialFen allocatedCityFen
    allocatedCountyFen allocatedFen givenBackFen paidFen returnedFen balanceFen documents version updatedAt
  }
}
"""
FIGURES = "needHouseholds needPeople aidedHouseholds aidedPeople paidFen goodsFen"
STATISTICS = f"""
query($area: String, $period: String!, $p: Int) {{
  winterSpringStatistics(area: $area, period: $period, minPosition: $p) {{
    area areaName period springFestival
    totals {{ {FIGURES} }}
    breakdown {{ code name figures {{ {FIGURES} }} }}
  }}
}}
"""
OVERDUE = """
query($area: String, $kinds: [String!], $first: Int, $p: Int) {
  overdueWork(area: $area, kinds: $kinds, first: $first, minPosition: $p) {
    today
    counts { kind count }
    items { kind caseId village villageName headName stage approvedFen paidFen returnedFen postingEnd
            openObjections since due daysOverdue }
  }
}
"""


def test_the_roster_pages_with_personal_data_masked(client: TestClient, runtime: LedgerRuntime,
                                                   tokens: dict[str, str], story: Story) -> None:
    head = runtime.position()
    seen, after, pages = [], None, []
    while True:
        page = data(client, tokens, "county", ROSTER, programme=WS, period=PERIOD, area=COUNTY, first=3,
                    after=after, p=head)["roster"]
        pages.append(page)
        seen += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [len(p["edges"]) for p in pages] == [3, 3, 1] and pages[0]["totalCount"] == 7
    ids = [e["cursor"] for e in seen]
    assert ids == sorted(ids) == sorted(story[x].case_id for x in "ABCDEFG")
    assert [e["node"]["caseId"] for e in seen] == ids

    text = json.dumps(pages, ensure_ascii=False)
    for secret in story.secrets:
        assert secret not in text
    node = next(e["node"] for e in seen if e["cursor"] == story["B"].case_id)
    h = story["B"]
    assert node["idNumber"] == h.id_number[:6] + "********" + h.id_number[-4:]
    assert node["phone"] == h.phone[:3] + "****" + h.phone[-4:] and node["cardNumber"].endswith(h.card[-4:])
    assert node["masked"] is True
    assert {k: node[k] for k in ("headName", "householdSize", "peopleInNeed", "paidFen", "goodsFen", "paymentForm",
                                 "stage", "approvedFen", "returnedFen", "reviewFlags", "village", "villageName")} == {
        "headName": "李四", "householdSize": 5, "peopleInNeed": 4, "paidFen": 0, "goodsFen": 0,
        "paymentForm": "一卡通", "stage": "approved", "approvedFen": 150_000, "returnedFen": 40_000,
        "reviewFlags": ["above_cap"], "village": CHENGDONG, "villageName": "城东居委会",
    }
    assert node["postingEnd"] == (story.started + timedelta(days=5)).isoformat()


def test_the_roster_keeps_to_the_callers_scope(client: TestClient, runtime: LedgerRuntime, tokens: dict[str, str],
                                               story: Story) -> None:
    head = runtime.position()

    def villages(role: str, area: str | None = None) -> list[str]:
        page = data(client, tokens, role, ROSTER, programme=WS, period=PERIOD, area=area, first=50, p=head)["roster"]
        assert page["totalCount"] == len(page["edges"])
        return sorted(e["node"]["village"] for e in page["edges"])

    assert villages("township") == sorted([DONGYUAN, CHENGDONG, DONGYUAN, CHENGDONG, DONGYUAN])  # 响水镇 only
    # A wider area is refused: the roster has no narrowedFrom to say it would be cut to the township.
    assert error_code(client, tokens, "township", ROSTER, programme=WS, period=PERIOD, area=COUNTY) == "forbidden"
    assert villages("county", CHENJIAGANG) == ["320921101001", "320921101001"]
    assert len(villages("city")) == len(villages("auditor")) == len(villages("relief_officer", COUNTY)) == 7
    assert villages("county", DONGYUAN) == [DONGYUAN] * 3

    assert error_code(client, tokens, "township", ROSTER, programme=WS, period=PERIOD, area=CHENJIAGANG) == "forbidden"
    assert error_code(client, tokens, "county", ROSTER, programme=WS, period=PERIOD, area="3602") == "forbidden"
    assert error_code(client, tokens, None, ROSTER, programme=WS, period=PERIOD) == "unauthenticated"
    assert error_code(client, tokens, "county", ROSTER, programme="winter", period=PERIOD) == "invalid"
    assert error_code(client, tokens, "county", ROSTER, programme=WS, period="2025-2027") == "invalid"
    assert error_code(client, tokens, "county", ROSTER, programme=WS, period=PERIOD, after="not-a-case") == "invalid"
    emergency = data(client, tokens, "county", ROSTER, programme="emergency", period=PERIOD, p=head)["roster"]
    assert [e["node"]["reviewFlags"] for e in emergency["edges"]] == [["also_in:winter_spring"]]


def test_fund_balances(client: TestClient, runtime: LedgerRuntime, tokens: dict[str, str], story: Story) -> None:
    head = runtime.position()
    [fund] = data(client, tokens, "relief_officer", FUNDS, programme=WS, p=head)["funds"]
    assert fund["fundId"] == story.fund and fund["countyName"] == "响水县"
    assert {k: v for k, v in fund.items() if k.endswith("Fen")} == {
        "allocatedCentralFen": 500_000, "allocatedProvincialFen": 200_000, "allocatedCityFen": 100_000,
        "allocatedCountyFen": 50_000, "allocatedFen": 850_000, "givenBackFen": 10_000, "paidFen": 200_000,
        "returnedFen": 90_000, "balanceFen": 730_000,
    }
    everything = data(client, tokens, "township", FUNDS, p=head)["funds"]  # a township sees its county's funds
    assert [(f["programme"], f["balanceFen"]) for f in everything] == [("emergency", 3_000_000_000), (WS, 730_000)]
    assert data(client, tokens, "auditor", FUNDS, area="3209", period="2026", p=head)["funds"] == []
    assert error_code(client, tokens, "county", FUNDS, programme="nope") == "invalid"


def test_winter_spring_statistics_and_overdue_work(client: TestClient, runtime: LedgerRuntime,
                                                   tokens: dict[str, str], story: Story) -> None:
    head = runtime.position()
    stats = data(client, tokens, "city", STATISTICS, area=COUNTY, period=PERIOD, p=head)["winterSpringStatistics"]
    assert (stats["area"], stats["areaName"], stats["springFestival"]) == (COUNTY, "响水县", str(runtime.relief_rules.spring_festival[PERIOD]))
    assert stats["totals"] == {"needHouseholds": 5, "needPeople": 12, "aidedHouseholds": 2, "aidedPeople": 4,
                               "paidFen": 110_000, "goodsFen": 5_000}
    assert [(b["code"], b["name"], b["figures"]["needHouseholds"]) for b in stats["breakdown"]] == [
        (XIANGSHUI, "响水镇", 4), (CHENJIAGANG, "陈家港镇", 1)]
    township = data(client, tokens, "township", STATISTICS, period=PERIOD, p=head)["winterSpringStatistics"]
    assert township["area"] == XIANGSHUI and [b["code"] for b in township["breakdown"]] == [DONGYUAN, CHENGDONG]

    # 春节 of the story's period 20 days from today: within the 30-day warning
    runtime.relief_rules = replace(runtime.relief_rules, spring_festival={PERIOD: story.today + timedelta(days=20)})
    work = data(client, tokens, "relief_officer", OVERDUE, p=head)["overdueWork"]
    assert work["today"] == story.today.isoformat()
    assert {c["kind"]: c["count"] for c in work["counts"]} == {
        "posting_ended_not_reviewed": 1, "approved_unpaid": 1, "payment_returned_not_reissued": 1,
        "unpaid_before_spring_festival": 2, "township_review_late": 0, "county_decision_late": 0,  # 河南 10 days
    }
    letters = {h.case_id: x for x, h in story.households.items()}
    assert sorted((i["kind"], letters[i["caseId"]]) for i in work["items"]) == [
        ("approved_unpaid", "C"), ("payment_returned_not_reissued", "B"), ("posting_ended_not_reviewed", "D"),
        ("unpaid_before_spring_festival", "B"), ("unpaid_before_spring_festival", "C"),
    ]
    d = next(i for i in work["items"] if i["kind"] == "posting_ended_not_reviewed")
    assert (d["headName"], d["villageName"], d["openObjections"], d["daysOverdue"]) == ("赵六", "海安居委会", 1, 2)  # officers see names in clear
    only = data(client, tokens, "township", OVERDUE, kinds=["unpaid_before_spring_festival"], first=1,
                p=head)["overdueWork"]
    assert [c["kind"] for c in only["counts"]] == ["unpaid_before_spring_festival"] and len(only["items"]) == 1
    assert only["items"][0]["due"] == (story.today + timedelta(days=20)).isoformat()
    assert error_code(client, tokens, "county", OVERDUE, kinds=["late"]) == "invalid"
    assert error_code(client, tokens, "county", STATISTICS, period="winter") == "invalid"


def test_every_concept_query_merges_into_the_one_root_query() -> None:
    sdl = schema.as_str()
    for name in ("disasters(", "statistics(", "roster(", "funds(", "winterSpringStatistics(", "overdueWork(",
                 "asKnownAt(", "diff(", "projectionStatus"):
        assert name in sdl
    assert sdl.count("type PageInfo") == 1 and "scalar Fen" in sdl
