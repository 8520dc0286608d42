"""Many accounts in one run (provisioning a county's townships, a province's counties): each row
creates an account or brings an existing one to the row's role, scope and status — as events on the
Account aggregate (Registered, AccessChanged, Suspended, Restored) — all in one transaction, or
nothing when any row is bad. Sign-in sessions of changed accounts end in the same save."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from ledger.accounts.aggregate import Account, TokenIndex, account_id, new_token, token_hash, validate_account
from ledger.store.actors import Actor, Role
from ledger.store.errors import Conflict, DomainError, FieldProblem, InvalidInput, NotPermitted

if TYPE_CHECKING:
    from ledger.accounts.service import AccountService

STATUS = {"": "", "active": "active", "正常": "active", "启用": "active", "恢复": "active",
          "suspended": "suspended", "暂停": "suspended"}

#: The spreadsheet's column for each field (for the row report).
COLUMN = {"username": "用户名", "role": "角色", "scope": "管辖范围", "display_name": "名称", "status": "状态",
          "reason": "理由"}


@dataclass(frozen=True)
class AccountRow:
    row: int  # the spreadsheet's own row number
    username: str
    role: str
    scope: str
    display_name: str = ""
    status: str = ""  # "" keeps it; active / suspended (正常 / 暂停)
    reason: str = ""


@dataclass
class RowOutcome:
    row: int
    username: str
    action: str  # created | updated | unchanged
    changes: list[str] = field(default_factory=list)


@dataclass
class BulkResult:
    outcomes: list[RowOutcome]
    position: int
    tokens: dict[str, str] = field(default_factory=dict)  # new accounts' tokens (clear, shown once)


def import_accounts(service: AccountService, actor: Actor, rows: list[AccountRow], reason: str = "",
                    issue_tokens: bool = False) -> BulkResult:
    """Apply every row, or none: InvalidInput names each bad row and column (`row N.列`)."""
    if actor.role is not Role.ADMIN:
        raise NotPermitted("只有管理员可以管理账号", "only administrators manage accounts")
    if not rows:
        raise InvalidInput("文件没有账号行", "the file has no account rows",
                           fields=[FieldProblem("file", "empty_file", "no data rows")])
    app = service.app
    for _ in range(20):
        problems: list[FieldProblem] = []
        outcomes: list[RowOutcome] = []
        to_save: list[Any] = []
        ended: list[Any] = []
        tokens: dict[str, str] = {}
        seen: dict[str, int] = {}
        for r in rows:
            outcome, saved = _row(service, actor, r, reason, seen, problems)
            if outcome is None:
                continue
            outcomes.append(outcome)
            if saved is None:
                continue
            to_save.append(saved)
            if outcome.action == "updated":
                ended.append(service.passwords.store.end_sessions_write(saved.id))
            elif issue_tokens and not saved.is_suspended:
                clear = new_token()
                hashed = token_hash(clear, service.rt.config.token_pepper)
                token_id = secrets.token_hex(6)
                saved.issue_token(token_id, hashed, "import", actor.as_dict())
                to_save.append(TokenIndex(token_hash=hashed, account_id=saved.id, token_id=token_id))
                tokens[saved.username] = clear
        if problems:
            raise InvalidInput(f"{len({p.field.split('.')[0] for p in problems})} 行有误，未导入任何账号",
                               "some rows are invalid; no account was created or changed",
                               fields=problems[:500], code="import_refused", details={"rows": len(rows)})
        if not to_save:
            return BulkResult(outcomes, service.rt.position())
        try:
            recordings = app.save(*to_save, side_writes=ended) if ended else app.save(*to_save)
        except IntegrityError:
            continue  # an account changed meanwhile: decide every row again
        return BulkResult(outcomes, max(r.notification.id for r in recordings), tokens)
    raise Conflict("并发冲突过多，请稍后重试", "too many concurrent changes; please retry", code="contention")


def _row(service: AccountService, actor: Actor, r: AccountRow, default_reason: str, seen: dict[str, int],
         problems: list[FieldProblem]) -> tuple[RowOutcome | None, Account | None]:
    def bad(column: str, code: str, message: str) -> tuple[None, None]:
        problems.append(FieldProblem(f"row {r.row}.{COLUMN[column]}", code, message))
        return None, None

    before = len(problems)
    try:
        role = validate_account(r.username, r.role, r.scope)
    except InvalidInput as exc:
        for p in exc.fields:
            bad(p.field, p.code, p.message)
        return None, None
    try:
        service.rt.areas.require(r.scope, "scope")
    except DomainError as exc:
        bad("scope", "unknown_area", exc.message)
    if role is Role.ADMIN:
        return bad("role", "admin_not_imported", "admin accounts are made one at a time with 'accounts add'")
    status = STATUS.get(r.status.strip().lower()) if r.status is not None else ""
    if status is None:
        bad("status", "bad_status", "正常 (active) or 暂停 (suspended)")
    key = r.username.lower()
    if key in seen:
        bad("username", "duplicate_in_file", f"the same account as row {seen[key]}")
    seen.setdefault(key, r.row)
    if len(problems) > before:
        return None, None
    why = (r.reason or default_reason).strip()
    who = actor.as_dict()
    if account_id(r.username) not in service.app.repository:
        account = Account(username=r.username, display_name=r.display_name or r.username, role=role.value,
                          scope=r.scope, actor=who)
        if status == "suspended":
            account.suspend(why or "导入时暂停", who)
        return RowOutcome(r.row, r.username, "created", [f"{role.value} {r.scope}"]), account
    account = service.get(r.username)
    if not account.active:
        return bad("username", "account_revoked", "this account was revoked; it cannot be changed")
    changes = []
    if (role.value, r.scope) != (account.role, account.scope):
        changes.append(f"{account.role} {account.scope} → {role.value} {r.scope}")
    if status and status != account.status:
        changes.append(f"{account.status} → {status}")
    if not changes:
        return RowOutcome(r.row, r.username, "unchanged"), None
    if not why:
        return bad("reason", "reason_required", "a change of role, scope or status needs a reason (理由 or --reason)")
    if (role.value, r.scope) != (account.role, account.scope):
        account.change_access(role.value, r.scope, why, who)
    if status == "suspended" and not account.is_suspended:
        account.suspend(why, who)
    elif status == "active" and account.is_suspended:
        account.restore(why, who)
    return RowOutcome(r.row, r.username, "updated", changes), account
