"""Who is signed in: the session cookie, CSRF tokens, and the client address.

The cookie holds only a random session token (HttpOnly, SameSite=Lax,
Secure when the request came over TLS); the session lives server-side
(`ledger.accounts.sessions`) and ends at once on sign-out or on a password,
role or scope change. Every form carries a CSRF token derived from the
session; cookie-authenticated calls to /v1 and /graphql must send it in the
`X-CSRF-Token` header (bearer calls need nothing). Before sign-in, the form
is protected by a double-submit token in its own short cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ledger.store.actors import Actor
from ledger.store.errors import NotAuthenticated

SESSION_COOKIE = "rl_session"
PRESIGN_COOKIE = "rl_presign"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person of a page request."""

    actor: Actor
    session: str
    csrf: str


class SignInNeeded(Exception):
    """Raised by a page that needs a session; answered with a redirect to the sign-in page."""

    def __init__(self, next_url: str = "/") -> None:
        super().__init__(next_url)
        self.next_url = next_url


def client_address(request: Request) -> str:
    """The client's address for sign-in throttling and session records: the peer, unless the peer is one of the
    configured trusted proxies (`RELIEF_TRUSTED_PROXIES`), then the nearest X-Forwarded-For hop that is not a
    trusted proxy itself — the same rule as the API's failed-token throttle. A client that sends the header
    itself, not through a trusted proxy, is still known by its own address."""
    peer = request.client.host if request.client else None
    throttle = getattr(request.app.state, "auth_throttle", None)
    if throttle is None:
        return peer or "unknown"
    return str(throttle.client(peer, request.headers.get("x-forwarded-for")))


def viewer_of(request: Request) -> Viewer | None:
    """The session's account, resolved once per request."""
    if hasattr(request.state, "viewer"):
        return request.state.viewer  # type: ignore[no-any-return]
    token = request.cookies.get(SESSION_COOKIE)
    viewer = None
    if token:
        sessions = request.app.state.runtime.accounts.sessions
        actor = sessions.resolve(token)
        if actor is not None:
            viewer = Viewer(actor, token, sessions.csrf_token(token))
    request.state.viewer = viewer
    return viewer


def require_viewer(request: Request) -> Viewer:
    viewer = viewer_of(request)
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target)
    return viewer


def check_csrf(request: Request, viewer: Viewer, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(viewer.csrf, presented):
        raise NotAuthenticated("表单已过期，请刷新页面后重试", "missing or stale form token (CSRF); reload the page",
                               code="csrf_failed")


def cookie_actor_for_api(request: Request) -> Actor | None:
    """A cookie-authenticated call to /v1 or /graphql: the session's account if it sent the CSRF header.

    None when there is no session cookie; a session without a valid header is refused
    (a page elsewhere cannot make the browser act for its user)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    sessions = request.app.state.runtime.accounts.sessions
    actor = sessions.resolve(token)
    if actor is None:
        return None
    if not sessions.csrf_valid(token, request.headers.get(CSRF_HEADER)):
        raise NotAuthenticated("使用登录会话调用接口须附 X-CSRF-Token 请求头",
                               "cookie-authenticated API calls need the X-CSRF-Token header", code="csrf_failed")
    return actor  # type: ignore[no-any-return]


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=is_tls(request), samesite="lax", path="/")


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=is_tls(request), samesite="lax")


def presign_token(request: Request) -> tuple[str, bool]:
    """The sign-in form's double-submit token: (token, whether a new cookie must be set)."""
    existing = request.cookies.get(PRESIGN_COOKIE)
    if existing and len(existing) == 43:
        return existing, False
    return secrets.token_urlsafe(32), True


def set_presign_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(PRESIGN_COOKIE, token, httponly=True, secure=is_tls(request), samesite="strict",
                        path="/signin", max_age=3600)


def presign_valid(request: Request, presented: Any) -> bool:
    cookie = request.cookies.get(PRESIGN_COOKIE)
    return bool(cookie) and isinstance(presented, str) and hmac.compare_digest(cookie or "", presented)
