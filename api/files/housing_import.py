"""Assessed households (倒损住房 核查) in from a spreadsheet: checked row by row, all or nothing.

Columns (header names as in county 台账; units in brackets ignored): 户主姓名, 户主身份证号, 联系电话, 家庭住址,
村 (12-digit code), 损坏程度 (倒塌 / 严重损坏 / 一般损坏), 间数, 重建方式 (原址重建 / 异地重建 / 集中统建 /
购房安置 / 维修加固), 核查日期, 核查材料 (`sha256:<hex> 文件名`, several separated by 、 or ;); optional
一卡通账号, 蓄滞洪区 (是 / 否). Blank rows are ignored; the report names each bad row by its row number in
the file and its column.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from api.files.relief_import import _records, _text, header_name
from ledger.households.evidence import Evidence
from ledger.housing.rules import DAMAGE, MODES
from ledger.housing.service import HousingApplication
from ledger.store.errors import DomainError, FieldProblem, InvalidInput

if TYPE_CHECKING:
    from ledger.runtime import LedgerRuntime
    from ledger.store.actors import Actor

COLUMNS = {  # header → field
    "户主姓名": "head_name", "户主身份证号": "id_number", "身份证号": "id_number", "联系电话": "phone",
    "户主联系方式": "phone", "家庭住址": "address", "村": "village", "损坏程度": "damage", "间数": "rooms",
    "重建方式": "mode", "核查日期": "assessed_on", "核查材料": "evidence", "一卡通账号": "card_number",
    "蓄滞洪区": "flood_storage",
}


REQUIRED = ("户主姓名", "户主身份证号", "联系电话", "家庭住址", "村", "损坏程度", "间数", "重建方式", "核查日期", "核查材料")


DAMAGE_CODES = {name: code for code, name in DAMAGE.items()}


MODE_CODES = {name: code for code, name in MODES.items()}


COLUMN_OF = {f: c for c, f in COLUMNS.items() if c in REQUIRED or f in ("card_number", "flood_storage")}


_REF = re.compile(r"(sha256:[0-9a-f]{64})\s*([^、;；,，]*)")


@dataclass
class HousingImportReport:
    problems: list[FieldProblem] = field(default_factory=list)
    case_ids: list[UUID] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def error(self) -> InvalidInput:
        rows = sorted({p.field.split(".")[0] for p in self.problems})
        return InvalidInput(f"{len(rows)} 行有误，未导入任何记录", f"{len(rows)} rows are invalid; nothing was imported",
                            fields=self.problems[:500], code="import_refused")


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    records = _records(path)
    header, mapping = None, {}
    for number, values in records[:10]:
        found = {i: COLUMNS[header_name(v)] for i, v in enumerate(values) if header_name(v) in COLUMNS}
        if {"head_name", "id_number"} <= set(found.values()):
            header, mapping = number, found
            break
    if header is None:
        raise InvalidInput("找不到表头", "no header row naming 户主姓名 and 户主身份证号",
                           fields=[FieldProblem("file", "no_header", "a header row within the first 10 rows")])
    missing = [c for c in REQUIRED if COLUMNS[c] not in mapping.values()]
    if missing:
        raise InvalidInput("缺少必填列", "required columns are missing",
                           fields=[FieldProblem("file", "missing_columns", "、".join(missing))])
    out = []
    for number, values in records:
        if number <= header:
            continue
        cells = {mapping[i]: _text(v) for i, v in enumerate(values) if i in mapping}
        if not any(cells.values()):
            continue  # blank rows
        out.append((number, cells))
    return out


def import_file(runtime: LedgerRuntime, actor: Actor, path: Path, disaster_id: UUID) -> HousingImportReport:
    report = HousingImportReport()
    applications = []
    for number, cells in read_rows(path):
        problems: list[tuple[str, str, str]] = []
        application = _application(cells, disaster_id, problems)
        if application is not None and not problems:
            try:
                runtime.housing.check(actor, application)
            except DomainError as exc:
                problems += [(p.field, p.code, p.message) for p in exc.fields] or [("row", exc.code, exc.message)]
        report.problems += [FieldProblem(f"row {number}.{COLUMN_OF.get(f.split('.')[0], f)}", c, m)
                            for f, c, m in problems]
        if application is not None:
            applications.append(application)
    if report.ok:
        report.case_ids = runtime.housing.apply_many(actor, applications)
    return report


def _application(cells: dict[str, str], disaster_id: UUID, problems: list[tuple[str, str, str]]
                 ) -> HousingApplication | None:
    damage = DAMAGE_CODES.get(cells.get("damage", ""), cells.get("damage", ""))
    mode = MODE_CODES.get(cells.get("mode", ""), cells.get("mode", ""))
    rooms = cells.get("rooms", "")
    if not rooms.isdigit():
        problems.append(("rooms", "not_a_number", "a whole number of 间"))
    try:
        assessed = date.fromisoformat(cells.get("assessed_on", "").replace("/", "-"))
    except ValueError:
        problems.append(("assessed_on", "bad_date", "YYYY-MM-DD"))
        assessed = None
    evidence = [Evidence(ref, mimetypes.guess_type(name.strip())[0] or "application/octet-stream",
                         name.strip() or ref[7:19]) for ref, name in _REF.findall(cells.get("evidence", ""))]
    if not evidence:
        problems.append(("evidence", "required", "sha256:<hex> 文件名"))
    if problems or assessed is None:
        return None
    return HousingApplication(
        disaster_id=disaster_id, village=cells.get("village", "")[:12], head_name=cells.get("head_name", ""),
        id_number=cells.get("id_number", ""), phone=cells.get("phone", ""), address=cells.get("address", ""),
        damage=damage, rooms=int(rooms), mode=mode, evidence=evidence, assessed_on=assessed,
        card_number=cells.get("card_number", ""), flood_storage=cells.get("flood_storage", "") in ("是", "yes", "1"))


