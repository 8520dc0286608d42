"""Administrators: set an account's password, change its role or scope, suspend or restore it (its sessions end),
import many accounts from a spreadsheet (all or nothing, with the row report), see sign-in failures."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.errors import status_of
from api.web.auth import check_csrf, require_viewer
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


@router.post("/admin/accounts/status")
async def change_status(request: Request) -> Response:
    """暂停 / 恢复: tokens and sign-in sessions fail at once while suspended."""
    viewer, values = await form_of(request)
    passwords = request.app.state.runtime.accounts.passwords
    change = passwords.restore if values.get("action") == "restore" else passwords.suspend
    try:
        await run_in_threadpool(change, viewer.actor, text(values, "username"), text(values, "reason"))
    except DomainError as exc:
        return await _page(request, status_of(exc), errors=field_errors(exc), form_error=exc.zh, failed_form="status")
    return redirect("/admin/accounts", done="status")


MAX_SHEET = 5 * 2**20


@router.post("/admin/accounts/import")
async def import_accounts(request: Request) -> Response:
    """Many accounts from a spreadsheet: all rows or none; the page lists each row's outcome or problem."""
    from api.files.accounts_import import import_file
    from ledger.store.errors import FieldProblem, InvalidInput

    viewer = require_viewer(request)
    require_role(viewer, Role.ADMIN)
    form = await request.form()
    check_csrf(request, viewer, str(form.get("csrf_token", "")))
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _page(request, 422, errors={"file": "请选择文件"}, form_error="请选择要导入的文件",
                           failed_form="import")
    suffix = Path(upload.filename).suffix.lower()
    try:
        with tempfile.NamedTemporaryFile(suffix=suffix if suffix in (".xlsx", ".csv") else "") as tmp:
            data = await upload.read(MAX_SHEET + 1)
            if len(data) > MAX_SHEET:
                raise InvalidInput("文件过大", "the file is too large",
                                   fields=[FieldProblem("file", "too_large", "at most 5 MiB")])
            tmp.write(data)
            tmp.flush()
            result = await run_in_threadpool(import_file, request.app.state.runtime, viewer.actor, Path(tmp.name),
                                             str(form.get("reason", "")).strip())
    except DomainError as exc:
        return await _page(request, status_of(exc), errors=field_errors(exc), form_error=exc.zh,
                           failed_form="import", problems=exc.fields)
    return await _page(request, outcomes=result.outcomes)
