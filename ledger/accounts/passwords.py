"""Passwords and signing in: set by an admin or the CLI, changed by the owner, checked with argon2.

The hash (argon2id, `argon2-cffi`) is kept in the credentials table, never in
an event; the `PasswordChanged` event (who, how) and the new hash are saved
in one transaction, and every session of the account ends with it. Failed
sign-ins are recorded with the client address and slowed: after a few
failures each answer waits longer, and after many the account (or the
address) is refused for a while — whether or not the password was right.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger.accounts.aggregate import Account, account_id
from ledger.store.accounts import AccountStore
from ledger.store.actors import Actor, Role
from ledger.store.commands import CommandResult
from ledger.store.errors import Conflict, FieldProblem, InvalidInput, NotAuthenticated, NotFound, NotPermitted

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext

MIN_LENGTH = 10
MAX_LENGTH = 256

WINDOW = timedelta(minutes=15)
SLOW_AFTER = 3  # failures (per username) before answers are slowed
LOCK_AFTER = 10  # failures per username within the window: refused until it passes
CLIENT_LOCK_AFTER = 50  # failures from one address within the window, across usernames

HOW = {"admin": "set by an administrator", "cli": "set from the server command line", "owner": "changed by the owner"}


def check_password(password: str, username: str, field: str = "password") -> None:
    """A password worth having: long enough, not the username, not one repeated character."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(FieldProblem(field, "too_short", f"密码至少 {MIN_LENGTH} 个字符 / at least {MIN_LENGTH} characters"))
    elif len(password) > MAX_LENGTH:
        problems.append(FieldProblem(field, "too_long", f"密码最多 {MAX_LENGTH} 个字符 / at most {MAX_LENGTH} characters"))
    elif password.lower() == username.lower() or len(set(password)) < 4:
        problems.append(FieldProblem(field, "too_weak", "密码过于简单 / the password is too easy to guess"))
    if problems:
        raise InvalidInput("密码不符合要求", "the password does not meet the rules", fields=problems)


@dataclass(frozen=True)
class SignInRefused:
    """Why a sign-in failed, and how long the answer should be held back (seconds)."""

    error: NotAuthenticated
    delay: float


class PasswordService:
    def __init__(self, runtime: LedgerContext, hasher: PasswordHasher | None = None) -> None:
        self.rt = runtime
        self.app = runtime.app
        self.store = AccountStore(runtime.app)
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # --- setting ---------------------------------------------------------------------

    def set_password(self, actor: Actor, username: str, password: str) -> CommandResult:
        """An administrator (or the CLI's local operator) sets an account's password."""
        if actor.role is not Role.ADMIN:
            raise NotPermitted("只有管理员可以设置他人密码", "only administrators set other accounts' passwords")
        how = "cli" if actor.username.startswith("local-operator:") else "admin"
        check_password(password, username)
        return self._save_password(actor, username, password, how)

    def change_own_password(self, actor: Actor, current: str, new: str) -> CommandResult:
        """The owner changes their password, proving the current one."""
        stored = self.store.password_hash(actor.account_id)
        if stored is None or not self._verify(stored, current):
            raise InvalidInput("当前密码不正确", "the current password is wrong",
                               fields=[FieldProblem("current_password", "wrong_password", "当前密码不正确 / wrong password")])
        check_password(new, actor.username, "new_password")
        if self._verify(stored, new):
            raise InvalidInput("新密码不能与当前密码相同", "the new password must differ from the current one",
                               fields=[FieldProblem("new_password", "unchanged", "新密码与当前密码相同 / unchanged")])
        return self._save_password(actor, actor.username, new, "owner")

    def has_password(self, username: str) -> bool:
        return self.store.password_hash(account_id(username)) is not None

    def _save_password(self, actor: Actor, username: str, password: str, how: str) -> CommandResult:
        hashed = self.hasher.hash(password)
        for _ in range(20):
            account = self._account(username)
            account.change_password(how=HOW[how], actor=actor.as_dict())
            write = self.store.set_password_write(account.id, hashed, self.rt.now())
            try:
                recordings = self.app.save(account, side_writes=[write])
            except IntegrityError:
                continue  # the account changed meanwhile (a token issued): decide again on the new version
            return CommandResult(account.id, account.version, max(r.notification.id for r in recordings))
        raise Conflict("并发冲突过多，请稍后重试", "too many concurrent changes; please retry", code="contention")

    # --- role and scope ----------------------------------------------------------------

    def change_access(self, actor: Actor, username: str, role: str, scope: str, reason: str) -> CommandResult:
        """An administrator changes an account's role or scope; its sessions end in the same save."""
        from ledger.accounts.aggregate import validate_account

        if actor.role is not Role.ADMIN:
            raise NotPermitted("只有管理员可以管理账号", "only administrators manage accounts")
        parsed = validate_account(username, role, scope)
        self.rt.areas.require(scope, "scope")
        if parsed is Role.ADMIN and not actor.username.startswith("local-operator:"):
            raise NotPermitted("管理员账号只能在服务器命令行创建", "admin accounts can only be made from the CLI")
        if not reason.strip():
            raise InvalidInput("请说明理由", "give a reason", fields=[FieldProblem("reason", "required", "required")])
        for _ in range(20):
            account = self._account(username)
            account.change_access(parsed.value, scope, reason, actor.as_dict())
            try:
                recordings = self.app.save(account, side_writes=[self.store.end_sessions_write(account.id)])
            except IntegrityError:
                continue
            return CommandResult(account.id, account.version, max(r.notification.id for r in recordings))
        raise Conflict("并发冲突过多，请稍后重试", "too many concurrent changes; please retry", code="contention")

    def suspend(self, actor: Actor, username: str, reason: str) -> CommandResult:
        """暂停 an account: its tokens fail from now on and its sign-in sessions end in the same save."""
        return self._status_change(actor, username, reason, lambda account, why, who: account.suspend(why, who))

    def restore(self, actor: Actor, username: str, reason: str) -> CommandResult:
        """恢复 a suspended account (its tokens work again; it signs in anew)."""
        return self._status_change(actor, username, reason, lambda account, why, who: account.restore(why, who))

    def _status_change(self, actor: Actor, username: str, reason: str, change: Any) -> CommandResult:
        if actor.role is not Role.ADMIN:
            raise NotPermitted("只有管理员可以管理账号", "only administrators manage accounts")
        if not reason.strip():
            raise InvalidInput("请说明理由", "give a reason", fields=[FieldProblem("reason", "required", "required")])
        for _ in range(20):
            account = self._account(username)
            change(account, reason.strip(), actor.as_dict())
            try:
                recordings = self.app.save(account, side_writes=[self.store.end_sessions_write(account.id)])
            except IntegrityError:
                continue
            return CommandResult(account.id, account.version, max(r.notification.id for r in recordings))
        raise Conflict("并发冲突过多，请稍后重试", "too many concurrent changes; please retry", code="contention")

    # --- signing in --------------------------------------------------------------------

    def sign_in(self, username: str, password: str, client: str) -> Actor | SignInRefused:
        """The account for a correct username and password; otherwise why not, and how long to hold the answer."""
        now = self.rt.now()
        username = username.strip()[:64]
        by_user, by_client = self.store.failures_since(username.lower(), client, now - WINDOW)
        if by_user >= LOCK_AFTER or by_client >= CLIENT_LOCK_AFTER:
            self.store.record_sign_in(username.lower(), client, now, False, "locked")
            return SignInRefused(NotAuthenticated(
                "登录失败次数过多，请 15 分钟后再试", "too many failed sign-ins; try again in 15 minutes",
                code="sign_in_locked"), delay=2.0)
        account = self._find(username)
        stored = self.store.password_hash(account.id) if account is not None else None
        ok = self._verify(stored or self._dummy(), password) and stored is not None
        reason = "ok"
        if not ok:
            reason = "unknown_account" if account is None else "no_password" if stored is None else "wrong_password"
        elif not account.active:  # type: ignore[union-attr]
            ok, reason = False, "account_revoked"
        elif account.is_suspended:  # type: ignore[union-attr]
            ok, reason = False, "account_suspended"
        self.store.record_sign_in(username.lower(), client, now, ok, reason)
        if not ok:
            failures = by_user + 1
            delay = 0.0 if failures < SLOW_AFTER else min(2.0 ** (failures - SLOW_AFTER), 16.0)
            return SignInRefused(NotAuthenticated("用户名或密码错误", "wrong username or password",
                                                  code="sign_in_failed"), delay=delay)
        assert account is not None and stored is not None
        if self.hasher.check_needs_rehash(stored):
            self.store.rehash(account.id, stored, self.hasher.hash(password))
        return account.as_actor()

    def recent_sign_ins(self, actor: Actor, failed_only: bool = False) -> list[dict[str, Any]]:
        if actor.role not in (Role.ADMIN, Role.AUDITOR):
            raise NotPermitted("无权查看登录记录", "only administrators and auditors see sign-in records")
        return self.store.sign_ins(failed_only=failed_only)

    # --- parts -----------------------------------------------------------------------

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        """A hash to verify against when there is no account, so both answers take as long."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(f"no account {time.time_ns()}")
        return self._dummy_hash

    def _find(self, username: str) -> Account | None:
        try:
            found = self.app.repository.get(account_id(username))
        except AggregateNotFoundError:  # the same answer as a wrong password
            return None
        return found if isinstance(found, Account) else None

    def _account(self, username: str) -> Account:
        found = self._find(username)
        if found is None:
            raise NotFound(f"账号 {username} 不存在", f"account {username} not found")
        return found
