"""Township filing: the list of processes, 初报, 续报 and 核报 with the 快报 indicator form, a process's page.

Forms call the same use cases as `POST /v1/disasters…` with the form's
idempotency key (drawn with the form and kept by an offline draft, so a
draft sent twice files once). Refusals come back beside their fields in
Chinese; a jump that needs a written explanation asks for it and the same
form is sent again. Lists read the board projection, as GraphQL does.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.presenters import history_out
from api.web.auth import Viewer, require_viewer
from api.web.forms import (
    beijing_time,
    figure_groups,
    figures_from,
    opened_groups_by_hazard,
    optional,
    posted,
    text,
)
from api.web.messages import field_errors
from api.web.pages import form_of, idempotency, new_key, page_router, redirect, view, wait_for
from api.web.templating import local_input, render
from ledger.disasters import state as ds
from ledger.disasters.inputs import FiguresReport, InitialReport
from ledger.store.actors import Role
from ledger.store.errors import DomainError, NotFound, NotPermitted
from projections.disasters.board import BoardFilter

router = page_router()

FILERS = (Role.TOWNSHIP, Role.COUNTY)


def _county_of(actor: Any) -> str:
    return actor.scope[:6] if len(actor.scope) >= 6 else actor.scope


def _townships(request: Request, viewer: Viewer, county: str) -> list[Any]:
    areas = request.app.state.runtime.areas
    if viewer.actor.role is Role.TOWNSHIP:
        own = areas.get(viewer.actor.scope)
        return [own] if own else []
    return areas.children(county) if len(county) == 6 else []


def _form_context(request: Request, viewer: Viewer, hazard: str | None, county: str,
                  values: dict[str, Any]) -> dict[str, Any]:
    runtime = request.app.state.runtime
    catalogue = runtime.hazards.hazards
    drought = bool(hazard and catalogue.get(hazard) and catalogue[hazard].drought)
    return {
        "groups": figure_groups(runtime.indicators, hazard, drought),
        "hazards": catalogue,
        "townships": _townships(request, viewer, county),
        "values": values,
        "open_groups": json.dumps(opened_groups_by_hazard(), ensure_ascii=False),
        "county": county,
    }


@router.get("/reports")
async def reports(request: Request, after: str = "", hazard: str = "", stage: str = "") -> Response:
    viewer = require_viewer(request)
    caught_up = await wait_for(request, after, ["board"])
    area = _county_of(viewer.actor) if viewer.actor.role is Role.TOWNSHIP else viewer.actor.scope
    board = view(request, "board")
    f = BoardFilter(area=area, hazard=hazard or None, stage=stage or None)
    rows = await run_in_threadpool(board.find, f, None, 100)
    runtime = request.app.state.runtime
    return render(request, "disasters/list.html", rows=rows, caught_up=caught_up, hazards=runtime.hazards.hazards,
                  areas=runtime.areas, hazard=hazard, stage=stage, may_file=viewer.actor.role in FILERS)


@router.get("/reports/new")
def new_report(request: Request, hazard: str = "flood", township: str = "") -> Response:
    viewer = require_viewer(request)
    if viewer.actor.role not in FILERS:
        raise NotPermitted("只有乡镇和县级账号可以报送初报", "only township and county accounts file an initial report")
    county = _county_of(viewer.actor)
    values = {"hazard": hazard, "township": township or viewer.actor.scope, "idempotency_key": new_key(),
              "occurred_at": local_input(request.app.state.runtime.now())}
    return render(request, "disasters/initial.html", **_form_context(request, viewer, hazard, county, values))


@router.post("/reports/new")
async def file_initial(request: Request) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    county = _county_of(viewer.actor)
    township = viewer.actor.scope if viewer.actor.role is Role.TOWNSHIP else values.get("township", "")
    try:
        report = InitialReport(
            county=county, hazard=values.get("hazard", ""), subtype=optional(values, "subtype"),
            occurred_at=beijing_time(values, "occurred_at"),  # type: ignore[arg-type]
            figures={township: figures_from(values, runtime.indicators)}, text=text(values, "text"),
            explanation=optional(values, "explanation"),
        )
        body = {"county": report.county, "hazard": report.hazard, "subtype": report.subtype,
                "occurred_at": report.occurred_at.isoformat(), "figures": report.figures, "text": report.text,
                "explanation": report.explanation}
        result = await run_in_threadpool(runtime.disasters.file_initial, viewer.actor, report,
                                         idempotency(request, viewer, values, body))
    except DomainError as exc:
        context = _form_context(request, viewer, values.get("hazard"), county, posted(values))
        return render(request, "disasters/initial.html", status_code=_status(exc), errors=field_errors(
            exc, runtime.indicators), form_error=exc.zh, existing_id=exc.details.get("existing_id"), **context)
    return redirect(f"/reports/{result.id}", after=result.position, done="filed")


def _status(exc: DomainError) -> int:
    from api.errors import status_of

    return status_of(exc)


async def _process(request: Request, viewer: Viewer, disaster_id: UUID) -> dict[str, Any]:
    board = view(request, "board")
    rows = await run_in_threadpool(board.get, [str(disaster_id)])
    row = rows.get(str(disaster_id))
    if row is None:
        raise NotFound("灾害过程不存在（或读模型尚未更新）", f"disaster process {disaster_id} not found")
    if not viewer.actor.overlaps(row["county"]):
        raise NotPermitted("不在本账号的管辖范围内", "outside this account's scope")
    return row


def _visible_figures(viewer: Viewer, state: dict[str, Any]) -> dict[str, dict[str, Decimal]]:
    figures = ds.township_figures(state)
    if viewer.actor.role is Role.TOWNSHIP:
        return {t: f for t, f in figures.items() if viewer.actor.covers(t)}
    return figures


def _report_figures(viewer: Viewer, state: dict[str, Any]) -> dict[int, dict[str, dict[str, Any]]]:
    """Each report's own figures (report number → township → indicator → value), as this account may see them."""
    township = viewer.actor.role is Role.TOWNSHIP
    return {r["number"]: {t: f for t, f in (r.get("figures") or {}).items() if not township or viewer.actor.covers(t)}
            for r in state.get("reports", [])}


@router.get("/reports/{disaster_id}")
async def process_page(request: Request, disaster_id: UUID, after: str = "", done: str = "",
                       township: str = "") -> Response:
    viewer = require_viewer(request)
    caught_up = await wait_for(request, after, ["board"])
    return await _render_process(request, viewer, disaster_id, caught_up=caught_up, done=done, township=township)


async def _render_process(request: Request, viewer: Viewer, disaster_id: UUID, status_code: int = 200,
                          values: dict[str, Any] | None = None, **context: Any) -> Response:
    runtime = request.app.state.runtime
    row = await _process(request, viewer, disaster_id)
    state = json.loads(row["state"])
    figures = _visible_figures(viewer, state)
    township = values.get("township") if values else context.pop("township", "") or ""
    township = viewer.actor.scope if viewer.actor.role is Role.TOWNSHIP else township
    if not township and figures:
        township = sorted(figures)[0]
    form_values: dict[str, Any] = {f"f_{k}": str(v) for k, v in figures.get(township, {}).items()}
    form_values.update({"township": township, "idempotency_key": new_key(), "as_of": local_input(runtime.now())})
    if values:
        form_values.update(values)
    events = await run_in_threadpool(runtime.disasters.history, viewer.actor, disaster_id)
    hazard = runtime.hazards.hazards.get(row["hazard"])
    return render(
        request, "disasters/process.html", status_code=status_code, row=row, state=state, figures=figures,
        history=history_out(viewer.actor, events), hazard=hazard, areas=runtime.areas,
        report_figures=_report_figures(viewer, state), indicators=runtime.indicators.indicators, totals=ds.totals(state) if viewer.actor.role is not Role.TOWNSHIP
        else _sum(figures), may_file=viewer.actor.role in FILERS and row["stage"] not in ("final", "retracted"),
        may_finalise=viewer.actor.role is Role.COUNTY and row["stage"] != "retracted",
        may_review=viewer.actor.role in (Role.COUNTY, Role.CITY, Role.PROVINCE),
        **_form_context(request, viewer, row["hazard"], row["county"], form_values), **context,
    )


def _sum(figures: dict[str, dict[str, Decimal]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for values in figures.values():
        for k, v in values.items():
            out[k] = out.get(k, Decimal(0)) + v
    return out


async def _file(request: Request, disaster_id: UUID, final: bool) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    township = viewer.actor.scope if viewer.actor.role is Role.TOWNSHIP else values.get("township", "")
    use_case = runtime.disasters.file_final if final else runtime.disasters.file_follow_up
    try:
        photos = await _photos(request, runtime)
        report = FiguresReport(figures={township: figures_from(values, runtime.indicators)},
                               as_of=beijing_time(values, "as_of"),  # type: ignore[arg-type]
                               explanation=optional(values, "explanation"), attachments=tuple(photos))
        body = {"figures": report.figures, "as_of": report.as_of.isoformat(), "explanation": report.explanation,
                "final": final, "photos": [p["sha256"] for p in photos]}
        result = await run_in_threadpool(use_case, viewer.actor, disaster_id, report, None,
                                         idempotency(request, viewer, values, body))
    except DomainError as exc:
        return await _render_process(
            request, viewer, disaster_id, status_code=_status(exc), values=posted(values),
            errors=field_errors(exc, runtime.indicators), form_error=exc.zh, failed_form="final" if final else "follow_up",
            explanation_required=exc.code == "explanation_required",
        )
    return redirect(f"/reports/{disaster_id}", after=result.position, done="final" if final else "follow_up")


async def _photos(request: Request, runtime: Any) -> list[dict[str, str]]:
    """Scene photos sent with the form (multipart): stored in the blob store, attached by their hash."""
    form = await request.form()  # the same parsed form `form_of` read
    out = []
    for item in form.getlist("photos"):
        if isinstance(item, str) or not item.filename:
            continue
        data = await item.read(runtime.blobs.max_bytes + 1)
        stored = await run_in_threadpool(runtime.blobs.put, data, item.content_type)
        out.append({"sha256": stored.ref, "type": stored.type, "name": item.filename[:200], "kind": "photo"})
    return out


@router.post("/reports/{disaster_id}/follow-up")
async def file_follow_up(request: Request, disaster_id: UUID) -> Response:
    return await _file(request, disaster_id, final=False)


@router.post("/reports/{disaster_id}/final")
async def file_final(request: Request, disaster_id: UUID) -> Response:
    return await _file(request, disaster_id, final=True)
