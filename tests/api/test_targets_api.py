"""The plans' safety targets: reference figures loaded from a spreadsheet (all rows or none, with a row
report), and GraphQL's on track / off track for 响水县 with the figures (both backends).

Baselines for 2016–2020 and denominators are loaded; 2021–2025 accidents come from the ledger. The
"now" of the tracking is the year asked (2025).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.files.targets import load_file, read_rows
from ledger.accounts.service import local_operator
from ledger.runtime import LedgerRuntime
from ledger.store.errors import InvalidInput
from ledger.targets.plans import INDICATORS, Plan, Target
from ledger.targets.tracking import track
from projections.runner import ProjectionHost
from tests.api.graphql_fixtures import Api

HEADER = "区划代码,年份,地区生产总值（亿元）,生产安全事故起数,生产安全事故死亡人数,较大及以上生产安全事故起数,常住人口（人）\n"


def csv_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "figures.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def baselines() -> str:
    """响水县 2016–2020: 40 accidents, 50 dead, 2 较大以上; GDP 300 亿元 a year; 2021–2025 GDP 400."""
    rows = [f"320921,{y},300,8,10,{1 if y in (2018, 2019) else 0},520000" for y in range(2016, 2021)]
    rows += [f"320921,{y},400,,,,520000" for y in range(2021, 2026)]
    return "\n".join(rows) + "\n"


def test_a_file_with_a_bad_row_loads_nothing_and_names_each_row(runtime: LedgerRuntime, tmp_path: Path):
    before = runtime.position()
    bad = csv_file(tmp_path, "320921,2019,300,8,10,1,520000\n999999,2020,300,8,10,0,1\n320921,20x,1,1,1,1,1\n"
                             "320921,2021,-5,,,,\n")
    with pytest.raises(InvalidInput) as refused:
        load_file(runtime, local_operator(), bad, "2016-2020 统计公报")
    assert {f.field for f in refused.value.fields} == {"rows.3.jurisdiction", "rows.4.year",
                                                       "rows.5.gdp_100m_yuan"}
    assert runtime.position() == before and runtime.targets.reference("320921") is None
    reports = load_file(runtime, local_operator(), csv_file(tmp_path, baselines()), "2016-2020 统计公报")
    assert len(reports) == 10 and all(r.ok for r in reports)
    loaded = runtime.targets.reference("320921")
    assert loaded is not None and loaded.value(2018, "larger_and_above_accidents") == Decimal(1)
    assert loaded.loads[0]["label"] == "2016-2020 统计公报" and len(loaded.loads[0]["sha256"]) == 64


def test_unknown_columns_are_refused_by_name():
    with pytest.raises(InvalidInput) as refused:
        read_rows("区划代码,年份,死亡率\n320921,2020,1\n".encode(), "x.csv")
    assert [f.field for f in refused.value.fields] == ["columns.死亡率"]


def test_a_count_is_on_track_while_within_the_pace_of_the_allowed_total():
    plan = Plan("p", "规划", "", ("320921",), (2021, 2025), (2016, 2020), ())
    target = Target(INDICATORS["accident_deaths"], "cumulative_vs_previous", "约束性", True, change=Decimal("-0.15"))
    figures = {y: Decimal(10) for y in range(2016, 2021)} | {2021: Decimal(8), 2022: Decimal(9)}
    result = track(plan, "320921", target, 2022, lambda y, m: (figures[y], "reference") if y in figures else None)
    # allowed over five years: 50 × 0.85 = 42.5; pace after two years: 17; 17 dead so far → on track
    assert (result.status, result.value, result.limit, result.baseline) == (
        "on_track", Decimal("17.0000"), Decimal("17.0000"), Decimal("50.0000"))
    figures[2022] = Decimal(10)
    assert track(plan, "320921", target, 2022, lambda y, m: (figures[y], "x") if y in figures else None
                 ).status == "off_track"
    missing = track(plan, "320921", target, 2022, lambda y, m: None)
    assert missing.status == "unknown" and "2016 accident_deaths" in missing.missing


def test_a_ceiling_is_strict_when_the_plan_says_less_than():
    plan = Plan("p", "规划", "", ("500107",), (2021, 2025), (2016, 2020), ())
    strict = Target(INDICATORS["disaster_affected_per_100k"], "ceiling", "预期性", True, ceiling=Decimal(1500),
                    over="average", strict=True)
    figures = {"disaster_affected": Decimal(15000), "population": Decimal(1_000_000)}  # 1500 per 100,000
    result = track(plan, "500107", strict, 2021, lambda y, m: (figures[m], "ledger"))
    assert (result.value, result.status) == (Decimal("1500.0000"), "off_track")
    at_most = Target(strict.indicator, "ceiling", "预期性", True, ceiling=Decimal(1500), over="average")
    assert track(plan, "500107", at_most, 2021, lambda y, m: (figures[m], "ledger")).status == "on_track"


@pytest.fixture
def api(runtime: LedgerRuntime, tokens: dict[str, str]) -> Iterator[Api]:
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as client:
        yield Api(client, runtime, dict(tokens))


TRACKING = """
query($p: Int) {
  targetTracking(area: "320921", year: 2025, minPosition: $p) {
    planId jurisdiction indicator target comparison status value limit baseline comparisonStated missing
    targetsVersion referenceVersions years { year numerator denominator value sources }
  }
}
"""


def test_graphql_says_on_track_or_off_track_with_the_figures(api: Api, tmp_path: Path):
    load_file(api.runtime, local_operator(), csv_file(tmp_path, baselines()), "2016-2020 统计公报")
    for year, deaths in ((2023, 12), (2025, 25)):
        body = {"county": "320921", "township": "320921103", "unit_name": f"某企业{year}", "sector": "industry_trade",
                "occurred_at": f"{year}-05-10T10:00:00+08:00", "place": "车间", "summary": "坍塌",
                "casualties": {"deaths": deaths}, "direct_loss_fen": 0,
                "unit_reported_at": f"{year}-05-10T10:30:00+08:00"}
        response = api.client.post("/v1/accidents", json=body, headers=api.headers("county"))
        assert response.status_code == 201, response.text
        api.positions.append(response.json()["position"])
    rows = {r["indicator"]: r for r in api.data(TRACKING, {"p": api.last_position})["targetTracking"]}
    assert set(rows) == {"accidents", "accident_deaths", "deaths_per_100m_gdp", "industrial_deaths_per_100k_workers",
                         "larger_and_above_accidents", "road_deaths_per_10k_vehicles", "disaster_loss_share_of_gdp",
                         "disaster_deaths_per_million", "disaster_affected_per_100k"}
    deaths = rows["accident_deaths"]
    # 十三五: 50 dead; allowed 42.5 over five years; 37 dead in 2021–2025 → on track
    assert (deaths["status"], deaths["value"], deaths["baseline"], deaths["limit"]) == (
        "on_track", "37.0000", "50.0000", "42.5000")
    assert deaths["target"] == "下降15%" and deaths["comparisonStated"] is True
    assert [y["sources"] for y in deaths["years"] if y["year"] == 2025] == [["accident_deaths:ledger"]]
    rate = rows["deaths_per_100m_gdp"]  # 37 / 2000 亿元 = 0.0185 against 50 / 1500 × 0.65 = 0.0217
    assert (rate["status"], rate["value"], rate["limit"]) == ("on_track", "0.0185", "0.0217")
    bigger = rows["larger_and_above_accidents"]  # two 重大 in 2021–2025 against 2 × 0.85 = 1.7
    assert (bigger["status"], bigger["value"]) == ("off_track", "2.0000")
    unknown = rows["industrial_deaths_per_100k_workers"]
    assert unknown["status"] == "unknown" and "2016 industrial_accident_deaths" in unknown["missing"]
    assert rows["disaster_deaths_per_million"]["status"] == "on_track"  # no disaster recorded: 0 ≤ 1
    assert deaths["targetsVersion"] == "targets-seeds-2026.1" and deaths["referenceVersions"][0].startswith("1: ")
    assert api.error('{ targetTracking(area: "500107") { status } }')["extensions"]["code"] == "forbidden"


def test_the_command_line_loads_a_spreadsheet_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(SQLite: the CLI opens the store from its settings and loads as the local operator.)"""
    from openpyxl import Workbook
    from typer.testing import CliRunner

    from api.cli.targets import targets_cli
    from api.settings import Settings

    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("RELIEF_DATABASE_URL", "RELIEF_CIPHER_KEY", "RELIEF_TOKEN_PEPPER", "RELIEF_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    wb = Workbook()
    sheet = wb.active
    sheet.append(["区划代码", "年份", "地区生产总值（亿元）", "工矿商贸就业人员（人）", "营运车辆（辆）"])
    sheet.append(["410106", 2020, 123.45, 21000, 1800])
    sheet.append(["410106", 2021, "abc", 21500, 1850])
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    runner = CliRunner()
    refused = runner.invoke(targets_cli, ["import", str(bad), "--label", "上街区 2020-2021"])
    assert refused.exit_code == 1 and "rows.3.gdp_100m_yuan" in refused.output
    sheet.delete_rows(3)
    good = tmp_path / "good.xlsx"
    wb.save(good)
    loaded = runner.invoke(targets_cli, ["import", str(good), "--label", "上街区 2020"])
    assert loaded.exit_code == 0, loaded.output
    assert "row 2: 410106 2020 ok" in loaded.output and "1 rows loaded" in loaded.output
    with LedgerRuntime(Settings().ledger_config()) as runtime:
        figures = runtime.targets.reference("410106")
        assert figures is not None and figures.value(2020, "gdp_100m_yuan") == Decimal("123.45")
        assert [load["label"] for load in figures.loads] == ["上街区 2020"]
    plans = runner.invoke(targets_cli, ["plans", "--area", "410106"])
    assert "生产安全事故死亡人数: 下降16%" in plans.output


def test_a_county_uploads_its_reference_figures_over_rest_all_or_nothing(api: Api):
    def upload(role: str, body: str, name: str = "统计公报.csv") -> Any:
        return api.client.post("/v1/targets/reference-figures", headers=api.headers(role),
                               data={"label": "2016-2020 统计公报"},
                               files={"file": (name, (HEADER + body).encode("utf-8"), "text/csv")})

    before = api.runtime.position()
    bad = upload("county", "320921,2019,300,8,10,1,520000\n320921,20x,1,1,1,1,1\n")
    assert bad.status_code == 422 and [f["field"] for f in bad.json()["error"]["fields"]] == ["rows.3.year"]
    assert api.runtime.position() == before  # nothing loaded
    assert upload("county", "500107,2019,300,8,10,1,520000\n").status_code == 403  # outside its scope
    assert upload("auditor", baselines()).status_code == 403
    done = upload("county", baselines())
    assert done.status_code == 201, done.text
    assert (done.json()["rows"], done.json()["jurisdictions"]) == (10, ["320921"])
    loaded = api.runtime.targets.reference("320921")
    assert loaded.value(2018, "larger_and_above_accidents") == Decimal(1) and loaded.loads[0]["file_name"] == "统计公报.csv"
