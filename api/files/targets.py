"""Reference-figure spreadsheets (.xlsx or .csv) for the targets: one row per jurisdiction and year.

Columns: 区划代码 (or `jurisdiction`), 年份 (or `year`), then any of the measures by key or by
Chinese heading (`ledger.targets.reference.MEASURES`: 地区生产总值（亿元）, 常住人口（人）,
工矿商贸就业人员（人）, 营运车辆（辆）, 生产安全事故起数, 生产安全事故死亡人数, …). A blank cell gives
nothing; numbers are exact decimals (read as text, never through a float). An unknown heading is
refused by name.
"""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from ledger.store.errors import FieldProblem, InvalidInput
from ledger.targets.reference import MEASURES

KEYS = {**{k: k for k in MEASURES}, **{v: k for k, v in MEASURES.items()},
        "区划代码": "jurisdiction", "jurisdiction": "jurisdiction", "年份": "year", "year": "year"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(Decimal(repr(value)))  # openpyxl gives numbers as floats: keep their shortest decimal
    return str(value).strip()


def read_rows(data: bytes, name: str) -> list[dict[str, Any]]:
    """The file's rows as {row, jurisdiction, year, values}; 422 for an unreadable file or unknown heading."""
    try:
        if name.lower().endswith(".csv"):
            table = [list(r) for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))]
        else:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            table = [[_cell(c) for c in r] for r in sheet.iter_rows(values_only=True)]
    except Exception as exc:  # a corrupt or foreign file: say so, never a 500
        raise InvalidInput("无法读取文件", f"cannot read {name}: {type(exc).__name__}", code="bad_file") from None
    if not table:
        return []
    headings = [str(h).strip() for h in table[0]]
    unknown = [h for h in headings if h and h not in KEYS]
    if unknown or "区划代码" not in headings and "jurisdiction" not in headings:
        raise InvalidInput("表头有误", "unknown or missing columns", code="bad_columns", fields=[
            FieldProblem(f"columns.{h}", "unknown_column", "not a known column") for h in unknown] or [
            FieldProblem("columns", "missing", "区划代码 and 年份 are required")])
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        record: dict[str, Any] = {"row": number, "values": {}}
        for heading, value in zip(headings, cells, strict=False):
            key, text = KEYS.get(heading), _cell(value)
            if not key or not text:
                continue
            if key in ("jurisdiction", "year"):
                record[key] = text
            else:
                record["values"][key] = text
        if len(record) > 2 or record["values"]:
            rows.append(record)
    return rows


def load_file(runtime: Any, actor: Any, path: Path, label: str) -> list[Any]:
    data = path.read_bytes()
    rows = read_rows(data, path.name)
    return runtime.targets.load(actor, rows, label, path.name, hashlib.sha256(data).hexdigest())  # type: ignore[no-any-return]
