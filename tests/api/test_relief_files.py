"""Relief spreadsheets over HTTP, on SQLite and PostgreSQL: importing 户报 from .xlsx / .csv
(all rows or none, every bad row named) and downloading the 花名册 (应急统表10, masked).

The township account (响水镇 320921100) imports for its villages 320921100xxx.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from api.app import create_app
from api.files.relief_import import header_name
from api.rest import relief_files
from ledger.personal.identifiers import id_check_digit, mask_id
from ledger.runtime import LedgerRuntime
from projections.registry import PROJECTIONS
from projections.runner import ProjectionHost

PERIOD = f"{datetime.now(ZoneInfo('Asia/Shanghai')).year}-{datetime.now(ZoneInfo('Asia/Shanghai')).year + 1}"  # this winter's season
VILLAGE = "320921100001"  # 响水镇 东园居委会
OTHER_TOWNSHIP_VILLAGE = "320921101001"  # 陈家港镇 海安居委会: outside the township account
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["序号", "户主姓名（D03001）", "户主身份证号（D03002）", "户主联系方式（D03003）", "家庭类型（D03004）",
          "家庭人口（人）（D03005）", "家庭住址（D03006）", "需救助人口（人）（D03007）", "村", "一卡通账号",
          "致灾原因", "救助需求"]
OFFICIAL = ["序号", "户主姓名", "户主身份证号", "户主联系方式", "家庭类型", "家庭人口", "家庭住址", "需救助人口",
            "已发放救助款", "已发放救助物资折款", "救助资金发放形式"]

needs_roster = pytest.mark.skipif("roster" not in PROJECTIONS, reason="the roster projection is not registered")


def an_id(seq: int) -> str:
    first17 = f"32092119{70 + seq // 300:02d}0101{seq % 300:03d}"
    return first17 + id_check_digit(first17)


def a_card(seq: int) -> str:
    partial = f"62170000100{seq:08d}"
    for d in "0123456789":
        digits = [int(c) for c in partial + d][::-1]
        if sum(x if i % 2 == 0 else (x * 2 - 9 if x * 2 > 9 else x * 2) for i, x in enumerate(digits)) % 10 == 0:
            return partial + d
    raise AssertionError


def household(seq: int, **changes: Any) -> list[Any]:
    cells = {"seq": seq, "name": f"王{seq}", "id": an_id(seq), "phone": f"139{seq:08d}", "type": "一般户",
             "size": 4, "address": f"响水镇东园居委会 {seq} 号", "need": 3, "village": VILLAGE, "card": a_card(seq),
             "causes": "倒房、减产绝收", "needs": "口粮,取暖"}
    cells.update(changes)
    return list(cells.values())


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["受灾人员冬春生活政府救助人口一览表（应急统表10）"])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def gb18030_csv(rows: list[list[Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return text.getvalue().encode("gb18030")


def with_files_router(app: FastAPI) -> FastAPI:
    if not any(getattr(r, "path", "") == "/v1/relief/imports" for r in app.routes):
        app.include_router(relief_files.router)  # until api/app.py registers it
    return app


@pytest.fixture
def files_client(runtime: LedgerRuntime) -> Iterator[TestClient]:
    """The app with the roster projection running in the process, as `serve` runs it."""
    names = ["roster"] if "roster" in PROJECTIONS else []
    host = ProjectionHost(runtime, names) if names else None
    with TestClient(with_files_router(create_app(runtime, host=host)), raise_server_exceptions=False) as client:
        yield client


def auth(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def upload(client: TestClient, tokens: dict[str, str], content: bytes, name: str = "户报.xlsx",
           role: str = "township", **form: str) -> Any:
    return client.post("/v1/relief/imports", headers=auth(tokens, role),
                       data={"programme": "winter_spring", "period": PERIOD, **form},
                       files={"file": (name, content, XLSX if name.endswith(".xlsx") else "text/csv")})


def problems(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields", "details"} and " / " in error["message"]
    return {(f["field"], f["code"]) for f in error["fields"]}


# --- import ---------------------------------------------------------------------------------------


def test_a_file_with_good_and_bad_rows_imports_nothing_and_names_each_bad_row(
        files_client: TestClient, tokens: dict[str, str], runtime: LedgerRuntime) -> None:
    bad_check = an_id(4)[:-1] + ("0" if an_id(4)[-1] != "0" else "1")
    rows = [
        household(1),  # row 3: good
        household(2, id=bad_check),  # row 4: wrong check character
        household(3, village=OTHER_TOWNSHIP_VILLAGE),  # row 5: another township's village
        household(4, id=an_id(1)),  # row 6: the same head as row 3
        household(5, size="四口"),  # row 7: not a number
        household(6, need=9),  # row 8: more people in need than in the household
        household(7, phone=""),  # row 9: empty cell
        household(8, id=3.20921197001011e17),  # row 10: typed into a number cell, digits lost
        household(9, card="6217000010012345678"),  # row 11: fails the Luhn check
        household(10),  # row 12: good
    ]
    before = runtime.position()

    response = upload(files_client, tokens, xlsx(rows))

    assert problems(response) == {
        ("row 4.户主身份证号", "bad_id_number"),
        ("row 5.村", "forbidden"),
        ("row 6.户主身份证号", "duplicate_in_file"),
        ("row 7.家庭人口", "not_a_whole_number"),
        ("row 8.需救助人口", "out_of_range"),
        ("row 9.户主联系方式", "required"),
        ("row 10.户主身份证号", "stored_as_number"),
        ("row 11.一卡通账号", "bad_card_number"),
    }
    error = response.json()["error"]
    assert error["code"] == "import_rejected"
    assert error["details"]["rows"] == 10 and error["details"]["bad_rows"] == 8
    assert "row 3" in next(f["message"] for f in error["fields"] if f["field"] == "row 6.户主身份证号")
    assert runtime.position() == before
    for seq in range(1, 11):  # no clear number in the report
        for clear in (an_id(seq), f"139{seq:08d}", a_card(seq)):
            assert clear not in response.text


def test_blank_and_pre_numbered_rows_are_ignored_and_rows_are_named_as_the_spreadsheet_numbers_them(
        files_client: TestClient, tokens: dict[str, str], runtime: LedgerRuntime) -> None:
    rows = [household(1), [None] * len(HEADER), [3] + [None] * (len(HEADER) - 1), ["4", "", " "], household(5)]
    response = upload(files_client, tokens, xlsx(rows))  # rows 3 … 7 of the sheet; 4, 5 and 6 are blank
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2

    csv_rows = [household(11), ["12"] + [""] * (len(HEADER) - 1), [], household(14, phone="")]
    refused = upload(files_client, tokens, gb18030_csv(csv_rows), name="户报.csv")  # header on line 1
    assert problems(refused) == {("row 5.户主联系方式", "required")}
    assert refused.json()["error"]["details"]["rows"] == 2


def test_an_all_good_file_imports_every_row_as_one_transaction(
        files_client: TestClient, tokens: dict[str, str], runtime: LedgerRuntime) -> None:
    before = runtime.position()
    rows = [household(i) for i in range(1, 26)]
    rows[4] = household(5, village=f"{VILLAGE} 东园居委会", size="4人", phone=13900000005)
    response = upload(files_client, tokens, xlsx(rows))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["imported"] == 25 and len(body["case_ids"]) == 25
    assert body["position"] > before

    case = files_client.get(f"/v1/relief/cases/{body['case_ids'][2]}", headers=auth(tokens, "county")).json()
    assert (case["head_name"], case["village"], case["stage"]) == ("王3", VILLAGE, "applied")
    assert case["id_number"] == mask_id(an_id(3))
    assert (case["household_size"], case["people_in_need"]) == (4, 3)
    assert case["causes"] == ["倒房", "减产绝收"] and case["needs"] == ["口粮", "取暖"]
    fifth = files_client.get(f"/v1/relief/cases/{body['case_ids'][4]}", headers=auth(tokens, "county")).json()
    assert (fifth["village"], fifth["household_size"]) == (VILLAGE, 4)

    again = upload(files_client, tokens, xlsx([household(1), household(26)]))
    assert problems(again) == {("row 3.户主身份证号", "duplicate_case")}
    assert runtime.position() == body["position"]


def test_a_gb18030_csv_without_a_title_row_is_imported(files_client: TestClient, tokens: dict[str, str]) -> None:
    response = upload(files_client, tokens, gb18030_csv([household(1), household(2, causes="")]), name="户报.csv")
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2


def test_only_accounts_that_file_applications_may_import(files_client: TestClient, tokens: dict[str, str],
                                                         runtime: LedgerRuntime) -> None:
    before = runtime.position()
    for role in ("auditor", "city"):
        response = upload(files_client, tokens, xlsx([household(1)]), role=role)
        assert response.status_code == 403, response.text
    assert upload(files_client, {"x": "rl_nonsense"}, b"", role="x").status_code == 401
    assert runtime.position() == before


def test_unreadable_files_and_missing_columns_are_422(files_client: TestClient, tokens: dict[str, str]) -> None:
    assert problems(upload(files_client, tokens, b"not a workbook", name="x.xls")) == {("file", "unsupported_file")}
    assert problems(upload(files_client, tokens, b"PK\x03\x04garbage", name="x.xlsx")) == {("file", "unreadable_file")}
    header_only = "户主姓名,户主身份证号,家庭人口\n".encode()
    assert ("row 1.村", "missing_column") in problems(upload(files_client, tokens, header_only, name="x.csv"))
    empty = upload(files_client, tokens, xlsx([]))
    assert problems(empty) == {("file", "empty")}
    bad_period = upload(files_client, tokens, xlsx([household(1)]), period="2025/26")
    assert bad_period.status_code == 422


# --- the roster download ---------------------------------------------------------------------------


@needs_roster
def test_the_roster_downloads_as_an_official_xlsx_with_masked_numbers(
        files_client: TestClient, tokens: dict[str, str]) -> None:
    imported = upload(files_client, tokens, xlsx([household(i) for i in range(1, 6)]))
    assert imported.status_code == 201, imported.text

    response = files_client.get("/v1/relief/roster.xlsx", headers=auth(tokens, "township"),
                                params={"programme": "winter_spring", "period": PERIOD, "area": "320921100"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "受灾人员冬春生活政府救助人口一览表（应急统表10）"
    assert "320921100" in rows[1][0]
    assert [header_name(h) for h in rows[2][:11]] == OFFICIAL
    assert [h.split("\n")[1] for h in rows[2][1:11]] == [f"D030{i:02d}" for i in range(1, 11)]
    data = rows[3:]
    assert sorted(r[1] for r in data) == [f"王{i}" for i in range(1, 6)]
    assert [r[0] for r in data] == [1, 2, 3, 4, 5]
    by_name = {r[1]: r for r in data}
    assert by_name["王2"][2] == mask_id(an_id(2))
    assert by_name["王2"][8] == 0 and by_name["王2"][10] == "一卡通" and by_name["王2"][13] == "户报"
    cells = " ".join(str(v) for r in data for v in r)
    for i in range(1, 6):
        assert an_id(i) not in cells and f"139{i:08d}" not in cells and a_card(i) not in cells


@needs_roster
def test_the_roster_is_refused_outside_the_callers_scope(files_client: TestClient, tokens: dict[str, str]) -> None:
    params = {"programme": "winter_spring", "period": PERIOD}
    county = files_client.get("/v1/relief/roster.xlsx", headers=auth(tokens, "township"),
                              params={**params, "area": "320921"})
    assert county.status_code == 403, county.text
    assert county.json()["error"]["code"] == "forbidden"
    auditor = files_client.get("/v1/relief/roster.xlsx", headers=auth(tokens, "auditor"),
                               params={**params, "area": "320921"})
    assert auditor.status_code == 200, auditor.text
    unknown = files_client.get("/v1/relief/roster.xlsx", headers=auth(tokens, "county"),
                               params={**params, "area": "320921999"})
    assert unknown.status_code == 422, unknown.text


@needs_roster
def test_without_projections_in_the_process_the_roster_is_brought_up_to_date_on_request(
        runtime: LedgerRuntime, tokens: dict[str, str]) -> None:
    with TestClient(with_files_router(create_app(runtime)), raise_server_exceptions=False) as client:
        assert upload(client, tokens, xlsx([household(1), household(2)])).status_code == 201
        response = client.get("/v1/relief/roster.xlsx", headers=auth(tokens, "county"),
                              params={"programme": "winter_spring", "period": PERIOD, "area": "320921"})
    assert response.status_code == 200, response.text
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=4, values_only=True))
    assert sorted(r[1] for r in rows) == ["王1", "王2"]


# --- the command line ---------------------------------------------------------------------------------


def test_the_command_line_imports_as_a_named_account_and_exports_masked_or_revealed(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """(SQLite: the CLI opens the store from its settings.)"""
    import typer
    from typer.testing import CliRunner

    from api.cli.app import cli as base_cli
    from api.cli.relief import relief_cli

    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RELIEF_DEMO", "false")
    monkeypatch.delenv("RELIEF_DATABASE_URL", raising=False)
    app = typer.Typer()
    app.add_typer(base_cli, name="base")
    app.add_typer(relief_cli, name="relief")
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args))

    for name, role, scope in (("xs-town", "township", "320921100"), ("xs-county", "county", "320921"),
                              ("xs-audit", "auditor", "3209")):
        assert run("base", "accounts", "add", name, "--role", role, "--scope", scope).exit_code == 0
    bad, good = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    bad.write_bytes(xlsx([household(1), household(2, size="x")]))
    good.write_bytes(xlsx([household(i) for i in range(1, 4)]))

    refused = run("relief", "import", str(bad), "--account", "xs-town", "--period", PERIOD)
    assert refused.exit_code == 1 and "家庭人口" in refused.output and "not_a_whole_number" in refused.output
    imported = run("relief", "import", str(good), "--account", "xs-town", "--period", PERIOD)
    assert imported.exit_code == 0 and "Imported 3 applications" in imported.output

    masked = run("relief", "export-roster", str(tmp_path / "m.xlsx"), "--period", PERIOD, "--area", "320921100")
    assert masked.exit_code == 0, masked.output
    values = [r for r in load_workbook(tmp_path / "m.xlsx").active.iter_rows(min_row=4, values_only=True)]
    assert sorted(r[2] for r in values) == sorted(mask_id(an_id(i)) for i in range(1, 4))

    assert run("relief", "export-roster", str(tmp_path / "x.xlsx"), "--period", PERIOD, "--area", "320921",
               "--reveal", "--account", "xs-audit", "--purpose", "核对").exit_code == 1
    assert run("relief", "export-roster", str(tmp_path / "x.xlsx"), "--period", PERIOD, "--area", "320921",
               "--reveal", "--account", "xs-county").exit_code == 1
    revealed = run("relief", "export-roster", str(tmp_path / "r.xlsx"), "--period", PERIOD, "--area", "320921",
                   "--reveal", "--account", "xs-county", "--purpose", "发放前核对一卡通账号")
    assert revealed.exit_code == 0, revealed.output
    values = [r for r in load_workbook(tmp_path / "r.xlsx").active.iter_rows(min_row=4, values_only=True)]
    assert sorted(r[2] for r in values) == sorted(an_id(i) for i in range(1, 4))
    assert sorted(r[12] for r in values) == sorted(a_card(i) for i in range(1, 4))

    from api.cli.common import open_runtime
    from api.settings import Settings

    with open_runtime(Settings()) as rt:
        viewed = [n for n in rt.app.recorder.select_notifications(start=1, limit=10_000)
                  if "PersonalDataExported" in n.topic]
    assert len(viewed) == 1  # one record for the whole export, none for the refused ones

    stats = run("relief", "export-statistics", str(tmp_path / "s.xlsx"), "--period", PERIOD, "--area", "320921")
    assert stats.exit_code == 0, stats.output
    assert load_workbook(tmp_path / "s.xlsx").active["A3"].value == "区划代码"


def test_a_spreadsheet_cell_holding_control_characters_is_refused_with_its_row(
        files_client: TestClient, tokens: dict[str, str], runtime: LedgerRuntime) -> None:
    before = runtime.position()
    rows = [household(1), household(2, name="王\x00二"), household(3, address="东园\x1b[31m")]
    response = upload(files_client, tokens, gb18030_csv(rows), name="户报.csv")
    assert problems(response) == {("row 3.户主姓名", "bad_text"), ("row 4.家庭住址", "bad_text")}
    assert runtime.position() == before
