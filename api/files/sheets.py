"""Spreadsheet building blocks shared by every export: column specs, a streamed sheet, plain tables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from api.files.xlsx import HEADER, TITLE, Workbook, column_letter
from ledger.store.files import open_private

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


def yuan(fen: int) -> Decimal:
    """Fen → 元 with two decimals, exactly."""
    return (Decimal(int(fen)) / 100).quantize(CENT)


@contextmanager
def book(out: IO[bytes] | Path) -> Iterator[Workbook]:
    """A streamed workbook into `out`, finished when the block ends. A file is created readable by its
    owner only (it may hold clear personal data) and removed again if the block fails."""
    if not isinstance(out, Path):
        wb = Workbook(out)
        try:
            yield wb
        except BaseException:
            wb.discard()
            raise
        wb.close()
        return
    with os.fdopen(open_private(out), "wb") as f:
        wb = Workbook(f)
        try:
            yield wb
        except BaseException:
            wb.discard()
            f.close()
            out.unlink(missing_ok=True)
            raise
        wb.close()


class Sheet:
    """A streamed worksheet: title, optional subtitle, header, then rows (Decimal cells as exact 0.00)."""

    def __init__(self, wb: Workbook, name: str, columns: Sequence[Column], title: str, subtitle: str | None) -> None:
        self.ws = wb.add_sheet(name)
        last = column_letter(len(columns))
        header_row = 3 if subtitle else 2
        merged = [f"A1:{last}1"] + ([f"A2:{last}2"] if subtitle else [])
        self.ws.head([c.width for c in columns], frozen_rows=header_row, merged=merged)
        self.ws.row([title], TITLE)
        if subtitle:
            self.ws.row([subtitle])
        self.ws.row([c.header for c in columns], HEADER)

    def append(self, values: Iterable[Any]) -> None:
        self.ws.row(values)


def write_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], out: IO[bytes] | Path, *,
                subtitle: str | None = None, totals_from: int | None = None, widths: Sequence[float] = ()) -> int:
    """A generic statistics table: title, header, rows; Decimal cells as 0.00. With `totals_from`,
    a 合计 row sums every numeric column from that index on. Returns the row count."""
    columns = [Column(h, width=widths[i] if i < len(widths) else 14.0) for i, h in enumerate(headers)]
    sums: list[Any] = [0] * len(headers)
    count = 0
    with book(out) as wb:
        sheet = Sheet(wb, "统计表", columns, title, subtitle)
        for count, row in enumerate(rows, 1):
            sheet.append(row)
            for i, v in enumerate(row):
                if isinstance(v, int | Decimal) and not isinstance(v, bool):
                    sums[i] += v
        if totals_from is not None:
            sheet.append(["合计", *[""] * (totals_from - 1), *sums[totals_from:]])
    return count
