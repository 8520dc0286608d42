"""Every refusal over HTTP has one shape and names the offending field; nothing is half-written.

The body is always {"error": {"code", "message", "fields", "details"}} with the
message in Chinese, then " / ", then English; `fields` entries are
{"field", "code", "message"} with a dotted path such as "figures.320921100.deaths".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

COUNTY = "320921"  # 响水县
XIANGSHUI = "320921100"  # 响水镇
CHENJIAGANG = "320921101"  # 陈家港镇
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def assert_error_shape(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert set(error) == {"code", "message", "fields", "details"}, error
    assert isinstance(error["code"], str) and error["code"]
    if code is not None:
        assert error["code"] == code, error
    zh, sep, en = error["message"].partition(" / ")
    assert sep, error["message"]
    assert CJK.search(zh), error["message"]
    assert LATIN.search(en), error["message"]
    assert isinstance(error["fields"], list)
    for entry in error["fields"]:
        assert set(entry) == {"field", "code", "message"}, entry
        assert all(isinstance(v, str) and v for v in entry.values()), entry
    assert isinstance(error["details"], dict)
    return error


def field_codes(error: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["field"], f["code"]) for f in error["fields"]]


def initial_body(**figures: Any) -> dict[str, Any]:
    return {"county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": ago(days=3),
            "figures": {XIANGSHUI: figures or {"affected_population": 120}}}


def open_disaster(client, as_role, **figures: Any) -> str:
    response = client.post("/v1/disasters", json=initial_body(**figures), headers=as_role("county"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def t(field: str) -> str:
    """The field path of an indicator of 响水镇."""
    return f"figures.{XIANGSHUI}.{field}"


def with_(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {**body, **changes}


def figures(values: dict[str, Any], township: str = XIANGSHUI) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {**body, "figures": {township: values}}


def townships(by_code: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {**body, "figures": by_code}


def without(*names: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {k: v for k, v in body.items() if k not in names}


# (id, change to a valid 初报, error code, [(field, field code)])
INVALID_INITIAL_REPORTS = [
    ("missing-everything", lambda body: {}, "invalid_request",
     [("county", "missing"), ("hazard", "missing"), ("occurred_at", "missing"), ("figures", "missing")]),
    ("missing-figures", without("figures"), "invalid_request", [("figures", "missing")]),
    ("unknown-field", with_(severity="high"), "invalid_request", [("severity", "extra_forbidden")]),
    ("non-numeric-figure", figures({"deaths": "many"}), "invalid", [(t("deaths"), "not_a_number")]),
    ("negative-figure", figures({"deaths": -1}), "invalid", [(t("deaths"), "negative")]),
    ("negative-figure-as-string", figures({"crop_affected_ha": "-0.01"}), "invalid",
     [(t("crop_affected_ha"), "negative")]),
    ("fractional-people", figures({"affected_population": 1.5}), "invalid", [(t("affected_population"), "bad_scale")]),
    ("fractional-people-as-string", figures({"deaths": "2.5"}), "invalid", [(t("deaths"), "bad_scale")]),
    ("three-decimals-of-hectares", figures({"crop_affected_ha": "10.505"}), "invalid",
     [(t("crop_affected_ha"), "bad_scale")]),
    ("unknown-indicator", figures({"casualties": 3}), "invalid", [(t("casualties"), "unknown_indicator")]),
    ("no-figures", townships({}), "invalid", [("figures", "required")]),
    ("township-without-figures", figures({}), "invalid", [(f"figures.{XIANGSHUI}", "required")]),
    ("unknown-county", with_(county="320999"), "invalid", [("county", "unknown_area")]),
    ("township-code-as-county", with_(county=XIANGSHUI), "invalid", [("county", "not_a_county")]),
    ("malformed-county", with_(county="32092x"), "invalid", [("county", "bad_area_code")]),
    ("township-of-another-county", townships({"320922100": {"deaths": 1}}), "invalid",
     [("figures.320922100", "outside_county")]),
    ("nine-digit-county-code", townships({"320921000": {"deaths": 1}}), "invalid",
     [("figures.320921000", "not_a_township")]),
    ("nine-digit-unknown-township", townships({"320921999": {"deaths": 1}}), "invalid",
     [("figures.320921999", "unknown_area")]),
    ("village-code", townships({"320921100001": {"deaths": 1}}), "invalid",
     [("figures.320921100001", "not_a_township")]),
    ("malformed-township", townships({"3209211": {"deaths": 1}}), "invalid", [("figures.3209211", "bad_area_code")]),
    ("unknown-hazard", with_(hazard="meteor", subtype=None), "invalid", [("hazard", "unknown_hazard")]),
    ("unknown-subtype", with_(subtype="hail"), "invalid", [("subtype", "unknown_subtype")]),
    ("occurred-in-the-future", with_(occurred_at=ago(hours=-6)), "invalid", [("occurred_at", "in_future")]),
    ("not-a-time", with_(occurred_at="yesterday"), "invalid_request", [("occurred_at", "datetime_from_date_parsing")]),
    ("text-too-long", with_(text="灾" * 201), "invalid", [("text", "too_long")]),
    ("crop-damaged-exceeds-affected", figures({"crop_affected_ha": "200", "crop_damaged_ha": "300"}),
     "inconsistent_figures", [(t("crop_damaged_ha"), "exceeds")]),
    ("crop-lost-exceeds-damaged", figures({"crop_damaged_ha": "20.00", "crop_lost_ha": "20.01"}),
     "inconsistent_figures", [(t("crop_lost_ha"), "exceeds")]),
    ("centralized-plus-dispersed-not-total",
     figures({"relocated_total": 300, "relocated_centralized_total": 120, "relocated_dispersed_total": 170}),
     "inconsistent_figures", [(t("relocated_total"), "parts_do_not_add_up")]),
    ("households-exceed-rooms",
     figures({"collapsed_rooms": 9, "collapsed_dwelling_rooms": 3, "collapsed_dwelling_households": 4}),
     "inconsistent_figures", [(t("collapsed_dwelling_households"), "exceeds")]),
    # 倒塌住房户数 5 with 倒塌房屋间数 3: checked against the rooms of all houses too
    ("households-exceed-all-rooms", figures({"collapsed_rooms": 3, "collapsed_dwelling_households": 5}),
     "inconsistent_figures", [(t("collapsed_dwelling_households"), "exceeds")]),
    # 其中倒塌住房间数 9 without 倒塌房屋间数: the county's total would read less than its part
    ("of-which-without-its-total", figures({"collapsed_dwelling_rooms": 9}),
     "inconsistent_figures", [(t("collapsed_dwelling_rooms"), "parent_missing")]),
    ("of-which-exceeds-parent", figures({"injured": 2, "seriously_injured": 3}), "inconsistent_figures",
     [(t("seriously_injured"), "exceeds_parent")]),
    ("current-exceeds-cumulative", figures({"relocated_total": 10, "relocated_current": 11}),
     "inconsistent_figures", [(t("relocated_current"), "exceeds")]),
]


@pytest.mark.parametrize(("change", "code", "expected_fields"),
                         [case[1:] for case in INVALID_INITIAL_REPORTS],
                         ids=[case[0] for case in INVALID_INITIAL_REPORTS])
def test_invalid_initial_report_is_refused_with_422_naming_the_field(client, as_role, runtime, change, code,
                                                                     expected_fields):
    before = runtime.position()
    response = client.post("/v1/disasters", json=change(initial_body()), headers=as_role("county"))
    error = assert_error_shape(response, 422, code)
    assert field_codes(error) == expected_fields
    assert runtime.position() == before


def test_every_problem_of_a_report_is_named_at_once(client, as_role, runtime):
    before = runtime.position()
    body = initial_body()
    body["figures"] = {
        XIANGSHUI: {"deaths": -1, "missing": "1.5", "crop_affected_ha": "1.505", "casualties": 2},
        "320922100": {"deaths": 1},
    }
    error = assert_error_shape(client.post("/v1/disasters", json=body, headers=as_role("county")), 422, "invalid")
    assert sorted(field_codes(error)) == sorted([
        (t("deaths"), "negative"), (t("missing"), "bad_scale"), (t("crop_affected_ha"), "bad_scale"),
        (t("casualties"), "unknown_indicator"), ("figures.320922100", "outside_county")])
    assert runtime.position() == before


def test_a_valid_initial_report_with_the_same_figures_shape_is_accepted(client, as_role):
    """The control case of the table above: the unchanged body is fine."""
    response = client.post("/v1/disasters", json=initial_body(
        relocated_total=300, relocated_centralized_total=120, relocated_dispersed_total=180,
        collapsed_rooms=8, collapsed_dwelling_rooms=6, collapsed_dwelling_households=3, crop_affected_ha="850.50",
        crop_damaged_ha="300.00", crop_lost_ha="40.25"), headers=as_role("county"))
    assert response.status_code == 201, response.text


# --- follow-ups ----------------------------------------------------------------------------


def test_decrease_without_explanation_is_refused_and_accepted_with_one(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, affected_population=120, deaths=2)
    before = runtime.position()
    body = {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 100}}}
    refused = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=body, headers=as_role("county"))
    error = assert_error_shape(refused, 422, "explanation_required")
    assert field_codes(error) == [(t("affected_population"), "decrease")]
    assert "120" in error["fields"][0]["message"] and "100" in error["fields"][0]["message"]
    blank = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json={**body, "explanation": "   "},
                        headers=as_role("county"))
    assert_error_shape(blank, 422, "explanation_required")
    assert runtime.position() == before

    explained = client.post(f"/v1/disasters/{disaster_id}/follow-ups",
                            json={**body, "explanation": "重复统计的村组已剔除"}, headers=as_role("county"))
    assert explained.status_code == 201, explained.text
    current = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county")).json()
    assert current["totals"] == {"affected_population": "100", "deaths": "2"}
    report = current["reports"][1]
    assert report["explanation"] == "重复统计的村组已剔除"
    assert report["jumps"] == [{"township": XIANGSHUI, "indicator": "affected_population", "previous": "120",
                                "reported": "100", "kind": "decrease"}]


def test_a_surge_needs_an_explanation_too(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, affected_population=120)
    before = runtime.position()
    body = {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 300}}}
    error = assert_error_shape(client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=body,
                                           headers=as_role("county")), 422, "explanation_required")
    assert field_codes(error) == [(t("affected_population"), "surge")]
    assert runtime.position() == before
    # An increase that does not more than double needs none.
    ok = client.post(f"/v1/disasters/{disaster_id}/follow-ups", headers=as_role("county"),
                     json={"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 200}}})
    assert ok.status_code == 201, ok.text


def test_invalid_follow_ups_are_refused_with_the_field_named(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role, crop_affected_ha="200.00", affected_population=120)
    path = f"/v1/disasters/{disaster_id}/follow-ups"
    cases = [
        ({"figures": {XIANGSHUI: {"deaths": 1}}}, "invalid_request", [("as_of", "missing")]),
        ({"as_of": ago(hours=-2), "figures": {XIANGSHUI: {"deaths": 1}}}, "invalid", [("as_of", "in_future")]),
        ({"as_of": ago(days=4), "figures": {XIANGSHUI: {"deaths": 1}}}, "invalid", [("as_of", "before_occurrence")]),
        ({"as_of": ago(days=1), "figures": {XIANGSHUI: {"deaths": 1}}, "county": COUNTY}, "invalid_request",
         [("county", "extra_forbidden")]),
        ({"as_of": ago(days=1), "figures": {"320922100": {"deaths": 1}}}, "invalid",
         [("figures.320922100", "outside_county")]),
        # The report is checked against the figures already counted: 成灾 300 > 受灾 200 of the 初报.
        ({"as_of": ago(days=1), "figures": {XIANGSHUI: {"crop_damaged_ha": "300.00"}}}, "inconsistent_figures",
         [(t("crop_damaged_ha"), "exceeds")]),
    ]
    before = runtime.position()
    for body, code, expected in cases:
        error = assert_error_shape(client.post(path, json=body, headers=as_role("county")), 422, code)
        assert field_codes(error) == expected, body
    assert runtime.position() == before


# --- malformed requests ------------------------------------------------------------------------


def test_malformed_json_is_refused_with_422(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    before = runtime.position()
    for path in ("/v1/disasters", f"/v1/disasters/{disaster_id}/follow-ups"):
        for raw in (b'{"county": ', b"not json", b"[1, 2]", b'"a string"'):
            response = client.post(path, content=raw,
                                   headers=as_role("county", **{"Content-Type": "application/json"}))
            assert_error_shape(response, 422, "invalid_request")
    assert runtime.position() == before


def test_a_non_uuid_id_in_the_path_is_refused_with_422(client, as_role, runtime):
    before = runtime.position()
    for method, path, body in [
        ("GET", "/v1/disasters/not-a-uuid", None),
        ("GET", "/v1/disasters/12345/history", None),
        ("POST", "/v1/disasters/xyz/follow-ups", {"as_of": ago(days=1), "figures": {XIANGSHUI: {"deaths": 1}}}),
        ("POST", "/v1/disasters/xyz/reports/1/accept", None),
    ]:
        error = assert_error_shape(client.request(method, path, json=body, headers=as_role("county")),
                                   422, "invalid_request")
        assert [f["field"] for f in error["fields"]] == ["disaster_id"]
    assert runtime.position() == before


def test_a_bad_report_number_is_refused(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    before = runtime.position()
    for number in ("0", "abc", "100001"):
        error = assert_error_shape(client.post(f"/v1/disasters/{disaster_id}/reports/{number}/accept",
                                               headers=as_role("city")), 422, "invalid_request")
        assert [f["field"] for f in error["fields"]] == ["number"]
    error = assert_error_shape(client.post(f"/v1/disasters/{disaster_id}/reports/9/accept", headers=as_role("city")),
                               422, "unknown_report")
    assert field_codes(error) == [("number", "unknown_report")]
    assert runtime.position() == before


# --- 404 and 405 -------------------------------------------------------------------------------


def test_an_unknown_disaster_is_404(client, as_role, runtime):
    unknown = uuid4()
    before = runtime.position()
    requests = [
        ("GET", f"/v1/disasters/{unknown}", None),
        ("GET", f"/v1/disasters/{unknown}/history", None),
        ("POST", f"/v1/disasters/{unknown}/follow-ups", {"as_of": ago(days=1), "figures": {XIANGSHUI: {"deaths": 1}}}),
        ("POST", f"/v1/disasters/{unknown}/final", {"as_of": ago(days=1), "figures": {XIANGSHUI: {"deaths": 1}}}),
        ("POST", f"/v1/disasters/{unknown}/reports/1/accept", None),
        ("POST", f"/v1/disasters/{unknown}/reports/1/return", {"reason": "请核实"}),
        ("POST", f"/v1/disasters/{unknown}/corrections", {"reason": "x", "text": "y"}),
        ("POST", f"/v1/disasters/{unknown}/stabilisation", {"stabilised_at": ago(days=1)}),
        ("POST", f"/v1/disasters/{unknown}/retraction", {"reason": "误报"}),
    ]
    for method, path, body in requests:
        error = assert_error_shape(client.request(method, path, json=body, headers=as_role("county")), 404,
                                   "not_found")
        assert str(unknown) in error["message"], path
    assert runtime.position() == before


def test_an_unknown_route_is_404_in_the_error_shape(client, as_role):
    for path in ("/v1/nothing", "/v2/disasters", f"/v1/disasters/{uuid4()}/nothing"):
        assert_error_shape(client.get(path, headers=as_role("county")), 404, "http_404")


def test_a_wrong_method_is_405_in_the_error_shape(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    before = runtime.position()
    for method, path, allowed in [
        ("PUT", f"/v1/disasters/{disaster_id}", "GET"),
        ("DELETE", f"/v1/disasters/{disaster_id}", "GET"),
        ("PATCH", f"/v1/disasters/{disaster_id}", "GET"),
        ("GET", "/v1/disasters", "POST"),
        ("GET", f"/v1/disasters/{disaster_id}/follow-ups", "POST"),
        ("DELETE", f"/v1/disasters/{disaster_id}/history", "GET"),
    ]:
        response = client.request(method, path, json={}, headers=as_role("county"))
        assert_error_shape(response, 405, "http_405")
        assert allowed in response.headers["allow"]
    assert runtime.position() == before
    assert client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county")).json()["version"] == 1


def test_conflicts_carry_the_same_shape(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)
    body = initial_body()
    error = assert_error_shape(client.post("/v1/disasters", json=body, headers=as_role("county")), 409,
                               "duplicate_process")
    assert error["details"] == {"existing_id": disaster_id}
    assert error["fields"] == []


def test_every_field_message_is_in_chinese_and_english(client, as_role) -> None:
    """Domain checks and request validation alike: `中文 / English` beside each field."""
    domain = client.post("/v1/disasters", headers=as_role("county"), json={
        "county": "320921", "hazard": "flood", "subtype": "river_flood", "occurred_at": "2026-01-02T08:00:00+08:00",
        "figures": {"320921100": {"affected_population": "many", "deaths": -1}}})
    shape = client.post("/v1/disasters", headers=as_role("county"), json={
        "county": "320921", "hazard": 5, "occurred_at": "yesterday", "figures": {}, "colour": "red"})
    for response in (domain, shape):
        assert response.status_code == 422, response.text
        for field in response.json()["error"]["fields"]:
            chinese, english = field["message"].split(" / ", 1)
            assert any("\u4e00" <= c <= "\u9fff" for c in chinese) and english.isascii(), field
    messages = {f["field"]: f["message"] for f in domain.json()["error"]["fields"]}
    assert messages["figures.320921100.affected_population"].startswith("请填写数字 / ")
    assert messages["figures.320921100.deaths"].startswith("不能为负数 / ")
    codes = {f["field"]: f["message"] for f in shape.json()["error"]["fields"]}
    assert codes["hazard"].startswith("应为文本 / ") and codes["colour"].startswith("不允许的字段 / ")
