"""GET /v1/audit/report over HTTP, on SQLite and PostgreSQL: who may read it, the three formats, the seal.

The rule: auditors, and county, city and province accounts, for a province,
city or county within their scope; township staff, relief officers and
administrators get 403. Bad dates, a period that ends before it starts and an
area finer than a county are 422. The scenario is the one of
tests/unit/test_accountability.py; the `tokens` fixture adds the accounts of
each role (their registration and tokens, by the local operator, are actions
in the area when the account's scope lies in it).
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.files.accountability import check_jsonl
from api.rest import accountability
from ledger.audit.accountability_sections import SECTION_KEYS, SECTIONS
from ledger.audit.seal import parse_digest
from projections.audit.seal import Sealer
from tests.unit.test_accountability import (
    COUNTY,
    Scenario,
    actions,
    assert_no_clear_personal_data,
    assert_scenario_sections,
    scenario,
    xlsx_text,
)

URL = "/v1/audit/report"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(runtime):
    """The app, with the report's router added while api/app.py does not include it yet."""
    app = create_app(runtime)
    if URL not in app.openapi()["paths"]:
        app.include_router(accountability.router)
    app.openapi_schema = None  # computed again on first use, with every route
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def done(runtime, tokens) -> Scenario:
    return scenario(runtime)


def params(s: Scenario, **extra: str) -> dict[str, str]:
    return {"area": COUNTY, "date_from": str(s.today - timedelta(days=2)), "date_to": str(s.today), **extra}


def operator_actions(runtime) -> dict[tuple[str, str, str], dict[str, int]]:
    """The tokens fixture: test-township, test-county and test-relief_officer lie in 响水县."""
    from ledger.accounts.service import local_operator

    name = local_operator().username
    return {(name, "admin", "000000000000"): {"Account.Registered": 3, "Account.TokenIssued": 3}}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields", "details"}
    if code is not None:
        assert error["code"] == code, error
    return error


def test_an_auditor_gets_the_report_as_json_and_nothing_is_written(client, as_role, runtime, done):
    head = runtime.position()
    response = client.get(URL, headers=as_role("auditor"), params=params(done))
    assert response.status_code == 200, response.text
    body = response.json()
    assert runtime.position() == head  # auditors are read-only: the ledger did not grow
    assert (body["area"], body["area_name"], body["position"]) == (COUNTY, "响水县", head)
    assert list(body["sections"]) == list(SECTION_KEYS)
    assert_scenario_sections(body["sections"], done, operator_actions(runtime))
    assert actions(body["sections"]["actions_per_account"])  # the helper reads plain rows too
    assert parse_digest(body["seal"][0]).position == head
    assert body["counts"]["returned_or_reversed"] == 2
    assert_no_clear_personal_data(response.text)


@pytest.mark.parametrize("role, area", [
    ("auditor", COUNTY), ("auditor", "3209"), ("county", COUNTY), ("city", COUNTY), ("city", "3209"),
    ("province", "32"),
])
def test_auditors_and_the_levels_above_the_township_read_within_their_scope(client, as_role, done, role, area):
    response = client.get(URL, headers=as_role(role), params=params(done, area=area))
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["above_standard"] == 1


@pytest.mark.parametrize("role, area", [
    ("township", COUNTY), ("township", "320921"), ("relief_officer", COUNTY), ("admin", COUNTY),
    ("auditor", "32"), ("auditor", "3202"), ("county", "3209"), ("city", "32"),
])
def test_other_roles_and_areas_outside_the_scope_get_403(client, as_role, runtime, done, role, area):
    head = runtime.position()
    for fmt in ("json", "xlsx", "jsonl"):
        assert_error(client.get(URL, headers=as_role(role), params=params(done, area=area, format=fmt)), 403)
    assert runtime.position() == head


def test_bad_dates_periods_areas_and_formats_are_422(client, as_role, done):
    auditor = as_role("auditor")
    error = assert_error(client.get(URL, headers=auditor, params=params(done, date_from="2026-02-30")), 422,
                         "invalid_request")
    assert [f["field"] for f in error["fields"]] == ["date_from"]
    assert_error(client.get(URL, headers=auditor, params=params(done, date_to="yesterday")), 422)
    error = assert_error(client.get(URL, headers=auditor, params=params(
        done, date_from=str(done.today), date_to=str(done.today - timedelta(days=1)))), 422)
    assert error["fields"][0]["field"] == "date_from"
    assert_error(client.get(URL, headers=auditor, params={"area": COUNTY}), 422)
    for first, last in (("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31"), ("1900-01-01", "1900-12-31")):
        error = assert_error(client.get(URL, headers=auditor, params=params(done, date_from=first, date_to=last)),
                             422)
        assert error["fields"][0]["code"] == "out_of_range"
    for area in ("320921100", "320921100001", "abc", "320999"):
        assert_error(client.get(URL, headers=auditor, params=params(done, area=area)), 422)
    assert_error(client.get(URL, headers=auditor, params=params(done, format="csv")), 422)
    assert_error(client.get(URL, params=params(done)), 401)


def test_the_xlsx_download_has_the_sheets_and_no_clear_personal_data(client, as_role, runtime, done):
    head = runtime.position()
    response = client.get(URL, headers=as_role("auditor"), params=params(done, format="xlsx"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["x-ledger-position"] == str(head) and runtime.position() == head
    wb = load_workbook(io.BytesIO(response.content), read_only=True)
    assert wb.sheetnames == ["封面", *[s.title for s in SECTIONS]]
    cover = dict(tuple(row) for row in wb["封面"].iter_rows(min_row=3, values_only=True) if row[0] != "封存摘要 seal")
    assert cover["账本位置 position"] == head
    assert len(list(wb["退回冲正"].iter_rows(values_only=True))) == 3 + 2
    wb.close()
    assert_no_clear_personal_data(xlsx_text(response.content))


def test_the_jsonl_bundle_carries_a_seal_digest_the_store_verifies(client, as_role, runtime, done):
    head = runtime.position()
    response = client.get(URL, headers=as_role("auditor"), params=params(done, format="jsonl"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert runtime.position() == head
    data = response.content
    assert check_jsonl(data)
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    header, body = lines[0], lines[1:-1]
    assert header["type"] == "header" and header["position"] == head
    assert [parse_digest(line).position for line in header["seal"]] == [head]
    with Sealer(runtime) as sealer:
        assert sealer.verify(header["seal"][0]).ok
    rows = {key: [{k: v for k, v in r.items() if k != "type"} for r in body if r["type"] == key] for key in SECTION_KEYS}
    assert_scenario_sections(rows, done, operator_actions(runtime))
    assert_no_clear_personal_data(data.decode("utf-8"))


def test_the_county_of_another_province_sees_only_its_own_report(client, as_role, runtime, done):
    from ledger.accounts.service import local_operator

    runtime.accounts.register(local_operator(), "jlp-auditor", "auditor", "5001")
    token, _ = runtime.accounts.issue_token(local_operator(), "jlp-auditor")
    response = client.get(URL, headers={"Authorization": f"Bearer {token}"}, params=params(done, area="500107"))
    assert response.status_code == 200, response.text
    sections = response.json()["sections"]
    assert [r["disaster_id"] for r in sections["late_and_missing"]] == [str(done.other)]
    assert [r["case_id"] for r in sections["above_standard"]] == [str(done.other_case)]
    assert str(done.late) not in response.text and str(done.case_above) not in response.text
    assert_error(client.get(URL, headers={"Authorization": f"Bearer {token}"}, params=params(done)), 403)
