"""Signing in and out, and changing one's own password."""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.web.auth import (
    CSRF_FIELD,
    clear_session_cookie,
    client_address,
    presign_token,
    presign_valid,
    require_viewer,
    set_presign_cookie,
    set_session_cookie,
    viewer_of,
)
from api.web.messages import field_errors
from api.web.pages import form_of, page_router, redirect
from api.web.templating import HOME, render
from ledger.accounts.passwords import SignInRefused
from ledger.store.errors import DomainError

router = page_router()


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


@router.get("/")
def home(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer is None:
        return redirect("/signin")
    return redirect(HOME.get(viewer.actor.role.value, "/reports"))


@router.get("/signin")
def signin_page(request: Request, next: str = "") -> Response:
    token, fresh = presign_token(request)
    response = render(request, "signin.html", next=_safe_next(next), presign=token, username="")
    if fresh:
        set_presign_cookie(response, request, token)
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    token, fresh = presign_token(request)
    if not presign_valid(request, form.get(CSRF_FIELD)):
        response = render(request, "signin.html", status_code=400, next=target, presign=token, username=username,
                          form_error="表单已过期，请重新输入后登录（请允许本站 Cookie）")
        set_presign_cookie(response, request, token)
        return response
    runtime = request.app.state.runtime
    client = client_address(request)
    outcome = await run_in_threadpool(runtime.accounts.passwords.sign_in, username, password, client)
    if isinstance(outcome, SignInRefused):
        await asyncio.sleep(outcome.delay)  # slowed without holding a worker thread
        response = render(request, "signin.html", status_code=401, next=target, presign=token, username=username,
                          form_error=outcome.error.zh)
        if fresh:
            set_presign_cookie(response, request, token)
        return response
    session = await run_in_threadpool(runtime.accounts.sessions.open, outcome, client)
    response = RedirectResponse(target or HOME.get(outcome.role.value, "/"), status_code=303)
    set_session_cookie(response, request, session)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    viewer, _ = await form_of(request)
    await run_in_threadpool(request.app.state.runtime.accounts.sessions.end, viewer.session)
    response = redirect("/signin")
    clear_session_cookie(response, request)
    return response


@router.get("/account/password")
def password_page(request: Request) -> Response:
    require_viewer(request)
    return render(request, "password.html")


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        await run_in_threadpool(runtime.accounts.passwords.change_own_password, viewer.actor,
                                values.get("current_password", ""), values.get("new_password", ""))
    except DomainError as exc:
        return render(request, "password.html", status_code=422, errors=field_errors(exc), form_error=exc.zh)
    # every session ended with the change: this browser gets a fresh one
    session = await run_in_threadpool(runtime.accounts.sessions.open, viewer.actor, client_address(request))
    response = redirect("/account/password", done="1")
    set_session_cookie(response, request, session)
    return response
