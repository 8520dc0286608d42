"""Assessed households imported from a spreadsheet (倒损住房 核查台账): all or nothing, the file's own row
numbers in the report, blank rows ignored — on both backends, and through the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from api.files.housing_import import import_file
from ledger.disasters.inputs import InitialReport
from ledger.runtime import LedgerRuntime
from tests.unit.test_personal import gb11643

CHINA = ZoneInfo("Asia/Shanghai")
HEADER = ["序号", "户主姓名", "户主身份证号", "联系电话", "家庭住址", "村", "损坏程度", "间数（间）", "重建方式", "核查日期",
          "核查材料", "蓄滞洪区"]
PHOTO = "sha256:" + "ef" * 32 + " 倒塌照片.jpg"


def row(n: int, **overrides: Any) -> list[Any]:
    values = {"name": f"户主{n}", "id": gb11643(f"32092119700101{n:03d}"), "phone": f"1390000{n:04d}",
              "address": f"东园 {n} 号", "village": "320921100001", "damage": "倒塌", "rooms": 3, "mode": "原址重建",
              "on": datetime.now(CHINA).date().isoformat(), "proof": PHOTO, "flood": "否"}
    values.update(overrides)
    return [n, *values.values()]


def workbook(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["因灾倒塌损坏住房户核查台账"])  # a title row above the header
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def a_disaster(runtime: LedgerRuntime, county: Any) -> UUID:
    return runtime.disasters.file_initial(county, InitialReport(
        county="320921", hazard="flood", subtype="river_flood",
        occurred_at=datetime.now(CHINA) - timedelta(hours=2),
        figures={"320921100": {"affected_population": 100}})).id


def test_a_file_with_a_bad_row_imports_nothing_and_names_its_rows(runtime, tokens, tmp_path) -> None:
    township = runtime.accounts.authenticate(tokens["township"])
    disaster = a_disaster(runtime, runtime.accounts.authenticate(tokens["county"]))
    path = workbook(tmp_path / "bad.xlsx", [row(1), [None] * 12, row(2, rooms="三"), row(3, damage="全毁"),
                                           row(4, proof="照片")])
    before = runtime.position()
    report = import_file(runtime, township, path, disaster)
    assert not report.ok and runtime.position() == before
    assert {(p.field, p.code) for p in report.problems} == {
        ("row 5.间数", "not_a_number"), ("row 6.损坏程度", "bad_damage"), ("row 7.核查材料", "required")}


def test_a_good_file_opens_one_file_per_household_in_one_transaction(runtime, tokens, tmp_path) -> None:
    township = runtime.accounts.authenticate(tokens["township"])
    disaster = a_disaster(runtime, runtime.accounts.authenticate(tokens["county"]))
    path = workbook(tmp_path / "good.xlsx", [row(1), [None] * 12, row(2, damage="一般损坏", mode="维修加固", rooms=1),
                                            row(3, flood="是")])
    report = import_file(runtime, township, path, disaster)
    assert report.ok and len(report.case_ids) == 3
    cases = [runtime.app.repository.get(i) for i in report.case_ids]
    assert [(c.damage, c.mode, c.flood_storage) for c in cases] == [
        ("collapsed", "in_situ", False), ("general", "repair", False), ("collapsed", "in_situ", True)]
    assert cases[0].evidence[0]["type"] == "image/jpeg"
    again = import_file(runtime, township, path, disaster)  # the same heads again: refused, row by row
    assert {p.code for p in again.problems} == {"duplicate_case"} and len(again.problems) == 3


def test_the_command_line_imports_as_a_named_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from api.cli.app import cli
    from api.cli.common import open_runtime
    from api.settings import Settings

    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RELIEF_DEMO", "false")
    monkeypatch.delenv("RELIEF_DATABASE_URL", raising=False)
    runner = CliRunner()
    for name, role, scope in (("xs-town", "township", "320921100"), ("xs-county", "county", "320921")):
        assert runner.invoke(cli, ["accounts", "add", name, "--role", role, "--scope", scope]).exit_code == 0
    with open_runtime(Settings()) as runtime:
        disaster = a_disaster(runtime, runtime.accounts.get("xs-county").as_actor())
    bad = workbook(tmp_path / "bad.xlsx", [row(1), row(2, rooms="x")])
    refused = runner.invoke(cli, ["housing", "import", str(bad), "--account", "xs-town", "--disaster", str(disaster)])
    assert refused.exit_code == 1 and "row 4.间数" in refused.output
    good = workbook(tmp_path / "good.xlsx", [row(1), row(2)])
    done = runner.invoke(cli, ["housing", "import", str(good), "--account", "xs-town", "--disaster", str(disaster)])
    assert done.exit_code == 0 and "Imported 2 housing files" in done.output, done.output


def test_the_demo_data_has_housing_files_for_the_seed_county(runtime, tmp_path) -> None:
    from api.demo import load_demo
    from ledger.housing.case import HousingCase

    load_demo(runtime, tmp_path)
    files = [runtime.app.repository.get(n.originator_id) for n in runtime.app.recorder.select_notifications(1, 10_000)
             if n.topic.endswith("HousingCase.Applied")]
    assert all(isinstance(f, HousingCase) and f.county == "320921" for f in files)
    assert sorted(f.step.value for f in files) == ["applied", "deliberated", "posted"]
