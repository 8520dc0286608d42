"""Relief spreadsheets without a database: the 应急统表10 roster layout, exact money, masking,
streaming, and reading applications back from .xlsx and .csv files."""

from __future__ import annotations

import io
import re
import tracemalloc
import weakref
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from api.files.relief import EXTRA_COLUMNS, ROSTER_COLUMNS, ROSTER_TITLE, write_roster, write_statistics
from api.files.relief_import import header_name, read_applications
from api.files.sheets import write_table, yuan
from ledger.personal.identifiers import id_check_digit, mask_card, mask_id, mask_phone
from ledger.store.errors import InvalidInput

OFFICIAL = [
    ("序号", ""), ("户主姓名", "D03001"), ("户主身份证号", "D03002"), ("户主联系方式", "D03003"),
    ("家庭类型", "D03004"), ("家庭人口", "D03005"), ("家庭住址", "D03006"), ("需救助人口", "D03007"),
    ("已发放救助款", "D03008"), ("已发放救助物资折款", "D03009"), ("救助资金发放形式", "D03010"),
]


def an_id(seq: int) -> str:
    first17 = f"32092119800101{seq % 1000:03d}"
    return first17 + id_check_digit(first17)


def a_card(seq: int) -> str:
    partial = f"621700001{seq:09d}"
    for d in "0123456789":
        digits = [int(c) for c in partial + d][::-1]
        if sum(x if i % 2 == 0 else (x * 2 - 9 if x * 2 > 9 else x * 2) for i, x in enumerate(digits)) % 10 == 0:
            return partial + d
    raise AssertionError


def roster_row(seq: int, **overrides: Any) -> dict[str, Any]:
    """A row as the roster view gives it; the 'ciphers' here are tagged clear values."""
    id_number, phone, card = an_id(seq), f"138{seq:08d}", a_card(seq)
    row = {
        "head_name": f"张{seq}", "id_masked": mask_id(id_number), "id_cipher": f"enc:{id_number}",
        "phone_masked": mask_phone(phone), "phone_cipher": f"enc:{phone}", "card_masked": mask_card(card),
        "card_cipher": f"enc:{card}", "household_type": "低保户", "household_size": 4,
        "address": f"响水镇东园居委会 {seq} 号", "people_in_need": 3, "paid_fen": 90050, "goods_fen": 12000,
        "payment_form": "一卡通", "stage": "paid", "village": "320921100001", "township": "320921100",
        "county": "320921", "approved_fen": 90050,
    }
    return {**row, **overrides}


def decrypt(cipher: str) -> str:
    assert cipher.startswith("enc:")
    return cipher.removeprefix("enc:")


def written(rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    out = io.BytesIO()
    write_roster(rows, out, **kwargs)
    out.seek(0)
    return load_workbook(out).active, out


# --- the layout ---------------------------------------------------------------------------------


def test_the_roster_has_the_title_and_the_official_columns_with_their_codes_in_order() -> None:
    ws, _ = written([roster_row(1)])
    assert ws["A1"].value == ROSTER_TITLE == "受灾人员冬春生活政府救助人口一览表（应急统表10）"
    headers = [c.value for c in ws[2]]
    assert [header_name(h) for h in headers[:11]] == [name for name, _ in OFFICIAL]
    for header, (name, code) in zip(headers, OFFICIAL, strict=False):
        assert header.startswith(name)
        assert code in header
    assert "（人）" in headers[5] and "（人）" in headers[7]
    assert "（元）" in headers[8] and "（元）" in headers[9]
    assert headers[11:] == ["村", "一卡通账号", "案件状态"]
    assert len(ROSTER_COLUMNS) == 11 and [c.name for c in EXTRA_COLUMNS] == ["村", "一卡通账号", "案件状态"]


def test_a_subtitle_goes_between_the_title_and_the_header_and_extras_can_be_left_out() -> None:
    ws, _ = written([roster_row(1)], subtitle="填报单位：响水镇（320921100）", extras=False)
    assert ws["A2"].value == "填报单位：响水镇（320921100）"
    assert header_name(ws["K3"].value) == "救助资金发放形式"
    assert ws.max_column == 11
    assert ws["B4"].value == "张1" and ws["A4"].value == 1


def test_money_is_exact_yuan_with_two_decimals() -> None:
    rows = [roster_row(1, paid_fen=90050, goods_fen=1), roster_row(2, paid_fen=123456789012345, goods_fen=0),
            roster_row(3, paid_fen=10, goods_fen=99999), roster_row(4, paid_fen=830, goods_fen=1_000_000_000_000_07)]
    ws, out = written(rows)
    assert [ws.cell(r, 9).number_format for r in (3, 4, 5)] == ["0.00"] * 3
    assert ws["I3"].value == 900.5 and ws["J3"].value == 0.01
    # the stored text is the exact decimal, never a binary float's expansion
    sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    values = re.findall(r'<c r="[IJ]\d+"[^>]*><v>([^<]*)</v>', sheet_xml)
    assert values == ["900.50", "0.01", "1234567890123.45", "0.00", "0.10", "999.99", "8.30",
                      "1000000000000.07"]
    assert yuan(1) == Decimal("0.01") and yuan(-250) == Decimal("-2.50")


def test_personal_numbers_are_masked_unless_a_decryptor_is_given() -> None:
    ws, out = written([roster_row(7)])
    assert ws["C3"].value == mask_id(an_id(7)) and "*" in ws["C3"].value
    assert ws["D3"].value == mask_phone("13800000007")
    assert ws["M3"].value == mask_card(a_card(7))
    raw = b"".join(zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist())
    for clear in (an_id(7), "13800000007", a_card(7), b"enc:".decode()):
        assert clear.encode() not in raw

    ws, _ = written([roster_row(7)], reveal=decrypt)
    assert (ws["C3"].value, ws["D3"].value, ws["M3"].value) == (an_id(7), "13800000007", a_card(7))


def test_the_stage_is_shown_in_chinese_and_text_never_becomes_a_formula() -> None:
    ws, _ = written([roster_row(1, address='=HYPERLINK("http://x","y")', head_name="#N/A", stage="township_reviewed")])
    assert ws["G3"].value == '=HYPERLINK("http://x","y")' and ws["G3"].data_type == "s"
    assert ws["B3"].data_type == "s"
    assert ws["N3"].value == "乡审通过"


def test_progress_is_reported_in_rows() -> None:
    seen: list[int] = []
    count = write_roster((roster_row(i) for i in range(2500)), io.BytesIO(), progress=seen.append)
    assert count == 2500 and sum(seen) == 2500


def test_twenty_thousand_rows_stream_without_being_held(tmp_path: Path) -> None:
    class Row(dict[str, Any]):  # a dict that can be watched with a weak reference
        pass

    alive = most_alive = 0

    def freed() -> None:
        nonlocal alive
        alive -= 1

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal alive, most_alive
        for i in range(20_000):
            row = Row(roster_row(i))
            weakref.finalize(row, freed)
            alive += 1
            most_alive = max(most_alive, alive)
            yield row

    count = write_roster(rows(), tmp_path / "big.xlsx")
    assert count == 20_000
    assert most_alive <= 2, f"{most_alive} rows were held in memory at once"
    ws = load_workbook(tmp_path / "big.xlsx", read_only=True).active
    last = None
    for last in ws.iter_rows(min_row=20_002, values_only=True):
        pass
    assert last is not None and last[0] == 20_000 and last[1] == "张19999"


def test_the_writer_allocates_little_memory(tmp_path: Path) -> None:
    """(tracemalloc slows the writer tenfold: 2,000 rows here; 100,000 peaked at 0.5 MiB.)"""
    tracemalloc.start()
    try:
        write_roster((roster_row(i) for i in range(2_000)), tmp_path / "r.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_a_statistics_table_has_a_totals_row() -> None:
    out = io.BytesIO()
    write_table("表", ["代码", "名称", "户数", "金额（元）"],
                [["320921100", "响水镇", 2, yuan(150)], ["320921101", "陈家港镇", 3, yuan(5)]], out, totals_from=2)
    out.seek(0)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][0] == "表" and list(rows[1]) == ["代码", "名称", "户数", "金额（元）"]
    assert rows[-1] == ("合计", None, 5, 1.55)


def test_the_winter_spring_statistics_are_written_per_child_area() -> None:
    result = SimpleNamespace(breakdown={"320921100": {"need_households": 2, "need_people": 5, "aided_households": 1,
                                                      "aided_people": 3, "paid_fen": 90050, "goods_fen": 0}})

    out = io.BytesIO()
    assert write_statistics(result, out, {"320921100": "响水镇"}.get) == 1
    out.seek(0)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[2] == ("320921100", "响水镇", 2, 5, 1, 3, 900.5, 0)
    assert rows[3][0] == "合计"


# --- reading ----------------------------------------------------------------------------------


IMPORT_HEADER = ["序号", "户主姓名\n(D03001)", "户主身份证号（D03002）", " 户主联系方式 D03003", "家庭类型",
                 "家庭人口（人）(D03005)", "家庭住址", "需救助人口\n（人）", "已发放救助款（元）", "村（社区）代码",
                 "一卡通账号", "致灾原因", "救助需求"]


def application_row(seq: int) -> list[Any]:
    return [seq, f"李{seq}", an_id(seq), f"138{seq:08d}", "一般户", 3, f"东园 {seq} 号", 2, "",
            "320921100001", a_card(seq), "倒房、减产绝收", "口粮,取暖"]


def test_header_names_are_matched_without_codes_units_and_whitespace() -> None:
    assert header_name("户主姓名\n(D03001)") == "户主姓名"
    assert header_name("家庭人口（人）（D03005）") == "家庭人口"
    assert header_name(" 需救助 人口 (人)\tD03007 ") == "需救助人口"
    assert header_name("已发放救助物资折款（元）\nD03009") == "已发放救助物资折款"


def test_an_xlsx_with_a_title_row_is_read_from_its_roster_sheet_with_file_row_numbers(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "填表说明"
    wb.active.append(["身份证号、一卡通账号请以文本格式填写"])
    ws = wb.create_sheet("花名册")
    ws.append(["受灾人员冬春生活政府救助人口一览表（应急统表10）"])
    ws.append(IMPORT_HEADER)
    ws.append(["甲", "D03001", "D03002", "D03003", "D03004", "D03005", "D03006", "D03007", "D03008", 1, 2, 3])
    ws.append(application_row(1))
    ws.append([])
    ws.append(application_row(2))
    ws.append(["合计", "", "", "", "", 6, "", 4])
    ws.append(["填表人：王五    审核人：赵六"])
    wb.save(tmp_path / "in.xlsx")

    rows = read_applications(tmp_path / "in.xlsx", "winter_spring", "2025-2026")
    assert [n for n, _ in rows] == [4, 6]
    first = rows[0][1]
    assert first["head_name"] == "李1" and first["id_number"] == an_id(1) and first["card_number"] == a_card(1)
    assert first["phone"] == "13800000001" and first["village"] == "320921100001"
    assert first["household_size"] == "3" and first["people_in_need"] == "2"
    assert first["causes"] == "倒房、减产绝收" and first["needs"] == "口粮,取暖"
    assert (first["programme"], first["period"]) == ("winter_spring", "2025-2026")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_a_csv_is_read_in_utf8_or_gb18030(tmp_path: Path, encoding: str) -> None:
    text = io.StringIO()
    import csv

    writer = csv.writer(text)
    writer.writerow(["花名册"])
    writer.writerow(IMPORT_HEADER)
    writer.writerow(application_row(4))
    (tmp_path / "in.csv").write_bytes(text.getvalue().encode(encoding))

    [(number, cells)] = read_applications(tmp_path / "in.csv", "winter_spring", "2025-2026")
    assert number == 3
    assert cells["head_name"] == "李4" and cells["id_number"] == an_id(4) and cells["causes"] == "倒房、减产绝收"


def test_a_revealed_roster_reads_back_as_applications(tmp_path: Path) -> None:
    rows = [roster_row(i) for i in range(1, 4)]
    write_roster(rows, tmp_path / "roster.xlsx", reveal=decrypt)
    back = read_applications(tmp_path / "roster.xlsx", "winter_spring", "2025-2026")
    assert [n for n, _ in back] == [3, 4, 5]
    for (_, cells), row in zip(back, rows, strict=True):
        assert cells["head_name"] == row["head_name"]
        assert cells["id_number"] == decrypt(row["id_cipher"])
        assert cells["phone"] == decrypt(row["phone_cipher"])
        assert cells["card_number"] == decrypt(row["card_cipher"])
        assert cells["household_size"] == "4" and cells["people_in_need"] == "3"
        assert cells["address"] == row["address"] and cells["village"] == "320921100001"


def test_long_numbers_saved_as_numbers_by_excel_are_kept_recognisable(tmp_path: Path) -> None:
    wb = Workbook()
    row = application_row(1)
    row[2] = 3.20921198001011e17  # what Excel keeps of an ID typed into a number cell
    wb.active.append(IMPORT_HEADER)
    wb.active.append(row)
    wb.save(tmp_path / "in.xlsx")
    [(_, cells)] = read_applications(tmp_path / "in.xlsx", "winter_spring", "2025-2026")
    assert "e+17" in cells["id_number"]


def test_missing_required_columns_are_named_with_the_header_row(tmp_path: Path) -> None:
    header = [h for h in IMPORT_HEADER if not h.startswith(("村", "一卡通"))]
    (tmp_path / "in.csv").write_text("标题\n" + ",".join(h.replace("\n", "") for h in header) + "\n", "utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_applications(tmp_path / "in.csv", "winter_spring", "2025-2026")
    assert {(f.field, f.code) for f in caught.value.fields} == {("row 2.村", "missing_column"),
                                                                 ("row 2.一卡通账号", "missing_column")}


@pytest.mark.parametrize(("name", "content", "code"), [
    ("in.xls", b"\xd0\xcf\x11\xe0 old excel", "unsupported_file"),
    ("in.xlsx", b"PK\x03\x04 not really a zip", "unreadable_file"),
    ("in.csv", "序号,姓名,电话\n1,张三,138\n".encode(), "no_header"),
    ("in.csv", b"\xff\xfe\x00\x81\xff\xff", "bad_encoding"),
])
def test_files_that_cannot_be_read_are_refused_with_a_reason(tmp_path: Path, name: str, content: bytes,
                                                             code: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        read_applications(tmp_path / name, "winter_spring", "2025-2026")
    assert [(f.field, f.code) for f in caught.value.fields] == [("file", code)]
