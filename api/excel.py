"""Spreadsheets of relief: the 花名册 (应急统表10) out, households' applications (户报) in.

应急统表10 《受灾人员冬春生活政府救助人口一览表》 (自然灾害情况统计调查制度; reporting
rules §1.5): 户主姓名 D03001 … 救助资金发放形式 D03010, then our extra columns (村,
一卡通账号, 案件状态). The roster is written with openpyxl's write-only workbook row by
row, so a county's 100,000 households stay in modest memory. Money is integer fen in
the ledger and 元 with two decimals here, converted exactly (Decimal, never float).
Personal data is masked unless the caller passes `reveal` (a decryptor of the view's
ciphers); whoever passes it has checked the role and recorded the access.

An import reads the same layout (title rows allowed; header names matched without
their codes, units and whitespace) plus the columns an application needs (村,
一卡通账号, 致灾原因, 救助需求). Every row is checked by the relief service first; if
any row is bad nothing is saved and the report names each row, column and reason —
never with a clear ID, phone or card number.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ledger import actors
from ledger.actors import Actor
from ledger.errors import FieldProblem, InvalidInput, NotPermitted, Unavailable
from ledger.relief import PROGRAMME_NAMES, CaseClaim
from ledger.relief_service import VILLAGE_ROLES, Application

if TYPE_CHECKING:
    from ledger.application import LedgerRuntime

Progress = Callable[[int], None]
"""Called with the number of rows done since the last call."""

CENT = Decimal("0.01")
MAX_PROBLEMS_SHOWN = 500


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


ROSTER_TITLE = "受灾人员冬春生活政府救助人口一览表（应急统表10）"
ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("序号", width=6),
    Column("户主姓名", "D03001", width=10),
    Column("户主身份证号", "D03002", width=21),
    Column("户主联系方式", "D03003", width=15),
    Column("家庭类型", "D03004", width=10),
    Column("家庭人口", "D03005", "人", 9),
    Column("家庭住址", "D03006", width=30),
    Column("需救助人口", "D03007", "人", 9),
    Column("已发放救助款", "D03008", "元", 13),
    Column("已发放救助物资折款", "D03009", "元", 13),
    Column("救助资金发放形式", "D03010", width=12),
)
EXTRA_COLUMNS: tuple[Column, ...] = (Column("村", width=14), Column("一卡通账号", width=22),
                                     Column("案件状态", width=10))
STAGE_NAMES = {
    "applied": "户报", "assessed": "村评通过", "posted": "公示中", "township_reviewed": "乡审通过",
    "approved": "县定", "paid": "已发放", "rejected": "驳回", "withdrawn": "撤回",
}
PAYMENT_FORM = "一卡通"  # every payment goes to the household's 一卡通 account

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(horizontal="center", vertical="center", wrap_text=True)


def yuan(fen: int) -> Decimal:
    """Fen → 元 with two decimals, exactly."""
    return (Decimal(int(fen)) / 100).quantize(CENT)


# --- writing ---------------------------------------------------------------------------------


class _Sheet:
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


def _save(wb: Workbook, out: IO[bytes] | Path) -> None:
    wb.save(str(out) if isinstance(out, Path) else out)


def write_roster(
    rows: Iterable[dict[str, Any]], out: IO[bytes] | Path, reveal: Callable[[str], str] | None = None,
    title: str = ROSTER_TITLE, progress: Progress | None = None, *, subtitle: str | None = None,
    extras: bool = True,
) -> int:
    """The 花名册 in the 应急统表10 layout (rows from the roster view); returns the row count.

    Masked ID, phone and card numbers unless `reveal` decrypts the view's ciphers.
    """
    columns = ROSTER_COLUMNS + (EXTRA_COLUMNS if extras else ())
    wb = Workbook(write_only=True)
    sheet = _Sheet(wb, "应急统表10", columns, title, subtitle)
    count = 0
    for count, row in enumerate(rows, 1):
        sheet.append(_roster_values(count, row, reveal, extras))
        if progress and count % 1000 == 0:
            progress(1000)
    if progress and count % 1000:
        progress(count % 1000)
    _save(wb, out)
    return count


def _roster_values(seq: int, row: dict[str, Any], reveal: Callable[[str], str] | None, extras: bool) -> list[Any]:
    def personal(kind: str) -> str:
        cipher = row.get(f"{kind}_cipher")
        if reveal is not None and cipher:
            return reveal(cipher)
        return str(row.get(f"{kind}_masked") or "")

    card = personal("card")
    values: list[Any] = [
        seq, row.get("head_name") or "", personal("id"), personal("phone"), row.get("household_type") or "",
        int(row.get("household_size") or 0), row.get("address") or "", int(row.get("people_in_need") or 0),
        yuan(row.get("paid_fen") or 0), yuan(row.get("goods_fen") or 0),
        row.get("payment_form") or (PAYMENT_FORM if card else ""),
    ]
    if extras:
        stage = str(row.get("stage") or "")
        values += [row.get("village") or "", card, STAGE_NAMES.get(stage, stage)]
    return values


def write_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], out: IO[bytes] | Path, *,
                subtitle: str | None = None, totals_from: int | None = None, widths: Sequence[float] = ()) -> int:
    """A generic statistics table: title, header, rows; Decimal cells as 0.00. With `totals_from`,
    a 合计 row sums every numeric column from that index on. Returns the row count."""
    columns = [Column(h, width=widths[i] if i < len(widths) else 14.0) for i, h in enumerate(headers)]
    wb = Workbook(write_only=True)
    sheet = _Sheet(wb, "统计表", columns, title, subtitle)
    sums: list[Any] = [0] * len(headers)
    count = 0
    for count, row in enumerate(rows, 1):
        sheet.append(row)
        for i, v in enumerate(row):
            if isinstance(v, int | Decimal) and not isinstance(v, bool):
                sums[i] += v
    if totals_from is not None:
        sheet.append(["合计", *[""] * (totals_from - 1), *sums[totals_from:]])
    _save(wb, out)
    return count


STATISTICS_TITLE = "受灾人员冬春生活需救助及已救助情况统计表"
STATISTICS_HEADERS = ("区划代码", "区划名称", "需救助户数（户）", "需救助人口（人）", "已救助户数（户）",
                      "已救助人口（人）", "已发放救助款（元）", "已发放救助物资折款（元）")


def write_statistics(result: Any, out: IO[bytes] | Path, name_of: Callable[[str], str],
                     title: str = STATISTICS_TITLE, subtitle: str | None = None) -> int:
    """The 冬春 需救助 / 已救助 figures (a roster view's `WinterSpringResult`) per child area, with
    a 合计 row; returns the number of areas."""
    rows = [
        [code, name_of(code), f["need_households"], f["need_people"], f["aided_households"], f["aided_people"],
         yuan(f["paid_fen"]), yuan(f["goods_fen"])]
        for code, f in result.breakdown.items()
    ]
    return write_table(title, STATISTICS_HEADERS, rows, out, subtitle=subtitle, totals_from=2,
                       widths=(14, 18, 12, 12, 12, 12, 16, 18))


# --- reading -----------------------------------------------------------------------------------

# canonical column → (Application field, other header names seen in county forms)
IMPORT_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "户主姓名": ("head_name", ("姓名",)),
    "户主身份证号": ("id_number", ("户主身份证号码", "身份证号", "身份证号码", "公民身份号码")),
    "户主联系方式": ("phone", ("联系方式", "联系电话", "手机号码", "电话")),
    "家庭类型": ("household_type", ()),
    "家庭人口": ("household_size", ("家庭人口数",)),
    "家庭住址": ("address", ("住址",)),
    "需救助人口": ("people_in_need", ("需救助人口数", "救助人口")),
    "村": ("village", ("村代码", "村（社区）代码", "村居代码", "村级区划代码", "村（社区）")),
    "一卡通账号": ("card_number", ("一卡通", "一卡通卡号", "一卡通账户", "银行账号", "银行卡号")),
    "致灾原因": ("causes", ("受灾原因", "致困原因")),
    "救助需求": ("needs", ("需救助类型", "救助需求类型")),
    "申请日期": ("applied_on", ()),
    "救助项目": ("programme", ("项目",)),
    "期间": ("period", ("救助期间", "年度")),
}
REQUIRED = ("户主姓名", "户主身份证号", "户主联系方式", "家庭类型", "家庭人口", "家庭住址", "需救助人口", "村",
            "一卡通账号")
COLUMN_OF = {f: name for name, (f, _) in IMPORT_COLUMNS.items()}  # Application field → column
_NAME_OF = {_n: name for name, (_, aliases) in IMPORT_COLUMNS.items() for _n in (name, *aliases)}
_PARENS = re.compile(r"[（(][^）)]*[）)]")
_CODE = re.compile(r"D\d{5}")
_SPACE = re.compile(r"[\s\u3000\u200b\ufeff]+")
_SEPARATORS = re.compile(r"[、,，;；/]+")
_FOOTER = re.compile(r"^(合计|总计|小计|填表|审核|负责人|单位负责人|制表|注|说明|备注)")
_AS_NUMBER = re.compile(r"^\d(\.\d+)?[eE][+]?\d+$")
_VILLAGE = re.compile(r"^(\d{12})(?!\d)")
_CODE_ROW = re.compile(r"^(D\d{5}|[甲乙丙丁]|\d{1,2})$")


def header_name(raw: Any) -> str:
    """A header cell's column name: codes, units (in brackets) and whitespace removed."""
    text = _SPACE.sub("", str(raw or ""))
    previous = None
    while previous != text:
        previous, text = text, _PARENS.sub("", text)
    return _CODE.sub("", text)


def _column(raw: Any) -> str | None:
    name = header_name(raw)
    return _NAME_OF.get(name) or _NAME_OF.get(_SPACE.sub("", str(raw or "")))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _SPACE.sub(" ", str(value)).strip()
    return text.removeprefix("'")  # Excel's "text" marker


def read_applications(path: Path, default_programme: str, default_period: str) -> list[tuple[int, dict[str, str]]]:
    """(row number in the file, {Application field: cell text}) for every data row of an .xlsx or
    .csv in the roster layout. Raises InvalidInput naming the file's problem (unreadable, no
    header row, required columns missing)."""
    records = _records(Path(path))
    header_row, mapping = _header(records)
    out = []
    for number, values in records:
        if number <= header_row:
            continue
        cells = {mapping[i]: _text(v) for i, v in enumerate(values) if i in mapping}
        texts = [_text(v) for v in values if _text(v)]
        code_row = number == header_row + 1 and all(_CODE_ROW.match(t) for t in texts)
        footer = bool(texts) and bool(_FOOTER.match(texts[0])) and not (
            cells.get("户主身份证号") and cells.get("户主姓名"))
        if not texts or code_row or footer:
            continue  # blank rows, a code row under the header, 合计 and signature lines
        fields = {IMPORT_COLUMNS[name][0]: value for name, value in cells.items()}
        fields["programme"] = fields.get("programme") or default_programme
        fields["period"] = fields.get("period") or default_period
        out.append((number, fields))
    return out


def _records(path: Path) -> list[tuple[int, Sequence[Any]]]:
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _file_problem("unreadable_file", f"cannot read the file: {exc.strerror or exc}") from None
    if suffix == ".csv":
        return _csv_records(data)
    if suffix == ".xlsx" or data[:4] == b"PK\x03\x04":
        return _xlsx_records(data)
    raise _file_problem("unsupported_file", "an .xlsx workbook or a .csv file (an .xls must be saved as .xlsx)")


def _csv_records(data: bytes) -> list[tuple[int, Sequence[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise _file_problem("bad_encoding", "the CSV must be UTF-8 or GB18030 (GBK)") from None
    try:
        return [(i, row) for i, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1)]
    except csv.Error as exc:
        raise _file_problem("bad_csv", f"malformed CSV: {exc}") from None


def _xlsx_records(data: bytes) -> list[tuple[int, Sequence[Any]]]:
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - a damaged or foreign zip fails in many ways inside openpyxl
        raise _file_problem("unreadable_file", "not a readable .xlsx workbook") from None
    try:
        # the first sheet with a header row (a workbook may open with a 填表说明 sheet)
        for ws in wb.worksheets:
            top = [(i, row) for i, row in enumerate(ws.iter_rows(max_row=10, values_only=True), 1)]
            if _find_header(top) is not None:
                return [(i, row) for i, row in enumerate(ws.iter_rows(values_only=True), 1)]
        return top if wb.worksheets else []
    except Exception:  # noqa: BLE001 - as above, while reading the sheets
        raise _file_problem("unreadable_file", "not a readable .xlsx workbook") from None
    finally:
        wb.close()


def _find_header(records: list[tuple[int, Sequence[Any]]]) -> tuple[int, dict[int, str]] | None:
    """The header row (within the first 10 rows): the one naming 户主姓名 and 户主身份证号."""
    for number, values in records:
        if number > 10:
            break
        mapping: dict[int, str] = {}
        for i, v in enumerate(values):
            name = _column(v)
            if name and name not in mapping.values():
                mapping[i] = name
        if {"户主姓名", "户主身份证号"} <= set(mapping.values()):
            return number, mapping
    return None


def _header(records: list[tuple[int, Sequence[Any]]]) -> tuple[int, dict[int, str]]:
    found = _find_header(records)
    if found is None:
        raise _file_problem("no_header", "no header row naming 户主姓名 and 户主身份证号 in the first 10 rows")
    number, mapping = found
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        raise InvalidInput(
            f"缺少必需的列：{'、'.join(missing)}", f"required columns are missing: {', '.join(missing)}",
            fields=[FieldProblem(f"row {number}.{c}", "missing_column", "a required column is missing")
                    for c in missing], code="missing_column")
    return number, mapping


def _file_problem(code: str, message: str) -> InvalidInput:
    return InvalidInput("无法读取导入文件", "the import file cannot be read", fields=[FieldProblem("file", code, message)],
                        code=code)


# --- importing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    code: str
    message: str

    def as_field(self) -> FieldProblem:
        return FieldProblem(f"row {self.row}.{self.column}", self.code, self.message)


@dataclass
class ImportReport:
    """What an import did: every row saved (case ids in file order), or nothing and the problems."""

    rows: int
    problems: list[RowProblem] = field(default_factory=list)
    case_ids: list[UUID] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def imported(self) -> int:
        return len(self.case_ids)

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    def error(self, limit: int = MAX_PROBLEMS_SHOWN) -> InvalidInput:
        n = len(self.bad_rows)
        return InvalidInput(
            f"导入文件有 {n} 行有误，未导入任何数据", f"{n} row(s) have problems; nothing was imported",
            fields=[p.as_field() for p in self.problems[:limit]], code="import_rejected",
            details={"rows": self.rows, "bad_rows": n, "problems": len(self.problems),
                     "shown": min(limit, len(self.problems))},
        )


def import_applications(runtime: LedgerRuntime, actor: Actor, path: Path, programme: str, period: str,
                        progress: Progress | None = None) -> ImportReport:
    """户报 from a file: all rows, or none (the report then names each bad row and column)."""
    return import_rows(runtime, actor, read_applications(path, programme, period), progress)


def import_rows(runtime: LedgerRuntime, actor: Actor, rows: list[tuple[int, dict[str, str]]],
                progress: Progress | None = None) -> ImportReport:
    actors.require_writer(actor)
    if actor.role not in VILLAGE_ROLES:
        raise NotPermitted(f"角色 {actor.role.value} 不能导入户报", f"role {actor.role.value} cannot import applications")
    if not rows:
        raise _file_problem("empty", "the file has a header but no application rows")
    report = ImportReport(rows=len(rows))
    applications: list[Application] = []
    seen: dict[tuple[str, str, str], int] = {}
    for i, (number, cells) in enumerate(rows, 1):
        application, problems = _application(cells)
        if application is not None:
            problems += _checked(runtime, actor, application, number, seen)
            applications.append(application)
        report.problems += [RowProblem(number, column, code, message) for column, code, message in problems]
        if progress and i % 100 == 0:
            progress(100)
    if progress and len(rows) % 100:
        progress(len(rows) % 100)
    if report.ok:
        report.case_ids = runtime.relief.apply_many(actor, applications)
    return report


def _checked(runtime: LedgerRuntime, actor: Actor, a: Application, number: int,
             seen: dict[tuple[str, str, str], int]) -> list[tuple[str, str, str]]:
    """The service's check, then duplicates within the file and against open cases."""
    try:
        checked = runtime.relief.check_application(actor, a)
    except InvalidInput as exc:
        return [(COLUMN_OF.get(f.field, f.field), f.code, f.message) for f in exc.fields]
    except NotPermitted as exc:
        return [("村", exc.code, exc.message)]
    key = (checked.programme, checked.period, checked.id_hash)
    if key in seen:
        return [("户主身份证号", "duplicate_in_file", f"the same household head as row {seen[key]}")]
    seen[key] = number
    try:
        claim: CaseClaim = runtime.app.repository.get(CaseClaim.create_id(*key))
    except AggregateNotFoundError:
        return []
    if claim.case_id is not None:
        return [("户主身份证号", "duplicate_case",
                 f"this household head already has an open case in this programme and period ({claim.case_id})")]
    return []


def _application(cells: dict[str, str]) -> tuple[Application | None, list[tuple[str, str, str]]]:
    problems: list[tuple[str, str, str]] = []
    for name in REQUIRED:
        if not cells.get(IMPORT_COLUMNS[name][0]):
            problems.append((name, "required", "the cell is empty"))
    for name in ("户主身份证号", "一卡通账号", "户主联系方式"):
        if _AS_NUMBER.match(cells.get(IMPORT_COLUMNS[name][0], "")):
            problems.append((name, "stored_as_number",
                             "Excel kept the number in scientific notation (15 digits only): format the column as text"))
    size = _count(cells.get("household_size", ""), "家庭人口", problems)
    need = _count(cells.get("people_in_need", ""), "需救助人口", problems)
    applied_on = None
    if cells.get("applied_on"):
        try:
            applied_on = date.fromisoformat(cells["applied_on"].replace("/", "-").replace(".", "-"))
        except ValueError:
            problems.append(("申请日期", "bad_date", "a date such as 2025-10-08"))
    for name, limit in (("家庭类型", 50), ("家庭住址", 200), ("户主姓名", 50)):
        if len(cells.get(IMPORT_COLUMNS[name][0], "")) > limit:
            problems.append((name, "too_long", f"at most {limit} characters"))
    programme = _programme(cells.get("programme", ""))
    if problems:
        return None, problems
    return Application(
        programme=programme, period=cells.get("period", ""), village=_village(cells["village"]),
        head_name=cells["head_name"],
        id_number=cells["id_number"], phone=cells["phone"], card_number=cells["card_number"],
        household_type=cells["household_type"], household_size=size or 0, people_in_need=need or 0,
        address=cells["address"], causes=_list(cells.get("causes", "")), needs=_list(cells.get("needs", "")),
        applied_on=applied_on,
    ), []


def _count(raw: str, column: str, problems: list[tuple[str, str, str]]) -> int | None:
    if not raw:
        return None
    try:
        value = Decimal(raw.removesuffix("人").strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value != value.to_integral_value():
        problems.append((column, "not_a_whole_number", "a whole number of people"))
        return None
    return int(value)


def _village(raw: str) -> str:
    """The code of "320921100001" or "320921100001 东园居委会"."""
    found = _VILLAGE.match(raw)
    return found.group(1) if found else raw


def _programme(raw: str) -> str:
    for code, name in PROGRAMME_NAMES.items():
        if raw == name:
            return code.value
    return raw


def _list(raw: str) -> list[str]:
    return [p.strip() for p in _SEPARATORS.split(raw) if p.strip()]


# --- the roster view ---------------------------------------------------------------------------


@contextmanager
def roster_view(runtime: LedgerRuntime, host: Any = None, timeout: float = 30.0) -> Iterator[Any]:
    """The roster projection's view, caught up with the ledger's head.

    With a ProjectionHost (the server), its follower is awaited. Without one (CLI, or a server
    whose projections run in a worker) the view is opened here: caught up in this process if no
    other process follows it, else awaited. Unavailable (503) if it does not catch up in time.
    """
    from projections.runner import PROJECTIONS, AdvisoryLock, Follower, open_projection

    head = runtime.position()
    if host is not None and "roster" in getattr(host, "followers", {}):
        if not host.wait(head, timeout, ["roster"]):
            raise _behind()
        yield host.view("roster")
        return
    if "roster" not in PROJECTIONS:
        raise Unavailable("花名册投影未安装", "the roster projection is not installed", code="no_roster")
    env = runtime.config.persistence
    follower = Follower(runtime.app, open_projection(PROJECTIONS["roster"], env, runtime.config.data_dir, runtime.pii))
    lock = AdvisoryLock(env, "roster")
    try:
        if lock.try_acquire():
            try:
                follower.catch_up()
            finally:
                lock.release()
        deadline = time.monotonic() + timeout
        if not follower.wait(head, max(deadline - time.monotonic(), 0)):
            raise _behind()
        yield follower.projection.view
    finally:
        follower.close()


def _behind() -> Unavailable:
    return Unavailable("花名册正在更新，请稍后重试", "the roster is still catching up; retry shortly", code="roster_behind")
