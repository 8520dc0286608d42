"""Relief spreadsheets in: household applications in the 应急统表10 layout, checked row by row, all or nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from openpyxl import load_workbook

from api.files.sheets import Progress
from ledger.relief.applications import Application
from ledger.relief.case import CaseClaim
from ledger.relief.programmes import PROGRAMME_NAMES
from ledger.relief.service import VILLAGE_ROLES
from ledger.store import actors
from ledger.store.actors import Actor
from ledger.store.errors import FieldProblem, InvalidInput, NotPermitted
from ledger.store.text import text_problem

if TYPE_CHECKING:
    from ledger.runtime import LedgerRuntime


MAX_PROBLEMS_SHOWN = 500


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
        if not any(cells.values()) or code_row or footer:
            continue  # blank rows (a pre-numbered 序号 alone is blank), a code row under the header, 合计 and signatures
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
    for field_name, value in cells.items():  # text no person types is refused cell by cell, before anything else
        if isinstance(value, str) and (problem := text_problem(value)):
            problems.append((COLUMN_OF.get(field_name, field_name), "bad_text", problem))
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
