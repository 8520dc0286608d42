"""Use cases of accounts: register, issue and revoke tokens, revoke, authenticate."""

from __future__ import annotations

import getpass
import secrets
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.application import AggregateNotFoundError

from ledger.accounts.aggregate import (
    TOKEN_PREFIX,
    Account,
    TokenIndex,
    account_id,
    new_token,
    token_hash,
    validate_account,
)
from ledger.accounts.passwords import PasswordService
from ledger.accounts.sessions import SessionService
from ledger.store.actors import Actor, Role
from ledger.store.commands import CommandResult, IdempotencyKey, run
from ledger.store.errors import Conflict, NotAuthenticated, NotFound, NotPermitted

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


def local_operator() -> Actor:
    """The CLI acts as `local-operator:<os user>`: whoever can run it on the server."""
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    name = f"local-operator:{user}"
    return Actor(account_id=uuid5(NAMESPACE_URL, f"/operators/{name}"), username=name, role=Role.ADMIN, scope="")


class AccountService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app
        self.passwords = PasswordService(runtime)
        self.sessions = SessionService(runtime, self.passwords.store)

    def register(
        self, actor: Actor, username: str, role: str, scope: str, display_name: str = "",
        idempotency: IdempotencyKey | None = None,
    ) -> CommandResult:
        """Add an account. Only admins (or the local operator) may; admin accounts only from the CLI."""
        self._require_admin(actor)
        parsed = validate_account(username, role, scope)
        self.rt.areas.require(scope, "scope")
        if parsed is Role.ADMIN and not actor.username.startswith("local-operator:"):
            raise NotPermitted("管理员账号只能在服务器命令行创建", "admin accounts can only be created from the CLI")

        def attempt() -> tuple[Account, list[Any], int]:
            if account_id(username) in self.app.repository:
                raise Conflict(
                    f"账号 {username} 已存在", f"account {username} already exists",
                    details={"existing_id": str(account_id(username))}, code="duplicate_account",
                )
            account = Account(username=username, display_name=display_name or username, role=parsed.value,
                              scope=scope, actor=actor.as_dict())
            return account, [], 201

        return run(self.app, attempt, idempotency)

    def issue_token(self, actor: Actor, username: str, label: str = "") -> tuple[str, CommandResult]:
        """A new bearer token; the clear token is returned once and never stored."""
        self._require_admin(actor)
        token = new_token()
        hashed = token_hash(token, self.rt.config.token_pepper)
        token_id = secrets.token_hex(6)

        def attempt() -> tuple[Account, list[Any], int]:
            account = self.get(username)
            account.issue_token(token_id, hashed, label, actor.as_dict())
            return account, [TokenIndex(token_hash=hashed, account_id=account.id, token_id=token_id)], 201

        return token, run(self.app, attempt)

    def revoke(self, actor: Actor, username: str, reason: str) -> CommandResult:
        self._require_admin(actor)

        def attempt() -> tuple[Account, list[Any], int]:
            account = self.get(username)
            account.revoke(reason, actor.as_dict())
            return account, [], 200

        return run(self.app, attempt)

    def revoke_token(self, actor: Actor, username: str, token_id: str) -> CommandResult:
        self._require_admin(actor)

        def attempt() -> tuple[Account, list[Any], int]:
            account = self.get(username)
            account.revoke_token(token_id, actor.as_dict())
            return account, [], 200

        return run(self.app, attempt)

    def get(self, username: str) -> Account:
        try:
            return self.app.repository.get(account_id(username))
        except AggregateNotFoundError:
            raise NotFound(f"账号 {username} 不存在", f"account {username} not found") from None

    def exists(self, username: str) -> bool:
        return account_id(username) in self.app.repository

    def authenticate(self, token: str | None) -> Actor:
        """Bearer token → the acting account; refused when unknown, revoked or disabled."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise NotAuthenticated("缺少或无效的令牌", "missing or invalid bearer token")
        hashed = token_hash(token, self.rt.config.token_pepper)
        try:
            index: TokenIndex = self.app.repository.get(TokenIndex.create_id(hashed))
            account: Account = self.app.repository.get(index.account_id)
        except AggregateNotFoundError:
            raise NotAuthenticated("缺少或无效的令牌", "missing or invalid bearer token") from None
        if not account.token_valid(index.token_id, hashed):
            raise NotAuthenticated("令牌已撤销或账号已停用", "the token was revoked or the account disabled")
        return account.as_actor()

    @staticmethod
    def _require_admin(actor: Actor) -> None:
        if actor.role is not Role.ADMIN:
            raise NotPermitted("只有管理员可以管理账号", "only administrators manage accounts")
