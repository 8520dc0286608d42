"""Server-side sign-in sessions: opened by a correct password, revocable at once.

The browser holds only a random token; the table holds its keyed hash, the
account, and the role, scope and password generation the session was opened
under. A session resolves only while the account is active and still has
that role, scope and password (a change ends every session in the same save;
the comparison also catches any other path), and while it has been used
within the idle limit and is younger than the absolute limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError

from ledger.accounts.aggregate import Account
from ledger.store.accounts import AccountStore, SessionRow
from ledger.store.actors import Actor

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext

SESSION_PREFIX = "rs_"
TOUCH_EVERY = timedelta(minutes=1)  # last-seen is written at most this often per session


class SessionService:
    idle = timedelta(hours=2)
    longest = timedelta(hours=12)

    def __init__(self, runtime: LedgerContext, store: AccountStore) -> None:
        self.rt = runtime
        self.app = runtime.app
        self.store = store

    def _hash(self, token: str) -> str:
        return hmac.new(self.rt.config.token_pepper, b"session:" + token.encode(), hashlib.sha256).hexdigest()

    def open(self, actor: Actor, client: str) -> str:
        """A new session for an account that has just proven its password; the token goes to the browser only."""
        account: Account = self.app.repository.get(actor.account_id)
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self.rt.now()
        self.store.add_session(self._hash(token), SessionRow(
            account.id, account.role, account.scope, getattr(account, "password_generation", 0), now, now, client[:100],
        ))
        return token

    def resolve(self, token: str | None) -> Actor | None:
        """The account a session token stands for, or None (unknown, ended, expired, or the account changed)."""
        if not token or not token.startswith(SESSION_PREFIX) or len(token) > 100:
            return None
        key = self._hash(token)
        row = self.store.session(key)
        if row is None:
            return None
        now = self.rt.now()
        if now - row.last_seen_at > self.idle or now - row.created_at > self.longest:
            self.store.end_session(key)
            return None
        try:
            account: Account = self.app.repository.get(row.account_id)
        except AggregateNotFoundError:
            self.store.end_session(key)
            return None
        if (not account.usable or account.role != row.role or account.scope != row.scope
                or getattr(account, "password_generation", 0) != row.password_generation):
            self.store.end_session(key)
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            self.store.touch_session(key, now)
        return account.as_actor()

    def csrf_token(self, token: str) -> str:
        """The form token of a session: derived from it, so it needs no storage and dies with it."""
        return hmac.new(self.rt.config.token_pepper, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()

    def csrf_valid(self, token: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token(token), presented or "")

    def end(self, token: str) -> None:
        """Sign out: the session stops working at once."""
        self.store.end_session(self._hash(token))
