"""A streaming .xlsx writer: each row goes straight into the compressed sheet as it is appended.

Only what the exports need: sheets written one after the other, a fixed set of cell styles
(title, header box, 0.00 money, dates), column widths, frozen header rows, merged title rows.
Text is always an inline string (never a formula), money is the exact decimal text. Memory stays
constant whatever the row count; a row costs one string format, not an object per cell.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037\ud800-\udfff\ufffe\uffff]")  # not allowed in XML 1.0

# cell style ids (cellXfs order in _STYLES)
PLAIN, TITLE, HEADER, MONEY, DATE, DATETIME = range(6)

_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>
<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font></fonts>
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="00DDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>\
<border><left style="thin"/><right style="thin"/><top style="thin"/><bottom style="thin"/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">\
<alignment horizontal="center"/></xf>\
<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" \
applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>\
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_EPOCH = datetime(1899, 12, 30)


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text(value: str) -> str:
    """A string as it may stand in a cell: without characters XML cannot carry, XML's own escaped."""
    value = _ILLEGAL.sub("", value)
    if "&" in value or "<" in value or ">" in value:
        return escape(value)
    return value


class Workbook:
    """Sheets streamed into `out` (a binary file object) one after the other; `close()` finishes the file."""

    def __init__(self, out: IO[bytes], compresslevel: int = 6) -> None:
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._names: list[str] = []
        self._open: Worksheet | None = None

    def add_sheet(self, name: str) -> Worksheet:
        if self._open is not None:
            self._open.close()
        name = _sheet_name(name, self._names)
        self._names.append(name)
        self._open = Worksheet(self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w"))
        return self._open

    def discard(self) -> None:
        """Stop after a failure: the archive is closed without the workbook's parts (not a spreadsheet)."""
        if self._open is not None:
            self._open.close()
            self._open = None
        self._zip.close()

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None
        if not self._names:
            self.add_sheet("Sheet").close()
            self._open = None
        count = len(self._names)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, count + 1))
        self._zip.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f'{overrides}</Types>'))
        self._zip.writestr("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        sheets = "".join(f'<sheet name={quoteattr(n)} sheetId="{i}" r:id="rId{i}"/>'
                         for i, n in enumerate(self._names, 1))
        self._zip.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
            f'<sheets>{sheets}</sheets></workbook>'))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, count + 1))
        self._zip.writestr("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL}">'
            f'{rels}<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.close()


class Worksheet:
    """One sheet: `head()` once (widths, frozen rows, merged ranges), then `row()` per row."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._out = stream
        self._rows = 0
        self._merged: list[str] = []
        self._pending: list[str] = []  # rows not yet handed to the compressor (one call per few hundred rows)
        self._started = False
        self._closed = False

    def head(self, widths: Sequence[float], frozen_rows: int = 0, merged: Sequence[str] = ()) -> None:
        view = ""
        if frozen_rows:
            top = f"A{frozen_rows + 1}"
            view = (f'<pane ySplit="{frozen_rows}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
                    f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>')
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        self._out.write((
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
            f'<sheetViews><sheetView workbookViewId="0">{view}</sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>{"<cols>" + cols + "</cols>" if cols else ""}<sheetData>'
        ).encode())
        self._merged = list(merged)
        self._started = True

    def row(self, values: Iterable[Any], style: int = PLAIN) -> None:
        """Append a row; each value: str (text), int/float, Decimal (exact, 0.00), bool, date; None or "" leave the cell empty."""
        if not self._started:
            self.head(())
        self._rows += 1
        n = self._rows
        parts = [f'<row r="{n}">']
        add = parts.append
        s = f' s="{style}"' if style else ""
        for i, value in enumerate(values):
            if value is None or value == "":  # an empty cell, as Excel keeps it
                continue
            ref = f"{_LETTERS[i] if i < len(_LETTERS) else column_letter(i + 1)}{n}"
            kind = type(value)
            if kind is str:
                add(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text(value)}</t></is></c>')
            elif kind is int:
                add(f'<c r="{ref}"{s}><v>{value}</v></c>')
            elif kind is Decimal:
                add(f'<c r="{ref}" s="{style or MONEY}"><v>{value:f}</v></c>')
            else:
                add(_other(ref, value, style))
        add("</row>")
        self._pending.append("".join(parts))
        if len(self._pending) >= 256:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._out.write("".join(self._pending).encode())
            self._pending.clear()

    def close(self) -> None:
        if self._closed:
            return
        if not self._started:
            self.head(())
        self._flush()
        tail = "</sheetData>"
        if self._merged:
            cells = "".join(f'<mergeCell ref="{r}"/>' for r in self._merged)
            tail += f'<mergeCells count="{len(self._merged)}">{cells}</mergeCells>'
        self._out.write(f"{tail}</worksheet>".encode())
        self._out.close()
        self._closed = True


_LETTERS = [column_letter(i) for i in range(1, 703)]


def _other(ref: str, value: Any, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Decimal):
        return f'<c r="{ref}" s="{style or MONEY}"><v>{value:f}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{s}><v>{int(value)}</v></c>'
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f'<c r="{ref}"{s} t="inlineStr"><is><t>{value}</t></is></c>'
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{style or DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{style or DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, time):
        value = value.isoformat()
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text(str(value))}</t></is></c>'


def _sheet_name(name: str, taken: Sequence[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique ignoring case."""
    clean = re.sub(r"[\[\]:*?/\\]", " ", text(name)).strip("'")[:31] or "Sheet"
    candidate, n = clean, 1
    while candidate.lower() in {t.lower() for t in taken}:
        n += 1
        candidate = f"{clean[:31 - len(str(n)) - 1]} {n}"
    return candidate
