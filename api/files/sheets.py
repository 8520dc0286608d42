"""Spreadsheet building blocks shared by every export: column specs, a streamed sheet, plain tables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ledger.store.files import open_private

if TYPE_CHECKING:
    pass


Progress = Callable[[int], None]
"""Called with the number of rows done since the last call."""


CENT = Decimal("0.01")


@dataclass(frozen=True)
class Column:
    name: str
    code: str = ""  # 指标代码 of 应急统表10
    unit: str = ""
    width: float = 12.0

    @property
    def header(self) -> str:
        unit = f"（{self.unit}）" if self.unit else ""
        return f"{self.name}{unit}" + (f"\n{self.code}" if self.code else "")


_BOLD = Font(bold=True)


_TITLE = Font(bold=True, size=14)


_THIN = Side(style="thin")


_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


_WRAP = Alignment(horizontal="center", vertical="center", wrap_text=True)


def yuan(fen: int) -> Decimal:
    """Fen → 元 with two decimals, exactly."""
    return (Decimal(int(fen)) / 100).quantize(CENT)


class Sheet:
    """A write-only worksheet: title, optional subtitle, header, then rows."""

    def __init__(self, wb: Workbook, name: str, columns: Sequence[Column], title: str, subtitle: str | None) -> None:
        self.ws = wb.create_sheet(name)
        for i, c in enumerate(columns, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = c.width
        last = get_column_letter(len(columns))
        header_row = 3 if subtitle else 2
        self.ws.freeze_panes = f"A{header_row + 1}"  # before the first row: written with the sheet's head
        self.ws.append([self._styled(title, _TITLE, Alignment(horizontal="center"))])
        self.ws.merged_cells.add(f"A1:{last}1")
        if subtitle:
            self.ws.append([self._styled(subtitle, None, None)])
            self.ws.merged_cells.add(f"A2:{last}2")
        cells = []
        for c in columns:
            cell = self._styled(c.header, _BOLD, _WRAP)
            cell.border, cell.fill = _BOX, _HEAD_FILL
            cells.append(cell)
        self.ws.append(cells)

    def _styled(self, value: Any, font: Font | None, alignment: Alignment | None) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=value)
        if font is not None:
            cell.font = font
        if alignment is not None:
            cell.alignment = alignment
        return cell

    def append(self, values: Iterable[Any]) -> None:
        self.ws.append([self._value(v) for v in values])

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith("=") or value in ERROR_CODES:  # text, never a formula (injection)
                cell = WriteOnlyCell(self.ws, value=" ")
                cell._value, cell.data_type = value, "s"
                return cell
            return value
        if isinstance(value, Decimal):
            # openpyxl would print a Decimal through a float ("%.16g": 8.30 → 8.300000000000001);
            # the cell gets the exact decimal text instead
            cell = WriteOnlyCell(self.ws, value=0)
            cell._value = format(value, "f")
            cell.number_format = "0.00"
            return cell
        return value


def save(wb: Workbook, out: IO[bytes] | Path) -> None:
    """Write the workbook; a file is created readable by its owner only (it may hold clear personal data)."""
    if isinstance(out, Path):
        with os.fdopen(open_private(out), "wb") as f:
            wb.save(f)
    else:
        wb.save(out)


def write_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], out: IO[bytes] | Path, *,
                subtitle: str | None = None, totals_from: int | None = None, widths: Sequence[float] = ()) -> int:
    """A generic statistics table: title, header, rows; Decimal cells as 0.00. With `totals_from`,
    a 合计 row sums every numeric column from that index on. Returns the row count."""
    columns = [Column(h, width=widths[i] if i < len(widths) else 14.0) for i, h in enumerate(headers)]
    wb = Workbook(write_only=True)
    sheet = Sheet(wb, "统计表", columns, title, subtitle)
    sums: list[Any] = [0] * len(headers)
    count = 0
    for count, row in enumerate(rows, 1):
        sheet.append(row)
        for i, v in enumerate(row):
            if isinstance(v, int | Decimal) and not isinstance(v, bool):
                sums[i] += v
    if totals_from is not None:
        sheet.append(["合计", *[""] * (totals_from - 1), *sums[totals_from:]])
    save(wb, out)
    return count
