"""Accounts: who may act, with which role and scope, and their tokens.

Event-sourced so an auditor can see who held which right when. Bearer
tokens are never stored: only a keyed hash (HMAC with a server-side pepper),
and a `TokenIndex` aggregate whose id is derived from that hash leads from a
presented token to its account in one lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.store.actors import SCOPE_DIGITS, Actor, Role
from ledger.store.errors import Conflict, FieldProblem, InvalidInput

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


TOKEN_PREFIX = "rl_"


def account_id(username: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/accounts/{username.lower()}")


def token_hash(token: str, pepper: bytes) -> str:
    return hmac.new(pepper, token.encode("utf-8"), hashlib.sha256).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def validate_account(username: str, role: str, scope: str) -> Role:
    problems = []
    if not USERNAME.match(username or ""):
        problems.append(FieldProblem("username", "bad_username", "3–64 letters, digits, _ . @ -"))
    try:
        parsed = Role(role)
    except ValueError:
        problems.append(FieldProblem("role", "bad_role", f"one of: {', '.join(r.value for r in Role)}"))
        parsed = None
    if not (scope or "").isdigit() or len(scope) not in (2, 4, 6, 9, 12) or scope.startswith("00"):
        problems.append(FieldProblem("scope", "bad_scope", "an area-code prefix of 2, 4, 6, 9 or 12 digits"))
    elif parsed in SCOPE_DIGITS and len(scope) != SCOPE_DIGITS[parsed]:
        problems.append(
            FieldProblem("scope", "scope_level", f"a {parsed.value} account's scope has {SCOPE_DIGITS[parsed]} digits")
        )
    if problems or parsed is None:
        raise InvalidInput("账号信息有误", "invalid account details", fields=problems)
    return parsed


class Account(Aggregate):
    """账号."""

    @classmethod
    def create_id(cls, username: str, **_: Any) -> UUID:
        return account_id(username)

    @event("Registered")
    def __init__(self, username: str, display_name: str, role: str, scope: str, actor: dict[str, Any]) -> None:
        self.username = username
        self.display_name = display_name
        self.role = role
        self.scope = scope
        self.active = True
        self.suspended = False
        self.tokens: dict[str, dict[str, Any]] = {}
        self.password_generation = 0

    def change_access(self, role: str, scope: str, reason: str, actor: dict[str, Any]) -> None:
        """A new role or scope (sign-in sessions end with it)."""
        self._require_active()
        if role == self.role and scope == self.scope:
            raise Conflict("角色和管辖范围未改变", "role and scope are unchanged", code="unchanged")
        self._access_changed(role=role, scope=scope, reason=reason, actor=actor)

    @event("AccessChanged")
    def _access_changed(self, role: str, scope: str, reason: str, actor: dict[str, Any]) -> None:
        self.role = role
        self.scope = scope

    def suspend(self, reason: str, actor: dict[str, Any]) -> None:
        """暂停: the account's tokens and sign-in sessions stop working at once, until it is restored."""
        self._require_active()
        if self.is_suspended:
            raise Conflict("账号已暂停", "the account is already suspended", code="already_suspended")
        self._suspended(reason=reason, actor=actor)

    @event("Suspended")
    def _suspended(self, reason: str, actor: dict[str, Any]) -> None:
        self.suspended = True

    def restore(self, reason: str, actor: dict[str, Any]) -> None:
        """恢复: a suspended account works again (with its tokens; sign-in sessions ended with the suspension)."""
        self._require_active()
        if not self.is_suspended:
            raise Conflict("账号未暂停", "the account is not suspended", code="not_suspended")
        self._restored(reason=reason, actor=actor)

    @event("Restored")
    def _restored(self, reason: str, actor: dict[str, Any]) -> None:
        self.suspended = False

    @property
    def is_suspended(self) -> bool:
        return bool(getattr(self, "suspended", False))

    @property
    def usable(self) -> bool:
        """Whether its tokens and sessions work: not revoked and not suspended."""
        return self.active and not self.is_suspended

    @property
    def status(self) -> str:
        return "revoked" if not self.active else "suspended" if self.is_suspended else "active"

    def change_password(self, how: str, actor: dict[str, Any]) -> None:
        """密码变更: the event records who and how (set by an admin or the CLI, changed by the owner),
        never the hash, which lives in the credentials table written in the same transaction."""
        self._require_active()
        self._password_changed(how=how, actor=actor)

    @event("PasswordChanged")
    def _password_changed(self, how: str, actor: dict[str, Any]) -> None:
        self.password_generation = getattr(self, "password_generation", 0) + 1

    def as_actor(self) -> Actor:
        return Actor(account_id=self.id, username=self.username, role=Role(self.role), scope=self.scope)

    def issue_token(self, token_id: str, hashed: str, label: str, actor: dict[str, Any]) -> None:
        self._require_active()
        if self.is_suspended:
            raise Conflict("账号已暂停，请先恢复", "the account is suspended; restore it first", code="account_suspended")
        self._token_issued(token_id=token_id, token_hash=hashed, label=label, actor=actor)

    @event("TokenIssued")
    def _token_issued(self, token_id: str, token_hash: str, label: str, actor: dict[str, Any]) -> None:
        self.tokens[token_id] = {"hash": token_hash, "label": label, "revoked": False}

    def revoke_token(self, token_id: str, actor: dict[str, Any]) -> None:
        if token_id not in self.tokens or self.tokens[token_id]["revoked"]:
            raise Conflict("令牌不存在或已撤销", "no such active token", code="no_such_token")
        self._token_revoked(token_id=token_id, actor=actor)

    @event("TokenRevoked")
    def _token_revoked(self, token_id: str, actor: dict[str, Any]) -> None:
        self.tokens[token_id]["revoked"] = True

    def revoke(self, reason: str, actor: dict[str, Any]) -> None:
        """Disable the account: all its tokens stop working at once."""
        self._require_active()
        self._revoked(reason=reason, actor=actor)

    @event("Revoked")
    def _revoked(self, reason: str, actor: dict[str, Any]) -> None:
        self.active = False

    def token_valid(self, token_id: str, hashed: str) -> bool:
        token = self.tokens.get(token_id)
        return (
            self.usable
            and token is not None
            and not token["revoked"]
            and hmac.compare_digest(token["hash"], hashed)
        )

    def _require_active(self) -> None:
        if not self.active:
            raise Conflict("账号已停用", "the account has been revoked", code="account_revoked")


class TokenIndex(Aggregate):
    """Leads from a token's keyed hash to the account that holds it."""

    @classmethod
    def create_id(cls, token_hash: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"/tokens/{token_hash}")

    @event("Indexed")
    def __init__(self, token_hash: str, account_id: UUID, token_id: str) -> None:
        self.account_id = account_id
        self.token_id = token_id
