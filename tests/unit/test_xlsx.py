"""The streaming .xlsx writer behind every export, read back with openpyxl as a spreadsheet program would."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.files.relief import ROSTER_COLUMNS, write_roster
from api.files.sheets import Column, Sheet, book
from api.files.xlsx import Workbook, column_letter


def test_the_roster_keeps_its_layout_header_styles_frozen_rows_merged_title_and_widths() -> None:
    out = io.BytesIO()
    write_roster([], out, subtitle="填报单位：响水县（320921）", extras=False)
    out.seek(0)
    ws = load_workbook(out).active
    assert ws.title == "应急统表10"
    assert ws.freeze_panes == "A4"
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:K1", "A2:K2"}
    assert ws["A1"].font.bold and ws["A1"].font.size == 14 and ws["A1"].alignment.horizontal == "center"
    header = ws["C3"]
    assert header.font.bold and header.alignment.wrap_text and header.border.left.style == "thin"
    assert header.fill.fgColor.rgb.endswith("DDEBF7")
    assert [ws.column_dimensions[column_letter(i)].width for i in range(1, 12)] == [c.width for c in ROSTER_COLUMNS]


def test_text_keeps_xml_characters_and_loses_only_what_xml_cannot_carry() -> None:
    out = io.BytesIO()
    with book(out) as wb:
        sheet = Sheet(wb, "表", [Column("a"), Column("b"), Column("c")], "标题", None)
        sheet.append(['<r><t>x</t></r> & "q"', "bell\x07 tab\t end ", "=SUM(A1:A2)"])
    out.seek(0)
    ws = load_workbook(out).active
    assert ws["A3"].value == '<r><t>x</t></r> & "q"'
    assert ws["B3"].value == "bell tab\t end "
    assert ws["C3"].value == "=SUM(A1:A2)" and ws["C3"].data_type == "s"


def test_values_keep_their_kind_and_empty_cells_stay_empty() -> None:
    out = io.BytesIO()
    with book(out) as wb:
        ws = wb.add_sheet("kinds")
        ws.row([1, 2.5, Decimal("8.30"), True, date(2026, 7, 1), datetime(2026, 7, 1, 8, 30), None, "", "x"])
    out.seek(0)
    row = next(load_workbook(out).active.iter_rows(values_only=True))
    assert row == (1, 2.5, 8.3, True, datetime(2026, 7, 1), datetime(2026, 7, 1, 8, 30), None, None, "x")


def test_sheets_follow_one_another_with_names_excel_accepts() -> None:
    out = io.BytesIO()
    with book(out) as wb:
        for name in ("封面", "a/b:c", "A/B:C", "x" * 40):
            wb.add_sheet(name).row([name])
    out.seek(0)
    wb2 = load_workbook(out)
    assert wb2.sheetnames == ["封面", "a b c", "A B C 2", "x" * 31]
    assert wb2["a b c"]["A1"].value == "a/b:c"


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "roster.xlsx"

    def rows():  # type: ignore[no-untyped-def]
        yield {"head_name": "张三", "household_size": 2}
        raise RuntimeError("the view went away")

    with pytest.raises(RuntimeError):
        write_roster(rows(), target)
    assert not target.exists()
    assert write_roster([], target) == 0 and target.stat().st_mode & 0o777 == 0o600


def test_an_empty_workbook_is_still_a_workbook() -> None:
    out = io.BytesIO()
    Workbook(out).close()
    out.seek(0)
    assert load_workbook(out).sheetnames == ["Sheet"]
