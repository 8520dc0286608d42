"""Use cases of accounts: register, issue and revoke tokens, revoke, authenticate."""

from __future__ import annotations

import getpass
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

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


class KnownTokens:
    """What authentication may keep between requests: a token's index entry (written once, never
    changed) and each account as of a version. An account is used only at the version the store
    reports now; any other version is replayed afresh."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, tuple[UUID, str]] = OrderedDict()
        self._accounts: OrderedDict[UUID, Account] = OrderedDict()

    def lookup(self, hashed: str, load: Callable[[str], tuple[UUID, str]]) -> tuple[UUID, str]:
        with self._lock:
            found = self._tokens.get(hashed)
            if found is not None:
                self._tokens.move_to_end(hashed)
                return found
        found = load(hashed)  # unknown tokens are not remembered: one issued later works at once
        self._keep(self._tokens, hashed, found)
        return found

    def account(self, account_id: UUID, version: int, load: Callable[[UUID], Account]) -> Account:
        with self._lock:
            found = self._accounts.get(account_id)
            if found is not None and found.version == version:
                self._accounts.move_to_end(account_id)
                return found
        account = load(account_id)
        if account.version >= version:
            self._keep(self._accounts, account_id, account)
        return account

    def _keep(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        with self._lock:
            table[key] = value
            table.move_to_end(key)
            while len(table) > self.LIMIT:
                table.popitem(last=False)


class AccountService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app
        self.passwords = PasswordService(runtime)
        self.sessions = SessionService(runtime, self.passwords.store)
        self.known_tokens = KnownTokens()

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
        """Bearer token → the acting account; refused when unknown, revoked or disabled.

        One indexed read per request once a token has been seen: the account's latest version. The
        account is replayed only when that version moved (a token issued or revoked, the account
        disabled or its access changed — by this process or any other), so a revocation refuses the
        very next request."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise NotAuthenticated("缺少或无效的令牌", "missing or invalid bearer token")
        hashed = token_hash(token, self.rt.config.token_pepper)
        try:
            account_id_, token_id = self.known_tokens.lookup(hashed, self._token_index)
            account = self.known_tokens.account(account_id_, self._latest_version(account_id_), self._load_account)
        except AggregateNotFoundError:
            raise NotAuthenticated("缺少或无效的令牌", "missing or invalid bearer token") from None
        if not account.token_valid(token_id, hashed):
            raise NotAuthenticated("令牌已撤销或账号已停用", "the token was revoked or the account disabled")
        return account.as_actor()

    def _token_index(self, hashed: str) -> tuple[UUID, str]:
        index: TokenIndex = self.app.repository.get(TokenIndex.create_id(hashed))
        return index.account_id, index.token_id

    def _latest_version(self, aggregate_id: UUID) -> int:
        found = self.app.recorder.select_events(aggregate_id, desc=True, limit=1)
        if not found:
            raise AggregateNotFoundError(aggregate_id)
        return int(found[0].originator_version)

    def _load_account(self, aggregate_id: UUID) -> Account:
        account: Account = self.app.repository.get(aggregate_id)
        return account

    @staticmethod
    def _require_admin(actor: Actor) -> None:
        if actor.role is not Role.ADMIN:
            raise NotPermitted("只有管理员可以管理账号", "only administrators manage accounts")
