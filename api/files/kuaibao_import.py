"""Filing a 续报 from the 快报 spreadsheet (the layout `kuaibao.py` writes), all or nothing.

Township staff often fill the table in Excel: indicators as rows (by 指标名称),
one column per township headed `名称（12-digit or 9-digit code）`. Every
cell is read first; any bad cell is reported by its row and column (as the
spreadsheet numbers them) and nothing is filed. The figures then go through
the same 续报 as the API, so every rule of the regulations applies.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ledger.store.errors import FieldProblem, InvalidInput

CODE_IN_HEADER = re.compile(r"[（(](\d{9}|\d{12})[）)]\s*$")
SKIPPED_COLUMNS = ("计量单位", "代码", "合计")


def read_kuaibao(data: bytes, indicators: Any) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """{township code: {indicator key: value}} from the sheet, and where each figure sits
    (`figures.<township>.<key>` → `row N.C`); InvalidInput naming each bad cell."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    except Exception:  # noqa: BLE001 — any unreadable file is the caller's to fix
        raise InvalidInput("无法读取该文件", "the file cannot be read as .xlsx",
                           fields=[FieldProblem("file", "unreadable_file", "an .xlsx in the 快报表 layout")]) from None
    header_at = next((i for i, r in enumerate(rows) if r and str(r[0] or "").strip() == "指标名称"), None)
    if header_at is None:
        raise InvalidInput("缺少表头“指标名称”", "no header row starting with 指标名称",
                           fields=[FieldProblem("file", "missing_column", "a row starting with 指标名称")])
    by_name = {i.name_zh: key for key, i in indicators.indicators.items()}
    problems: list[FieldProblem] = []
    columns: dict[int, str] = {}
    for c, head in enumerate(rows[header_at][1:], start=1):
        text = str(head or "").strip()
        if not text or text in SKIPPED_COLUMNS:
            continue
        found = CODE_IN_HEADER.search(text)
        if found is None:
            problems.append(FieldProblem(f"row {header_at + 1}.{get_column_letter(c + 1)}", "bad_area_code",
                                         f"column {text!r}: a township header ends with its code, e.g. 响水镇（320921100）"))
            continue
        columns[c] = found.group(1)[:9]
    figures: dict[str, dict[str, str]] = {code: {} for code in columns.values()}
    cells: dict[str, str] = {}
    for r, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        name = str(row[0] or "").strip() if row else ""
        values = {c: row[c] for c in columns if c < len(row) and row[c] not in (None, "")}
        if not name and not values:
            continue  # blank rows are ignored
        key = by_name.get(name)
        if key is None:
            if values:
                problems.append(FieldProblem(f"row {r}.A", "unknown_indicator", f"unknown indicator {name!r}"))
            continue
        for c, value in values.items():
            figures[columns[c]][key] = str(value).strip()
            cells[f"figures.{columns[c]}.{key}"] = f"row {r}.{get_column_letter(c + 1)}"
    if problems:
        raise InvalidInput("快报表有误，未报送任何数据", "the spreadsheet has errors; nothing was filed", fields=problems)
    return {code: f for code, f in figures.items() if f}, cells


def located(exc: InvalidInput, cells: dict[str, str]) -> InvalidInput:
    """The domain's refusal with each figure's field named by its cell too (`row 12.E (figures.…)`)."""
    exc.fields = [FieldProblem(f"{cells[p.field]} ({p.field})", p.code, p.message) if p.field in cells else p
                  for p in exc.fields]
    return exc
