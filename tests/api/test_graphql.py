"""GraphQL at /graphql over the running projections, as the accounts of the 直报 chain use it.

Every test runs on SQLite and on PostgreSQL (the `runtime` fixture). Disasters
are filed through REST as the test accounts; each read passes the `position`
the last command returned as `minPosition`, so it sees its own write without
sleeping. GraphQL-level errors answer HTTP 200 with `errors` (and
`extensions.code`), never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost
from tests.api.graphql_fixtures import (
    BEIJING,
    CHENJIAGANG,
    CITY,
    COUNTY,
    DISASTER_FIELDS,
    HUANGWEI,
    JIULONGPO,
    PROVINCE,
    XIANGSHUI,
    XIAOJIAN,
    Api,
    Scenario,
    ago,
    beijing,
    decimals_of,
    figures_of,
    file_scenario,
)

D = Decimal
RULES_VERSION = "deadlines-default-2026.2"


@pytest.fixture
def api(runtime: LedgerRuntime, tokens: dict[str, str]) -> Iterator[Api]:
    """The app with its projections running (the lifespan starts and stops the host)."""
    host = ProjectionHost(runtime)
    with TestClient(create_app(runtime, host=host), raise_server_exceptions=False) as client:
        yield Api(client, runtime, dict(tokens))


@pytest.fixture
def scenario(api: Api) -> Scenario:
    return file_scenario(api)


DISASTERS = """
query($area: String, $hazard: String, $dateFrom: Date, $dateTo: Date, $stage: String, $first: Int, $after: String,
      $p: Int) {
  disasters(area: $area, hazard: $hazard, dateFrom: $dateFrom, dateTo: $dateTo, stage: $stage, first: $first,
            after: $after, minPosition: $p) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id county hazard stage disasterDate } }
  }
}
"""

DISASTER = f"""
query($id: ID!, $p: Int) {{ disaster(id: $id, minPosition: $p) {{ {DISASTER_FIELDS} }} }}
"""

STATISTICS = """
query($area: String!, $period: PeriodInput!, $hazard: String, $subtype: String, $p: Int) {
  statistics(area: $area, period: $period, hazard: $hazard, subtype: $subtype, minPosition: $p) {
    area areaName narrowedFrom dateFrom dateTo hazard processes
    totals { indicator name unit value }
    breakdown { code name figures { indicator value } }
    bySubtype { code name figures { indicator value } }
  }
}
"""

COMPLIANCE = """
query($area: String!, $period: PeriodInput!, $status: [String!], $p: Int) {
  compliance(area: $area, period: $period, status: $status, minPosition: $p) {
    onTime late missing pending
    flags { disasterId county hazard rule ruleName level unit dueAt arrivedAt status delaySeconds reportNumber
            rulesVersion }
  }
}
"""

STATUS = "{ projectionStatus { name position head lag running error } }"


def listed(api: Api, role: str = "county", **variables: Any) -> dict[str, Any]:
    variables.setdefault("p", api.last_position)
    return api.data(DISASTERS, variables, role)["disasters"]


def ids_of(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def statistics(api: Api, area: str, role: str, period: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    variables = {"area": area, "period": period or {"year": 2025}, "p": api.last_position, **kw}
    return api.data(STATISTICS, variables, role)["statistics"]


def people(figures: list[dict[str, Any]]) -> D | None:
    return decimals_of(figures).get("affected_population")


# --- read your own write ----------------------------------------------------------------------------


def test_a_read_with_min_position_sees_the_command_it_follows(api: Api) -> None:
    filed = api.initial("township", occurred_at=ago(days=2).isoformat(), subtype="river_flood",
                        figures={XIANGSHUI: {"affected_population": 120, "crop_affected_ha": "850.50"}})

    # Straight after the command, without sleeping: the position it answered is the read's floor.
    started = time.monotonic()
    node = api.data(DISASTER, {"id": filed["id"], "p": filed["position"]})["disaster"]
    assert time.monotonic() - started < 5

    assert node is not None and node["id"] == filed["id"]
    assert node["version"] == filed["version"] == 1
    assert node["reportCount"] == 1 and node["stage"] == "initial"
    assert figures_of(node["totals"]) == {"affected_population": "120", "crop_affected_ha": "850.50"}

    followed = api.follow_up("county", filed["id"], as_of=ago(days=1).isoformat(),
                             figures={XIANGSHUI: {"affected_population": 150}})
    node = api.data(DISASTER, {"id": filed["id"], "p": followed["position"]})["disaster"]
    assert node["version"] == followed["version"] == 2
    assert node["stage"] == "follow_up"
    assert figures_of(node["totals"])["affected_population"] == "150"

    stats = api.data(STATISTICS, {"area": COUNTY, "period": {"dateFrom": "2000-01-01", "dateTo": "2100-12-31"},
                                  "p": followed["position"]})["statistics"]
    assert people(stats["totals"]) == 150


# --- the board: filters and pagination --------------------------------------------------------------


def test_disasters_are_listed_newest_first_and_filtered(api: Api, scenario: Scenario) -> None:
    a, b, c, f = (scenario.ids[k] for k in "ABCF")

    everything = listed(api)
    assert ids_of(everything) == [f, c, b, a]
    assert everything["totalCount"] == 4
    assert everything["pageInfo"]["hasNextPage"] is False
    assert {e["node"]["county"] for e in everything["edges"]} == {COUNTY}  # not 九龙坡区's process

    assert ids_of(listed(api, hazard="wind_hail")) == [b]
    assert ids_of(listed(api, hazard="flood")) == [f, c, a]
    assert ids_of(listed(api, stage="initial")) == [b]  # its 续报 was returned
    assert ids_of(listed(api, stage="follow_up")) == [a]
    assert ids_of(listed(api, stage="final")) == [f]
    assert ids_of(listed(api, stage="retracted")) == [c]
    july = listed(api, dateFrom="2025-07-01", dateTo="2025-07-31")
    assert ids_of(july) == [b, a] and july["totalCount"] == 2
    assert ids_of(listed(api, dateFrom="2025-07-08", dateTo="2025-07-08")) == [a]
    assert ids_of(listed(api, dateFrom="2025-08-01")) == [f, c]
    assert ids_of(listed(api, dateTo="2025-07-19")) == [a]
    assert ids_of(listed(api, area=COUNTY, hazard="flood", dateFrom="2025-08-01")) == [f, c]
    assert listed(api, hazard="drought")["totalCount"] == 0

    # Upper levels see their area; 九龙坡区 sees its own process only.
    assert ids_of(listed(api, "province")) == [f, c, b, a]
    assert ids_of(listed(api, "city", area=COUNTY)) == [f, c, b, a]
    assert ids_of(listed(api, "county-500107")) == [scenario.ids["G"]]

    node = everything["edges"][-1]["node"]
    assert node == {"id": a, "county": COUNTY, "hazard": "flood", "stage": "follow_up", "disasterDate": "2025-07-08"}


def test_disasters_are_paginated_with_a_cursor(api: Api, scenario: Scenario) -> None:
    # One more process on A's date (2025-07-08), so the order must break a tie on the date.
    h = api.initial("county", occurred_at=beijing(2025, 7, 8, 14), hazard="typhoon",
                    figures={CHENJIAGANG: {"affected_population": 10}})["id"]
    unpaged = ids_of(listed(api))
    assert len(unpaged) == 5 and set(unpaged) == {*(scenario.ids[k] for k in "ABCF"), h}

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = listed(api, first=1, after=after)
        pages += 1
        assert page["totalCount"] == 5
        assert len(page["edges"]) == 1
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        seen += ids_of(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert pages < 10, "pagination does not end"
    assert seen == unpaged
    assert len(set(seen)) == len(seen) == 5  # no duplicates, none left out

    first_two = listed(api, first=2)
    rest = listed(api, first=10, after=first_two["pageInfo"]["endCursor"])
    assert ids_of(first_two) + ids_of(rest) == unpaged
    assert first_two["pageInfo"]["hasNextPage"] is True and rest["pageInfo"]["hasNextPage"] is False

    # With a filter, the cursor walks the filtered list and totalCount counts it.
    floods = listed(api, hazard="flood", first=2)
    assert floods["totalCount"] == 3
    more = listed(api, hazard="flood", first=2, after=floods["pageInfo"]["endCursor"])
    assert ids_of(floods) + ids_of(more) == [scenario.ids["F"], scenario.ids["C"], scenario.ids["A"]]

    # After the last cursor there is nothing.
    empty = listed(api, first=1, after=rest["pageInfo"]["endCursor"])
    assert empty["edges"] == [] and empty["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert empty["totalCount"] == 5


# --- one process --------------------------------------------------------------------------------------


def detail(api: Api, disaster_id: str, role: str = "county") -> dict[str, Any]:
    return api.data(DISASTER, {"id": disaster_id, "p": api.last_position}, role)["disaster"]


def test_a_disaster_shows_townships_totals_and_reports(api: Api, scenario: Scenario) -> None:
    a = detail(api, scenario.ids["A"])
    assert a["county"] == COUNTY and a["countyName"] == "响水县"
    assert a["hazard"] == "flood" and a["hazardName"] == "洪涝灾害" and a["subtype"] == "river_flood"
    assert a["disasterDate"] == "2025-07-08"
    assert datetime.fromisoformat(a["occurredAt"]) == datetime(2025, 7, 8, 6, 30, tzinfo=BEIJING)
    assert a["stage"] == "follow_up" and a["reviewStatus"] == "submitted" and a["reportCount"] == 2
    assert a["responseLevel"] is None
    assert a["townships"] == [
        {"code": XIANGSHUI, "name": "响水镇", "figures": [
            {"indicator": "affected_population", "name": "受灾人口", "unit": "人", "value": "1200"},
            {"indicator": "crop_affected_ha", "name": "农作物受灾面积", "unit": "公顷", "value": "850.50"},
            {"indicator": "direct_loss_10k_yuan", "name": "直接经济损失", "unit": "万元", "value": "560.25"},
        ]},
        {"code": CHENJIAGANG, "name": "陈家港镇", "figures": [
            {"indicator": "affected_population", "name": "受灾人口", "unit": "人", "value": "300"},
            {"indicator": "crop_affected_ha", "name": "农作物受灾面积", "unit": "公顷", "value": "0.25"},
        ]},
    ]
    assert figures_of(a["totals"]) == {
        "affected_population": "1500", "crop_affected_ha": "850.75", "direct_loss_10k_yuan": "560.25",
    }
    reports = [{k: r[k] for k in ("number", "kind", "review", "filedBy", "unit", "townships")} for r in a["reports"]]
    assert reports == [
        {"number": 1, "kind": "initial", "review": "accepted", "filedBy": "test-township", "unit": "320921100000",
         "townships": [XIANGSHUI]},
        {"number": 2, "kind": "follow_up", "review": "submitted", "filedBy": "test-county", "unit": "320921000000",
         "townships": [CHENJIAGANG]},
    ]
    assert datetime.fromisoformat(a["reports"][0]["asOf"]) == datetime(2025, 7, 8, 6, 30, tzinfo=BEIJING)
    assert datetime.fromisoformat(a["reports"][1]["asOf"]) == datetime(2025, 7, 8, 18, tzinfo=BEIJING)
    assert all(datetime.fromisoformat(r["recordedAt"]).tzinfo is not None for r in a["reports"])

    # A returned 续报 stops counting: B's 小尖镇 stays at 500, and B is back at the 初报 stage.
    b = detail(api, scenario.ids["B"])
    assert [(r["kind"], r["review"]) for r in b["reports"]] == [("initial", "submitted"), ("follow_up", "returned")]
    assert b["stage"] == "initial" and b["reviewStatus"] == "returned"
    assert figures_of(b["totals"]) == {"affected_population": "500", "crop_affected_ha": "10.05"}
    assert [t["code"] for t in b["townships"]] == [XIAOJIAN]

    # A retracted process keeps its reports but counts nowhere.
    c = detail(api, scenario.ids["C"])
    assert c["stage"] == "retracted" and c["totals"] == [] and c["townships"] == []
    assert [(r["kind"], r["review"]) for r in c["reports"]] == [("initial", "submitted")]

    f = detail(api, scenario.ids["F"])
    assert [r["kind"] for r in f["reports"]] == ["initial", "final"] and f["stage"] == "final"
    assert figures_of(f["totals"]) == {"affected_population": "45", "direct_loss_10k_yuan": "0.05"}

    # Unknown id: null, not an error. Another province's process: forbidden.
    assert detail(api, "00000000-0000-0000-0000-000000000000") is None
    error = api.error(DISASTER, {"id": scenario.ids["G"], "p": api.last_position})
    assert error["extensions"]["code"] == "forbidden"
    assert detail(api, scenario.ids["G"], "county-500107")["county"] == JIULONGPO


def test_a_township_account_sees_only_its_own_township_figures(api: Api, scenario: Scenario) -> None:
    a = detail(api, scenario.ids["A"], "township")
    assert [t["code"] for t in a["townships"]] == [XIANGSHUI]
    assert figures_of(a["totals"]) == {
        "affected_population": "1200", "crop_affected_ha": "850.50", "direct_loss_10k_yuan": "560.25",
    }
    # The reports list still names every report (who filed what, for which townships).
    assert [r["townships"] for r in a["reports"]] == [[XIANGSHUI], [CHENJIAGANG]]

    # B concerns 小尖镇 only: the township account sees the process, but none of its figures.
    b = detail(api, scenario.ids["B"], "township")
    assert b["townships"] == [] and b["totals"] == []

    # In the list too, the totals are the township's own.
    query = "query($p: Int) { disasters(minPosition: $p) { edges { node { id totals { indicator value } } } } }"
    nodes = {e["node"]["id"]: e["node"] for e in api.data(query, {"p": api.last_position}, "township")
             ["disasters"]["edges"]}
    assert people(nodes[scenario.ids["A"]]["totals"]) == 1200
    assert nodes[scenario.ids["B"]]["totals"] == []
    assert people(nodes[scenario.ids["F"]]["totals"]) is None

    # Statistics: a township account asking for its county gets its own township's figures, and is told so.
    stats = statistics(api, COUNTY, "township")
    assert stats["area"] == XIANGSHUI and stats["areaName"] == "响水镇" and stats["narrowedFrom"] == COUNTY
    assert people(stats["totals"]) == 1200 and stats["processes"] == 1
    assert [row["code"] for row in stats["breakdown"]] == [XIANGSHUI]


# --- statistics ---------------------------------------------------------------------------------------

COUNTY_2025 = {"affected_population": D(2045), "crop_affected_ha": D("860.80"), "direct_loss_10k_yuan": D("560.30")}


@pytest.mark.parametrize(("area", "role", "name", "breakdown", "by_subtype"), [
    (PROVINCE, "province", "江苏省", {CITY: ("盐城市", COUNTY_2025)}, False),
    (CITY, "city", "盐城市", {COUNTY: ("响水县", COUNTY_2025)}, False),
    (COUNTY, "county", "响水县", {
        XIANGSHUI: ("响水镇", {"affected_population": D(1200), "crop_affected_ha": D("850.50"),
                             "direct_loss_10k_yuan": D("560.25")}),
        CHENJIAGANG: ("陈家港镇", {"affected_population": D(300), "crop_affected_ha": D("0.25")}),
        XIAOJIAN: ("小尖镇", {"affected_population": D(500), "crop_affected_ha": D("10.05")}),
        HUANGWEI: ("黄圩镇", {"affected_population": D(45), "direct_loss_10k_yuan": D("0.05")}),
    }, True),
    (XIANGSHUI, "county", "响水镇", {
        XIANGSHUI: ("响水镇", {"affected_population": D(1200), "crop_affected_ha": D("850.50"),
                             "direct_loss_10k_yuan": D("560.25")}),
    }, True),
])
def test_statistics_for_each_level_break_down_by_child_areas(
    api: Api, scenario: Scenario, area: str, role: str, name: str,
    breakdown: dict[str, tuple[str, dict[str, D]]], by_subtype: bool,
) -> None:
    stats = statistics(api, area, role)
    assert stats["area"] == area and stats["areaName"] == name and stats["narrowedFrom"] is None
    assert (stats["dateFrom"], stats["dateTo"], stats["hazard"]) == ("2025-01-01", "2025-12-31", None)
    # Returned (B's 800) and retracted (C's 50) figures are left out; 九龙坡区 is not in 江苏.
    expected_totals: dict[str, D] = {}
    for _, figures in breakdown.values():
        for key, value in figures.items():
            expected_totals[key] = expected_totals.get(key, D(0)) + value
    assert decimals_of(stats["totals"]) == expected_totals
    assert stats["processes"] == (1 if area == XIANGSHUI else 3)  # A, B, F (C is retracted)
    assert [row["code"] for row in stats["breakdown"]] == list(breakdown)  # sorted by code
    for row in stats["breakdown"]:
        expected_name, expected = breakdown[row["code"]]
        assert row["name"] == expected_name
        assert decimals_of(row["figures"]) == expected
    # Totals come with the indicator's name and unit, in the indicator set's order.
    assert [(f["indicator"], f["name"], f["unit"]) for f in stats["totals"]] == [
        (k, n, u) for k, n, u in [
            ("affected_population", "受灾人口", "人"), ("crop_affected_ha", "农作物受灾面积", "公顷"),
            ("direct_loss_10k_yuan", "直接经济损失", "万元"),
        ] if k in expected_totals
    ]
    if by_subtype:
        assert stats["bySubtype"] is not None
    else:
        assert stats["bySubtype"] is None  # 亚灾种 only at county level and below


@pytest.mark.parametrize(("period", "date_from", "date_to", "people_count", "processes"), [
    ({"year": 2025}, "2025-01-01", "2025-12-31", 2045, 3),
    ({"year": 2024}, "2024-01-01", "2024-12-31", None, 0),
    ({"month": "2025-07"}, "2025-07-01", "2025-07-31", 2000, 2),  # A 1500 + B 500
    ({"month": "2025-08"}, "2025-08-01", "2025-08-31", None, 0),  # only C, retracted
    ({"month": "2025-02"}, "2025-02-01", "2025-02-28", None, 0),
    ({"day": "2025-07-08"}, "2025-07-08", "2025-07-08", 1500, 1),
    ({"day": "2025-07-09"}, "2025-07-09", "2025-07-09", None, 0),
    ({"dateFrom": "2025-07-09", "dateTo": "2025-09-09"}, "2025-07-09", "2025-09-09", 500, 1),  # B only
    ({"dateFrom": "2025-07-20", "dateTo": "2025-09-10"}, "2025-07-20", "2025-09-10", 545, 2),  # B + F
])
def test_statistics_periods(api: Api, scenario: Scenario, period: dict[str, Any], date_from: str, date_to: str,
                            people_count: int | None, processes: int) -> None:
    stats = statistics(api, COUNTY, "county", period)
    assert (stats["dateFrom"], stats["dateTo"]) == (date_from, date_to)
    assert stats["processes"] == processes
    assert people(stats["totals"]) == (None if people_count is None else D(people_count))
    if processes == 0:
        assert stats["totals"] == [] and stats["breakdown"] == [] and stats["bySubtype"] == []


def test_statistics_hazard_and_subtype_filters(api: Api, scenario: Scenario) -> None:
    floods = statistics(api, COUNTY, "county", hazard="flood")
    assert floods["hazard"] == "flood" and floods["processes"] == 2  # A and F (C retracted)
    assert people(floods["totals"]) == 1545
    assert {row["code"]: (row["name"], people(row["figures"])) for row in floods["bySubtype"]} == {
        "river_flood": ("江河洪水", D(1500)), "urban_waterlogging": ("城镇内涝", D(45)),
    }

    river = statistics(api, COUNTY, "county", hazard="flood", subtype="river_flood")
    assert river["processes"] == 1 and people(river["totals"]) == 1500
    assert [row["code"] for row in river["bySubtype"]] == ["river_flood"]

    hail = statistics(api, PROVINCE, "province", hazard="wind_hail")
    assert hail["processes"] == 1 and people(hail["totals"]) == 500  # the returned 800 does not count
    assert decimals_of(hail["totals"])["crop_affected_ha"] == D("10.05")
    assert hail["bySubtype"] is None
    assert [row["code"] for row in hail["breakdown"]] == [CITY]

    assert statistics(api, CITY, "city", hazard="drought")["processes"] == 0

    # Without a hazard, the county's 亚灾种 rows are there but unnamed (a code is only unique within its 灾种).
    mixed = statistics(api, COUNTY, "county")
    assert {row["code"]: people(row["figures"]) for row in mixed["bySubtype"]} == {
        "river_flood": D(1500), "hail": D(500), "urban_waterlogging": D(45),
    }

    error = api.error(STATISTICS, {"area": COUNTY, "period": {"year": 2025}, "hazard": "volcano"})
    assert error["extensions"]["code"] == "invalid"


def test_a_subtype_filter_above_county_level_is_applied_or_refused(api: Api, scenario: Scenario) -> None:
    variables = {"area": PROVINCE, "period": {"year": 2025}, "hazard": "flood", "subtype": "river_flood",
                 "p": scenario.position}
    body = api.gql(STATISTICS, variables, "province")
    if body.get("errors"):
        assert [e["extensions"]["code"] for e in body["errors"]] == ["invalid"]
    else:
        assert people(body["data"]["statistics"]["totals"]) == 1500


def test_statistics_from_other_provinces_and_scope(api: Api, scenario: Scenario) -> None:
    own = statistics(api, JIULONGPO, "county-500107")
    assert own["areaName"] == "九龙坡区" and people(own["totals"]) == 999 and own["processes"] == 1

    # A county account asking for another county (or its province) is refused.
    for area in (JIULONGPO, "320922", PROVINCE, CITY, "500107001"):
        error = api.error(STATISTICS, {"area": area, "period": {"year": 2025}, "p": scenario.position})
        assert error["extensions"]["code"] == "forbidden", area
        assert error["path"] == ["statistics"]
    # So is a city account asking for another province.
    assert api.error(STATISTICS, {"area": JIULONGPO, "period": {"year": 2025}}, "city")["extensions"]["code"] \
        == "forbidden"
    # The auditor (盐城, read-only) reads the city's statistics.
    assert people(statistics(api, CITY, "auditor")["totals"]) == 2045

    # A malformed area code or period is invalid input, not a server error.
    for variables in (
        {"area": "32x", "period": {"year": 2025}},
        {"area": COUNTY, "period": {}},
        {"area": COUNTY, "period": {"month": "2025-13"}},
        {"area": COUNTY, "period": {"dateFrom": "2025-08-01", "dateTo": "2025-07-01"}},
        {"area": COUNTY, "period": {"dateFrom": "2025-08-01"}},
    ):
        assert api.error(STATISTICS, variables)["extensions"]["code"] in ("invalid", "unknown_area"), variables


def test_statistics_keep_each_indicators_two_decimals(api: Api, scenario: Scenario) -> None:
    """Sums of hundredths come back at the indicator's scale, as the disaster's own totals do ('850.50',
    not '850.5'); people stay whole numbers."""
    county = statistics(api, COUNTY, "county")
    xiangshui = next(row for row in county["breakdown"] if row["code"] == XIANGSHUI)
    assert figures_of(xiangshui["figures"]) == {
        "affected_population": "1200", "crop_affected_ha": "850.50", "direct_loss_10k_yuan": "560.25",
    }
    huangwei = next(row for row in county["breakdown"] if row["code"] == HUANGWEI)
    assert figures_of(huangwei["figures"]) == {"affected_population": "45", "direct_loss_10k_yuan": "0.05"}
    assert {row["code"]: figures_of(row["figures"]) for row in county["bySubtype"]}["hail"] == {
        "affected_population": "500", "crop_affected_ha": "10.05",
    }
    province = statistics(api, PROVINCE, "province")
    assert figures_of(province["totals"]) == {
        "affected_population": "2045", "crop_affected_ha": "860.80", "direct_loss_10k_yuan": "560.30",
    }


# --- authentication -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    DISASTERS, DISASTER, STATISTICS, COMPLIANCE, STATUS,
])
def test_without_a_token_every_field_is_unauthenticated(api: Api, query: str) -> None:
    variables = {"id": "00000000-0000-0000-0000-000000000000", "area": COUNTY, "period": {"year": 2025}}
    used = {k: v for k, v in variables.items() if f"${k}" in query}
    for headers in ({}, {"Authorization": "Bearer rl_not-a-token"}, {"Authorization": "Basic abc"}):
        response = api.client.post("/graphql", json={"query": query, "variables": used}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not any((body["data"] or {}).values())  # null, or {"disaster": null} for a nullable field
        assert [e["extensions"]["code"] for e in body["errors"]] == ["unauthenticated"]


# --- compliance (迟报 / 未报) ---------------------------------------------------------------------------------


def recent_period() -> dict[str, str]:
    """Yesterday and today in Beijing: a disaster a few hours ago falls on one of them."""
    today = datetime.now(BEIJING).date()
    return {"dateFrom": (today - timedelta(days=1)).isoformat(), "dateTo": today.isoformat()}


def compliance(api: Api, role: str = "county", area: str = COUNTY, **kw: Any) -> dict[str, Any]:
    variables = {"area": area, "period": recent_period(), "p": api.last_position, **kw}
    return api.data(COMPLIANCE, variables, role)["compliance"]


def test_compliance_flags_a_late_and_an_on_time_initial_report(api: Api) -> None:
    five_hours_ago = ago(hours=5)
    late = api.initial("county", occurred_at=five_hours_ago.isoformat(), hazard="flood",
                       figures={XIANGSHUI: {"affected_population": 30}})
    filed_late = datetime.now(BEIJING)
    one_hour_ago = ago(hours=1)
    on_time = api.initial("county", occurred_at=one_hour_ago.isoformat(), hazard="wind_hail",
                          figures={CHENJIAGANG: {"affected_population": 8}})

    report = compliance(api)
    flags = {(f["disasterId"], f["rule"]): f for f in report["flags"]}
    assert set(flags) == {(late["id"], "initial.county"), (late["id"], "initial.upper"),
                          (on_time["id"], "initial.county"), (on_time["id"], "initial.upper")}
    assert (report["onTime"], report["late"], report["missing"], report["pending"]) == (1, 1, 0, 2)

    county_late = flags[(late["id"], "initial.county")]
    assert county_late["status"] == "late"
    assert 3 * 3600 <= county_late["delaySeconds"] <= 3 * 3600 + 60  # due 2 h after it occurred, filed 5 h after
    assert datetime.fromisoformat(county_late["dueAt"]) == five_hours_ago + timedelta(hours=2)
    arrived = datetime.fromisoformat(county_late["arrivedAt"])
    assert abs((arrived - filed_late).total_seconds()) < 60
    assert county_late["ruleName"] == "县级初报 (2 小时内)"
    assert (county_late["level"], county_late["unit"], county_late["county"], county_late["hazard"]) == \
        ("county", "320921000000", COUNTY, "flood")
    assert county_late["reportNumber"] == 1 and county_late["rulesVersion"] == RULES_VERSION

    county_on_time = flags[(on_time["id"], "initial.county")]
    assert county_on_time["status"] == "on_time" and county_on_time["delaySeconds"] is None
    assert datetime.fromisoformat(county_on_time["dueAt"]) == one_hour_ago + timedelta(hours=2)

    # The city has 2 h from receipt to review (and report upward): not yet due.
    upper = flags[(late["id"], "initial.upper")]
    assert (upper["status"], upper["level"], upper["unit"], upper["arrivedAt"]) == \
        ("pending", "city", "320900000000", None)

    # The city accepts the second 初报 at once: its upward step is on time.
    api.accept("city", on_time["id"], 1)
    report = compliance(api, "city", CITY)
    flags = {(f["disasterId"], f["rule"]): f for f in report["flags"]}
    assert flags[(on_time["id"], "initial.upper")]["status"] == "on_time"
    # …and the province's own 2 h from the city's handling starts (not yet due).
    province = flags[(on_time["id"], "initial.province")]
    assert (province["status"], province["level"], province["unit"]) == ("pending", "province", "320000000000")
    assert (report["onTime"], report["late"], report["missing"], report["pending"]) == (2, 1, 0, 2)

    # The status filter narrows the flags, not the counts.
    only_late = compliance(api, status=["late"])
    assert [(f["disasterId"], f["rule"]) for f in only_late["flags"]] == [(late["id"], "initial.county")]
    assert (only_late["onTime"], only_late["late"], only_late["pending"]) == (2, 1, 2)
    some = compliance(api, status=["on_time", "pending"])
    assert sorted(f["status"] for f in some["flags"]) == ["on_time", "on_time", "pending", "pending"]
    assert compliance(api, status=["missing"])["flags"] == []

    # Out of the period, and for a township inside it.
    assert compliance(api, period={"year": 2000})["flags"] == []
    township_view = compliance(api, "township", XIANGSHUI)
    assert {f["disasterId"] for f in township_view["flags"]} == {late["id"], on_time["id"]}

    # Another county's compliance is forbidden.
    error = api.error(COMPLIANCE, {"area": JIULONGPO, "period": recent_period()})
    assert error["extensions"]["code"] == "forbidden"


def test_compliance_counts_a_phoned_in_initial_report_as_arrived_when_phoned(api: Api) -> None:
    """补报, not 迟报: phoned in within 2 h while the system was down, entered 5 h after the disaster."""
    occurred = ago(hours=5)
    phoned = occurred + timedelta(hours=1)
    filed = api.initial("county", occurred_at=occurred.isoformat(), hazard="typhoon",
                        phoned_at=phoned.astimezone(BEIJING).isoformat(),
                        figures={XIANGSHUI: {"affected_population": 12}})
    flag = next(f for f in compliance(api)["flags"]
                if f["disasterId"] == filed["id"] and f["rule"] == "initial.county")
    assert flag["status"] == "on_time"
    assert datetime.fromisoformat(flag["arrivedAt"]) == phoned


def test_compliance_with_a_phoned_at_given_in_beijing_time_without_offset(api: Api) -> None:
    """A phoned_at without an offset is Beijing time, like occurred_at — and is stored with its offset, so
    the deadline check can compare it with the recorded time (it used to be stored naive and make the whole
    compliance query fail with a TypeError)."""
    occurred = ago(hours=5)
    phoned_beijing = (occurred + timedelta(hours=1)).astimezone(BEIJING).replace(tzinfo=None, microsecond=0)
    filed = api.initial("county", occurred_at=occurred.isoformat(), hazard="typhoon",
                        phoned_at=phoned_beijing.isoformat(), figures={XIANGSHUI: {"affected_population": 12}})
    flag = next(f for f in compliance(api)["flags"]
                if f["disasterId"] == filed["id"] and f["rule"] == "initial.county")
    assert flag["status"] == "on_time"
    assert datetime.fromisoformat(flag["arrivedAt"]) == phoned_beijing.replace(tzinfo=BEIJING)


def test_a_township_initial_report_is_handled_by_the_county_within_two_hours(api: Api) -> None:
    """For a township's 初报 the level above is the county: its review is the upper step."""
    filed = api.initial("township", occurred_at=ago(minutes=30).isoformat(), hazard="flood",
                        figures={XIANGSHUI: {"affected_population": 5}})
    api.accept("county", filed["id"], 1)
    flags = {f["rule"]: f for f in compliance(api)["flags"] if f["disasterId"] == filed["id"]}
    assert flags["initial.county"]["status"] == "on_time"
    upper = flags["initial.upper"]
    assert upper["status"] == "on_time" and upper["arrivedAt"] is not None
    assert (upper["level"], upper["unit"]) == ("county", "320921000000")
    # …and the city cannot review it again: the report has been reviewed.
    response = api.client.post(f"/v1/disasters/{filed['id']}/reports/1/accept", headers=api.headers("city"))
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_reviewed"


# --- projections, limits, waits ------------------------------------------------------------------------------


def test_projection_status_shows_no_lag_after_a_min_position_read(api: Api, scenario: Scenario) -> None:
    both = """query($p: Int) { disasters(minPosition: $p) { totalCount }
                               statistics(area: "320921", period: {year: 2025}, minPosition: $p) { processes } }"""
    data = api.data(both, {"p": scenario.position})
    assert data["disasters"]["totalCount"] == 4 and data["statistics"]["processes"] == 3

    status = {s["name"]: s for s in api.data(STATUS)["projectionStatus"]}
    assert {"board", "statistics"} <= set(status)  # (and whatever other projections the host runs)
    head = api.runtime.position()
    for name in ("board", "statistics"):
        assert status[name]["lag"] == 0, status[name]
        assert status[name]["position"] == status[name]["head"] == head >= scenario.position
        assert status[name]["running"] is True and status[name]["error"] is None


def test_a_too_deep_query_is_refused_by_the_depth_limiter(api: Api) -> None:
    deep = "{ disasters { edges { node { townships { figures { value { a { b { c { d } } } } } } } } } }"
    body = api.gql(deep)
    assert body.get("data") is None
    assert any("exceeds maximum operation depth of 8" in e["message"] for e in body["errors"]), body

    # The depth limiter skips introspection (`__schema` …); graphql-core bounds that nesting itself.
    inner = "name"
    for _ in range(4):
        inner = f"fields {{ name type {{ name ofType {{ name ofType {{ name ofType {{ {inner} }} }} }} }} }}"
    body = api.gql("{ __schema { types { " + inner + " } } }", role=None)
    assert body.get("data") is None
    assert [e["message"] for e in body["errors"]] == ["Maximum introspection depth exceeded"]


def test_too_many_aliases_are_refused(api: Api) -> None:
    aliased = "{ " + " ".join(f"a{i}: projectionStatus {{ name }}" for i in range(16)) + " }"
    body = api.gql(aliased)
    assert body.get("data") is None
    assert any("aliases" in e["message"].lower() for e in body["errors"]), body


def test_a_position_never_reached_answers_unavailable_after_the_bounded_wait(
    api: Api, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("api.graphql.common.MAX_WAIT_SECONDS", 0.3)
    for query, variables in (
        (DISASTERS, {"p": 10**9}),
        (DISASTER, {"id": "00000000-0000-0000-0000-000000000000", "p": 10**9}),
        (STATISTICS, {"area": COUNTY, "period": {"year": 2025}, "p": 10**9}),
        (COMPLIANCE, {"area": COUNTY, "period": {"year": 2025}, "p": 10**9}),
    ):
        started = time.monotonic()
        error = api.error(query, variables)
        elapsed = time.monotonic() - started
        assert error["extensions"]["code"] == "unavailable", error
        assert "10000000" in error["message"]
        assert 0.3 <= elapsed < 5, elapsed


def test_without_projections_in_the_process_reads_are_unavailable(runtime: LedgerRuntime,
                                                                  tokens: dict[str, str]) -> None:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        response = client.post("/graphql", json={"query": STATUS},
                               headers={"Authorization": f"Bearer {tokens['county']}"})
    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["unavailable"]


def test_graphql_arguments_are_checked_like_rest(api: Api, scenario: Scenario) -> None:
    """A filter value that cannot match and a page larger than the limit are errors, not empty or cut answers."""
    stage = api.error('{ disasters(stage: "foo") { totalCount } }')
    assert stage["extensions"]["code"] == "invalid" and stage["extensions"]["fields"][0]["field"] == "stage"
    big = api.error("{ disasters(first: 1000) { totalCount } }")
    field = big["extensions"]["fields"][0]
    assert (field["field"], field["code"]) == ("first", "out_of_range") and " / " in field["message"]
    assert api.data("{ disasters(first: 100) { totalCount } }", {}, "county")["disasters"]["totalCount"] >= 1


def test_more_arguments_are_checked_and_a_wider_area_is_refused_unless_the_answer_says_so(
        api: Api, scenario: Scenario) -> None:
    """Pages over the limit everywhere, a diff backwards, and a township asking for its county."""
    for query in ("{ housingFiles(first: 1000) { caseId } }",
                  "{ projectionStatus { deadLetters(first: 101) { position } } }"):
        field = api.error(query)["extensions"]["fields"][0]
        assert (field["field"], field["code"]) == ("first", "out_of_range"), query
    backwards = api.error(f'{{ diff(id: "{scenario.ids["A"]}", fromVersion: 3, toVersion: 1) {{ field }} }}', None,
                          "auditor")
    assert backwards["extensions"]["fields"][0]["code"] == "after_to_version"
    # Compliance has no narrowedFrom: the county asked by a township account is refused, not silently cut.
    refused = api.error('{ compliance(area: "320921", period: {year: 2025}) { late } }', None, "township")
    assert refused["extensions"]["code"] == "forbidden", refused
    assert api.data('{ compliance(area: "320921100", period: {year: 2025}) { late } }', None, "township")


def test_every_time_answered_is_beijing_time_with_its_offset(api: Api, scenario: Scenario) -> None:
    """REST and GraphQL alike: no `Z` or `+00:00` beside `+08:00`, even inside one compliance flag."""
    import re

    history = api.client.get(f"/v1/disasters/{scenario.ids['A']}/history", headers=api.headers("county")).json()
    state = api.client.get(f"/v1/disasters/{scenario.ids['A']}", headers=api.headers("county")).json()
    flags = api.data("""query($p: Int) { compliance(area: "320921", period: {year: 2025}, minPosition: $p) {
        flags { dueAt arrivedAt } } }""", {"p": api.last_position})["compliance"]["flags"]
    node = api.data("""query($id: ID!, $p: Int) { disaster(id: $id, minPosition: $p) {
        occurredAt lastReportAt history { recordedAt occurredAt } } }""",
                    {"id": scenario.ids["A"], "p": api.last_position})["disaster"]
    times = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?",
                       f"{history}{state}{flags}{node}")
    assert len(times) > 20
    assert all(t.endswith("+08:00") for t in times), [t for t in times if not t.endswith("+08:00")]


def test_a_query_string_time_whose_plus_arrived_as_a_space_is_understood(api: Api, scenario: Scenario) -> None:
    url = f"/v1/audit/{scenario.ids['A']}/as-known-at?at=2030-01-01T00:00:00+08:00"  # the + unencoded: a space
    answer = api.client.get(url, headers=api.headers("county"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["as_known_at"] == "2030-01-01T00:00:00+08:00"
