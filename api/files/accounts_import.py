"""Accounts in from a spreadsheet (.xlsx or .csv): one row per account, all rows or none.

Columns (Chinese or English headers): 用户名 / username, 角色 / role (township, county, city, province,
relief_officer, auditor — or 乡镇, 县, 市, 省, 救助, 审计), 管辖范围 / scope (area-code prefix), optional
名称 / name, 状态 / status (正常 / 暂停, active / suspended), 理由 / reason (needed when an existing
account's role, scope or status changes, unless given for the whole file). Rows that are entirely blank are
ignored; the report names rows by the spreadsheet's own row numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from api.files.relief_import import _records, _text, header_name
from ledger.accounts.bulk import AccountRow, BulkResult, import_accounts
from ledger.store.errors import FieldProblem, InvalidInput

if TYPE_CHECKING:
    from ledger.runtime import LedgerRuntime
    from ledger.store.actors import Actor

COLUMNS = {
    "用户名": "username", "账号": "username", "username": "username", "角色": "role", "role": "role",
    "管辖范围": "scope", "区划代码": "scope", "scope": "scope", "名称": "display_name", "单位名称": "display_name",
    "name": "display_name", "状态": "status", "status": "status", "理由": "reason", "reason": "reason",
}

ROLE_NAMES = {"乡镇": "township", "县": "county", "县级": "county", "市": "city", "市级": "city", "省": "province",
              "省级": "province", "救助": "relief_officer", "救助人员": "relief_officer", "审计": "auditor"}


def read_rows(path: Path) -> list[AccountRow]:
    records = _records(Path(path))
    header, mapping = None, {}
    for number, values in records[:10]:
        names = [header_name(v).lower() for v in values]
        found = {i: COLUMNS[name] for i, name in enumerate(names) if name in COLUMNS}
        if {"username", "role", "scope"} <= set(found.values()):
            header, mapping = number, found
            break
    if header is None:
        raise InvalidInput("找不到表头", "no header row naming 用户名, 角色 and 管辖范围 (username, role, scope)",
                           fields=[FieldProblem("file", "no_header", "a header row within the first 10 rows")])
    rows = []
    for number, values in records:
        if number <= header:
            continue
        cells = {mapping[i]: _text(v) for i, v in enumerate(values) if i in mapping}
        if not any(cells.values()):
            continue  # entirely blank rows (pre-formatted or pre-numbered) are not accounts
        role = cells.get("role", "")
        rows.append(AccountRow(row=number, username=cells.get("username", ""), role=ROLE_NAMES.get(role, role),
                               scope=cells.get("scope", ""), display_name=cells.get("display_name", ""),
                               status=cells.get("status", ""), reason=cells.get("reason", "")))
    return rows


def import_file(runtime: LedgerRuntime, actor: Actor, path: Path, reason: str = "",
                issue_tokens: bool = False) -> BulkResult:
    return import_accounts(runtime.accounts, actor, read_rows(path), reason, issue_tokens)
