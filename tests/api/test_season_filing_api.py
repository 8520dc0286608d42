"""冬春 需救助 statistics filed upward (issue 16.6), over HTTP and GraphQL, on SQLite and PostgreSQL: a
filing stops its level's season clock, is refused twice, is corrected only with a reason, records what
the roster held, and is filed only by the level it belongs to.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tests.api.test_relief_rules_api import (
    COUNTY,
    approved,
    client,  # noqa: F401  (fixture)
    gql,
    post,
    season,
    today,
)

DEADLINES = """query($s: String, $a: String){ winterSpringDeadlines(period: $s, area: $a) {
    rule level area dueOn arrivedAt status daysLate } }"""
FILING = """query($s: String, $a: String!){ winterSpringNeedsFiling(period: $s, area: $a) {
    level area households people byNeed rosterHouseholds rosterPeople filedBy corrections } }"""


def filings(period: str) -> str:
    return f"/v1/relief/winter-spring/{period}/needs-filings"


def next_season(client: Any) -> str:  # noqa: F811
    first = int(season(client)[:4]) + 1
    return f"{first}-{first + 1}"


def test_a_county_filing_stops_its_upward_clock(client, tokens) -> None:  # noqa: F811
    period = season(client)
    post(client, tokens["county"], filings(period), {"area": COUNTY, "households": 12, "people": 30,
                                                     "by_need": {"口粮": 20, "取暖": 25}}, 201)
    flags = {f["rule"]: f for f in gql(client, tokens["county"], DEADLINES, s=period, a=COUNTY)["winterSpringDeadlines"]}
    upward = flags["upward_county"]
    due = date(int(period[:4]), 10, 15)
    assert upward["arrivedAt"] is not None
    arrived = datetime.fromisoformat(upward["arrivedAt"]).date()
    assert upward["status"] == ("late" if arrived > due else "on_time")
    assert upward["daysLate"] == max((arrived - due).days, 0)
    got = client.get(f"{filings(period)}/{COUNTY}", headers={"Authorization": f"Bearer {tokens['city']}"}).json()
    assert (got["level"], got["households"], got["people"], got["by_need"], got["filed_by"]) == (
        "county", 12, 30, {"口粮": 20, "取暖": 25}, "test-county")
    assert got["filed_at"].endswith("+08:00") and got["status"] == upward["status"]


def test_a_filing_before_the_deadline_is_on_time(client, tokens) -> None:  # noqa: F811
    period = next_season(client)
    post(client, tokens["county"], filings(period), {"area": COUNTY, "households": 1, "people": 2}, 201)
    post(client, tokens["city"], filings(period), {"area": "3209", "households": 1, "people": 2}, 201)
    flags = gql(client, tokens["city"], DEADLINES, s=period, a="3209")["winterSpringDeadlines"]
    by_rule = {(f["rule"], f["area"]): f["status"] for f in flags}
    assert by_rule[("upward_city", "3209")] == "on_time"
    county = gql(client, tokens["county"], DEADLINES, s=period, a=COUNTY)["winterSpringDeadlines"]
    assert {f["rule"]: f["status"] for f in county}["upward_county"] == "on_time"


def test_an_area_that_has_not_filed_reads_missing_or_pending(client, tokens) -> None:  # noqa: F811
    period = season(client)
    flags = {f["rule"]: f for f in gql(client, tokens["county"], DEADLINES, s=period, a=COUNTY)["winterSpringDeadlines"]}
    due = date(int(period[:4]), 10, 15)
    assert flags["upward_county"]["arrivedAt"] is None
    assert flags["upward_county"]["status"] == ("missing" if today(client) > due else "pending")
    assert gql(client, tokens["county"], FILING, s=period, a=COUNTY)["winterSpringNeedsFiling"] is None


def test_a_second_filing_is_refused_and_a_correction_needs_a_reason(client, tokens) -> None:  # noqa: F811
    period = season(client)
    first = post(client, tokens["county"], filings(period), {"area": COUNTY, "households": 12, "people": 30}, 201)
    again = post(client, tokens["county"], filings(period), {"area": COUNTY, "households": 13, "people": 31}, 409)
    assert (again["error"]["code"], again["error"]["details"]["existing_id"]) == ("already_filed", first["id"])
    correction = f"{filings(period)}/{COUNTY}/corrections"
    missing = post(client, tokens["county"], correction, {"households": 13, "people": 31, "reason": ""}, 422)
    assert "reason" in [f["field"] for f in missing["error"]["fields"]]
    same = post(client, tokens["county"], correction, {"households": 12, "people": 30, "reason": "核对"}, 409)
    assert same["error"]["code"] == "no_change"
    before = client.get(f"{filings(period)}/{COUNTY}", headers={"Authorization": f"Bearer {tokens['county']}"}).json()
    post(client, tokens["county"], correction, {"households": 13, "people": 31, "reason": "补录一户漏报"})
    after = client.get(f"{filings(period)}/{COUNTY}", headers={"Authorization": f"Bearer {tokens['county']}"}).json()
    assert (after["households"], after["people"], after["corrections"]) == (13, 31, 1)
    assert after["filed_at"] == before["filed_at"]  # the clock counts the first filing


def test_only_the_level_itself_files_within_its_scope(client, tokens) -> None:  # noqa: F811
    period = season(client)
    body = {"area": COUNTY, "households": 1, "people": 1}
    assert post(client, tokens["township"], filings(period), body, 403)["error"]["code"] == "forbidden"
    assert post(client, tokens["city"], filings(period), body, 403)["error"]["code"] == "forbidden"
    assert post(client, tokens["auditor"], filings(period), body, 403)["error"]["code"] == "forbidden"
    assert post(client, tokens["county"], filings(period), {**body, "area": "320922"}, 403)["error"]["code"] == \
        "forbidden"
    post(client, tokens["relief_officer"], filings(period), body, 201)  # the county's civil-affairs officer
    post(client, tokens["province"], filings(period), {**body, "area": "32"}, 201)


def test_figures_that_cannot_be_true_are_refused(client, tokens) -> None:  # noqa: F811
    period = season(client)
    error = post(client, tokens["county"], filings(period), {"area": COUNTY, "households": 5, "people": 3,
                                                             "by_need": {"口粮": 4}}, 422)["error"]
    assert {(f["field"], f["code"]) for f in error["fields"]} == {
        ("households", "households_over_people"), ("by_need.口粮", "over_total")}
    assert all(" / " in f["message"] for f in error["fields"])  # Chinese, then English
    bad_period = post(client, tokens["county"], filings("2026"), {"area": COUNTY, "households": 1, "people": 1}, 422)
    assert "period" in [f["field"] for f in bad_period["error"]["fields"]]
    assert post(client, tokens["county"], filings(period), {"area": "3209211", "households": 1, "people": 1},
                422)["error"]["code"]
    assert client.get(f"{filings(period)}/{COUNTY}",
                      headers={"Authorization": f"Bearer {tokens['county']}"}).status_code == 404


def test_figures_left_out_come_from_the_roster_which_is_kept_beside_them(client, tokens) -> None:  # noqa: F811
    approved(client, tokens)  # one household past 乡审: 1 person in need
    period = season(client)
    post(client, tokens["county"], filings(period), {"area": COUNTY}, 201)
    got = gql(client, tokens["city"], FILING, s=period, a=COUNTY)["winterSpringNeedsFiling"]
    assert (got["households"], got["people"], got["rosterHouseholds"], got["rosterPeople"]) == (1, 1, 1, 1)
    post(client, tokens["city"], filings(period), {"area": "3209", "households": 9, "people": 20}, 201)
    city = gql(client, tokens["province"], FILING, s=period, a="3209")["winterSpringNeedsFiling"]
    assert (city["households"], city["rosterHouseholds"], city["level"]) == (9, 1, "city")  # a gap to look at
