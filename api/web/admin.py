"""Administrators: set an account's password, change its role or scope (its sessions end), see sign-in failures."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.web.auth import require_viewer
from api.web.forms import text
from api.web.messages import field_errors
from api.web.pages import form_of, page_router, redirect, require_role
from api.web.templating import render
from ledger.store.actors import Role
from ledger.store.errors import DomainError

router = page_router()


async def _page(request: Request, status_code: int = 200, **context: object) -> Response:
    viewer = require_viewer(request)
    require_role(viewer, Role.ADMIN)
    failures = await run_in_threadpool(request.app.state.runtime.accounts.passwords.recent_sign_ins, viewer.actor, True)
    return render(request, "admin/accounts.html", status_code=status_code, failures=failures[:30], **context)


@router.get("/admin/accounts")
async def accounts_page(request: Request, done: str = "") -> Response:
    return await _page(request, done=done)


@router.post("/admin/accounts/password")
async def set_password(request: Request) -> Response:
    viewer, values = await form_of(request)
    try:
        await run_in_threadpool(request.app.state.runtime.accounts.passwords.set_password, viewer.actor,
                                text(values, "username"), values.get("password", ""))
    except DomainError as exc:
        return await _page(request, status_of(exc), errors=field_errors(exc), form_error=exc.zh, failed_form="password")
    return redirect("/admin/accounts", done="password")


@router.post("/admin/accounts/access")
async def change_access(request: Request) -> Response:
    viewer, values = await form_of(request)
    try:
        await run_in_threadpool(request.app.state.runtime.accounts.passwords.change_access, viewer.actor,
                                text(values, "username"), values.get("role", ""), text(values, "scope"),
                                text(values, "reason"))
    except DomainError as exc:
        return await _page(request, status_of(exc), errors=field_errors(exc), form_error=exc.zh, failed_form="access")
    return redirect("/admin/accounts", done="access")
