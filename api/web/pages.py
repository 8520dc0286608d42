"""What every page module shares: its router (errors as HTML pages), form helpers, read-your-writes waits.

A refused command is shown beside its fields by the page that handles the
form; anything a page does not handle itself (a role or scope refusal, an
unknown process) becomes an error page with the same status the API would
give, in Chinese.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.web.auth import CSRF_FIELD, SignInNeeded, Viewer, check_csrf, require_viewer
from api.web.templating import render
from ledger.store.actors import Role
from ledger.store.commands import IdempotencyKey
from ledger.store.errors import DomainError, NotPermitted

WAIT_SECONDS = 10.0


class PageRoute(APIRoute):
    """Routes whose refusals render as pages (the API's JSON handlers stay for /v1)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                raise
            except DomainError as exc:
                return render(request, "error.html", status_code=status_of(exc), error=exc)

        return route


def page_router() -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False)


async def form_of(request: Request) -> tuple[Viewer, dict[str, str]]:
    """The signed-in viewer and the posted form, after checking its CSRF token."""
    viewer = require_viewer(request)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(request, viewer, values.get(CSRF_FIELD))
    return viewer, values


def require_role(viewer: Viewer, *roles: Role) -> None:
    if viewer.actor.role not in roles:
        raise NotPermitted("本页面不适用于当前账号的角色", "this page is not for this account's role")


def idempotency(request: Request, viewer: Viewer, values: dict[str, str], body: dict[str, Any]) -> IdempotencyKey:
    """The form's idempotency key (made when the form was drawn, kept by an offline draft), scoped as the API's."""
    from api.deps import idempotency_key

    key = values.get("idempotency_key") or str(uuid.uuid4())
    result = idempotency_key(request, viewer.actor, key, body)
    assert result is not None
    return result


def new_key() -> str:
    return str(uuid.uuid4())


def redirect(path: str, **query: Any) -> RedirectResponse:
    q = {k: v for k, v in query.items() if v not in (None, "")}
    return RedirectResponse(path + (f"?{urlencode(q)}" if q else ""), status_code=303)


async def wait_for(request: Request, position: Any, names: list[str]) -> bool:
    """Read-your-writes: wait (bounded) until the named projections have processed `position`."""
    host = request.app.state.projections
    try:
        target = int(position or 0)
    except ValueError:
        return True
    if host is None or target <= 0:
        return True
    return bool(await run_in_threadpool(host.wait, target, WAIT_SECONDS, names))


def view(request: Request, name: str) -> Any:
    """A projection's view, as GraphQL reads it."""
    host = request.app.state.projections
    if host is None:
        from ledger.store.errors import Unavailable

        raise Unavailable("读模型未在本进程运行", "projections are not running in this process")
    return host.view(name)
