"""Relief officers: fund balances by source (and 下达资金), the roster download, a spreadsheet import.

The roster is the same 应急统表10 workbook as `GET /v1/relief/roster.xlsx`
(masked); the import is the same all-or-nothing check as
`POST /v1/relief/imports`, with its row-by-row report shown in the page.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.files import relief as relief_files
from api.files import relief_import
from api.rest.relief_files import XLSX, _chunks, _subtitle
from api.web.auth import check_csrf, require_viewer
from api.web.forms import fen_from_yuan, posted, text
from api.web.messages import field_errors
from api.web.pages import form_of, idempotency, new_key, page_router, redirect, view, wait_for
from api.web.relief.cases import current_period
from api.web.templating import render
from ledger.households.household import names_visible
from ledger.relief.fund import fund_id
from ledger.relief.programmes import PROGRAMME_NAMES
from ledger.store.errors import DomainError, FieldProblem, InvalidInput

router = page_router()

SOURCE_NAMES = {"central": "中央", "provincial": "省级", "city": "市级", "county": "县级"}
MAX_UPLOAD = 20 * 2**20


@router.get("/relief/funds")
async def funds(request: Request, after: str = "", done: str = "") -> Response:
    viewer = require_viewer(request)
    caught_up = await wait_for(request, after, ["funds"])
    return await _render_funds(request, viewer, caught_up=caught_up, done=done)


async def _render_funds(request: Request, viewer: Any, status_code: int = 200, **context: Any) -> Response:
    rows = await run_in_threadpool(view(request, "funds").funds, viewer.actor.scope)
    rows = [{**r, "fund_id": str(fund_id(r["county"], r["programme"], r["period"]))} for r in rows]
    values = {"idempotency_key": new_key(), "period": current_period(request),
              "county": viewer.actor.scope[:6], **context.pop("values", {})}
    return render(request, "relief/funds.html", status_code=status_code, rows=rows, programmes=PROGRAMME_NAMES,
                  sources=SOURCE_NAMES, values=values, areas=request.app.state.runtime.areas,
                  may_allocate=viewer.actor.role.value in ("county", "relief_officer", "city", "province"), **context)


@router.post("/relief/funds")
async def allocate(request: Request) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        amount = fen_from_yuan(values, "amount")
        body = {"county": text(values, "county"), "programme": values.get("programme", ""),
                "period": text(values, "period"), "source": values.get("source", ""), "amount_fen": amount,
                "document": text(values, "document")}
        result = await run_in_threadpool(
            runtime.relief.allocate, viewer.actor, body["county"], body["programme"], body["period"],
            body["source"], amount, body["document"], idempotency(request, viewer, values, body))
    except DomainError as exc:
        return await _render_funds(request, viewer, status_of(exc), errors=field_errors(exc), form_error=exc.zh,
                                   values=posted(values))
    return redirect("/relief/funds", after=result.position, done="allocated")


@router.post("/relief/funds/{fund}/give-back")
async def give_back(request: Request, fund: UUID) -> Response:
    """资金收回: money returned to the allocating level, with its document and reason (as REST's give-back)."""
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        amount = fen_from_yuan(values, "amount")
        body = {"fund": str(fund), "amount_fen": amount, "document": text(values, "document"),
                "reason": text(values, "reason")}
        result = await run_in_threadpool(runtime.relief.give_back, viewer.actor, fund, amount, body["document"],
                                         body["reason"], idempotency(request, viewer, values, body))
    except DomainError as exc:
        return await _render_funds(request, viewer, status_of(exc), errors=field_errors(exc), form_error=exc.zh,
                                   failed_form=f"give-back-{fund}")
    return redirect("/relief/funds", after=result.position, done="given_back")


@router.get("/relief/roster.xlsx")
def roster(request: Request, programme: str = "winter_spring", period: str = "") -> Response:
    """The 花名册, masked (names in clear for officers in scope, as the API's)."""
    viewer = require_viewer(request)
    return _roster(request, viewer, programme, period or current_period(request), revealed=False)


@router.post("/relief/roster.xlsx")
async def roster_revealed(request: Request) -> Response:
    """The 花名册 with ID, phone and card numbers in clear: for the roles that may see them, after a stated
    purpose, recorded (PersonalDataExported) before the file is written."""
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    programme, period = values.get("programme", "winter_spring"), text(values, "period") or current_period(request)
    try:
        if programme not in PROGRAMME_NAMES:
            raise InvalidInput("未知的救助项目", "unknown programme")
        await run_in_threadpool(runtime.relief.record_export, viewer.actor, programme, period, viewer.actor.scope,
                                text(values, "purpose"))
    except DomainError as exc:
        return redirect("/relief/cases", programme=programme, period=period, export_error=exc.zh)
    return await run_in_threadpool(_roster, request, viewer, programme, period, True)


def _roster(request: Request, viewer: Any, programme: str, period: str, revealed: bool) -> Response:
    runtime = request.app.state.runtime
    if programme not in PROGRAMME_NAMES:
        raise InvalidInput("未知的救助项目", "unknown programme")
    area = runtime.areas.require(viewer.actor.scope, "area") if viewer.actor.scope else None
    names = runtime.pii.decrypt if names_visible(viewer.actor, viewer.actor.scope) else None
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 - closed by _chunks once sent
    try:
        with relief_files.roster_view(runtime, request.app.state.projections) as roster_view:
            relief_files.write_roster(roster_view.iter_rows(programme, period, viewer.actor.scope), buffer,
                                      subtitle=_subtitle(area.name if area else "", viewer.actor.scope, programme,
                                                         period),
                                      names=names, reveal=runtime.pii.decrypt if revealed else None,
                                      areas=runtime.areas)
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)
    suffix = "-revealed" if revealed else ""
    return StreamingResponse(_chunks(buffer), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="roster-{viewer.actor.scope}-{programme}-{period}{suffix}.xlsx"',
        "Cache-Control": "no-store"})


@router.get("/relief/import")
def import_page(request: Request) -> Response:
    require_viewer(request)
    return render(request, "relief/import.html", programmes=PROGRAMME_NAMES,
                  values={"period": current_period(request), "programme": "winter_spring"})


@router.post("/relief/import")
async def import_file(request: Request) -> Response:
    viewer = require_viewer(request)
    form = await request.form()
    check_csrf(request, viewer, str(form.get("csrf_token", "")))
    programme, period = str(form.get("programme", "winter_spring")), str(form.get("period", "")).strip()
    upload = form.get("file")
    values = {"programme": programme, "period": period}
    runtime = request.app.state.runtime
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "relief/import.html", status_code=422, programmes=PROGRAMME_NAMES, values=values,
                      errors={"file": "请选择文件"}, form_error="请选择要导入的文件")
    suffix = Path(upload.filename).suffix.lower()
    try:
        with tempfile.NamedTemporaryFile(suffix=suffix if suffix in (".xlsx", ".csv") else "") as tmp:
            size = 0
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise InvalidInput("文件过大", "the file is too large",
                                       fields=[FieldProblem("file", "too_large", "at most 20 MiB")])
                tmp.write(chunk)
            tmp.flush()
            report = await run_in_threadpool(relief_import.import_applications, runtime, viewer.actor,
                                             Path(tmp.name), programme, period)
    except DomainError as exc:
        return render(request, "relief/import.html", status_code=status_of(exc), programmes=PROGRAMME_NAMES,
                      values=values, errors=field_errors(exc), form_error=exc.zh)
    if not report.ok:
        return render(request, "relief/import.html", status_code=422, programmes=PROGRAMME_NAMES, values=values,
                      problems=report.problems, rows=report.rows,
                      form_error=f"文件中有 {len(report.problems)} 处错误，未导入任何一行；请修改后重新上传")
    return render(request, "relief/import.html", programmes=PROGRAMME_NAMES, values=values,
                  imported=report.imported, position=runtime.position())

