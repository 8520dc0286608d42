"""County and city officers: the review queue (accept / 驳回 with a reason), 勘误, response level, 核销.

The queue lists the reports awaiting review that this account may review —
asked of the domain's own permission rule, not decided here. Every action
is the same use case as the REST endpoint, with the form's idempotency key.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.web.auth import Viewer, require_viewer
from api.web.forms import beijing_time, optional, posted, text
from api.web.messages import field_errors
from api.web.pages import form_of, idempotency, new_key, page_router, redirect, require_role, view, wait_for
from api.web.templating import local_input, render
from ledger.disasters import permissions
from ledger.disasters.inputs import Correction, ResponseChange
from ledger.store.actors import Role
from ledger.store.errors import DomainError, NotPermitted
from projections.disasters.board import BoardFilter

router = page_router()

REVIEWERS = (Role.COUNTY, Role.CITY, Role.PROVINCE)


def _may_review(viewer: Viewer, county: str, filer_role: str) -> bool:
    try:
        permissions.require_reviewer_of(viewer.actor, county, filer_role)
    except NotPermitted:
        return False
    return True


@router.get("/review")
async def queue(request: Request, after: str = "", done: str = "") -> Response:
    viewer = require_viewer(request)
    require_role(viewer, *REVIEWERS)
    caught_up = await wait_for(request, after, ["board"])
    rows = await run_in_threadpool(view(request, "board").find, BoardFilter(area=viewer.actor.scope), None, 500, True)
    waiting = []
    for row in rows:
        state = json.loads(row["state"])
        for report in state["reports"]:
            if report["review"] == "submitted" and _may_review(viewer, row["county"], report["filed_by"]["role"]):
                waiting.append({"row": row, "report": report, "key": new_key()})
    runtime = request.app.state.runtime
    return render(request, "disasters/queue.html", waiting=waiting, caught_up=caught_up, done=done,
                  areas=runtime.areas, hazards=runtime.hazards.hazards)


@router.get("/review/{disaster_id}/{number}")
async def review_page(request: Request, disaster_id: UUID, number: int) -> Response:
    viewer = require_viewer(request)
    require_role(viewer, *REVIEWERS)
    return await _render_review(request, viewer, disaster_id, number)


async def _render_review(request: Request, viewer: Viewer, disaster_id: UUID, number: int, status_code: int = 200,
                         **context: Any) -> Response:
    runtime = request.app.state.runtime
    rows = await run_in_threadpool(view(request, "board").get, [str(disaster_id)])
    row = rows.get(str(disaster_id))
    if row is None or not viewer.actor.overlaps(row["county"]):
        raise NotPermitted("不在本账号的管辖范围内或不存在", "not found in this account's scope")
    state = json.loads(row["state"])
    report = next((r for r in state["reports"] if r["number"] == number), None)
    context.setdefault("values", {"idempotency_key": new_key()})
    return render(request, "disasters/review.html", status_code=status_code, row=row, report=report,
                  areas=runtime.areas, hazards=runtime.hazards.hazards, indicators=runtime.indicators.indicators,
                  **context)


def _partial(request: Request) -> bool:
    """An htmx request from the queue: answer with the queue row only (the page works without it, too)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target", "").startswith("queue-")


async def _queue_row(request: Request, disaster_id: UUID, number: int, position: Any = None,
                     **context: Any) -> Response:
    """One row of the queue after an inline accept / 驳回: its outcome, or its forms again with the refusal.
    Answered 200 so htmx swaps it in; the refusal is in the row (role="alert")."""
    runtime = request.app.state.runtime
    if position is not None:
        await wait_for(request, position, ["board"])
    rows = await run_in_threadpool(view(request, "board").get, [str(disaster_id)])
    row = rows.get(str(disaster_id))
    report = next((r for r in json.loads(row["state"])["reports"] if r["number"] == number), None) if row else None
    return render(request, "disasters/_queue_row.html", w={"row": row, "report": report, "key": new_key()},
                  areas=runtime.areas, hazards=runtime.hazards.hazards, **context)


@router.post("/review/{disaster_id}/{number}/accept")
async def accept(request: Request, disaster_id: UUID, number: int) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        subtype = optional(values, "subtype")
        result = await run_in_threadpool(runtime.disasters.accept, viewer.actor, disaster_id, number, None,
                                         idempotency(request, viewer, values, {"number": number,
                                                                               "subtype": subtype}),
                                         subtype=subtype)
    except DomainError as exc:
        if _partial(request):
            return await _queue_row(request, disaster_id, number, row_error=exc.zh)
        return await _render_review(request, viewer, disaster_id, number, status_of(exc), form_error=exc.zh)
    if _partial(request):
        return await _queue_row(request, disaster_id, number, result.position, outcome="accepted")
    return redirect("/review", after=result.position, done="accepted")


@router.post("/review/{disaster_id}/{number}/return")
async def return_report(request: Request, disaster_id: UUID, number: int) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    reason = text(values, "reason")
    try:
        if not reason:
            raise _required("reason")
        result = await run_in_threadpool(runtime.disasters.return_report, viewer.actor, disaster_id, number, reason,
                                         None, idempotency(request, viewer, values, {"reason": reason}))
    except DomainError as exc:
        if _partial(request):
            return await _queue_row(request, disaster_id, number, row_error=exc.zh, reason_error=True)
        return await _render_review(request, viewer, disaster_id, number, status_of(exc), form_error=exc.zh,
                                    errors=field_errors(exc), values=posted(values))
    if _partial(request):
        return await _queue_row(request, disaster_id, number, result.position, outcome="returned", reason=reason)
    return redirect("/review", after=result.position, done="returned")


def _required(name: str) -> DomainError:
    from ledger.store.errors import FieldProblem, InvalidInput

    return InvalidInput("请填写理由", "a reason is required", fields=[FieldProblem(name, "required", "required")])


@router.get("/reports/{disaster_id}/manage")
async def manage_page(request: Request, disaster_id: UUID, after: str = "", done: str = "") -> Response:
    viewer = require_viewer(request)
    require_role(viewer, *REVIEWERS)
    await wait_for(request, after, ["board"])
    return await _render_manage(request, viewer, disaster_id, done=done)


async def _render_manage(request: Request, viewer: Viewer, disaster_id: UUID, status_code: int = 200,
                         **context: Any) -> Response:
    runtime = request.app.state.runtime
    rows = await run_in_threadpool(view(request, "board").get, [str(disaster_id)])
    row = rows.get(str(disaster_id))
    if row is None or not viewer.actor.overlaps(row["county"]):
        raise NotPermitted("不在本账号的管辖范围内或不存在", "not found in this account's scope")
    values = {"idempotency_key": new_key(), "decided_at": local_input(runtime.now()),
              "stabilised_at": local_input(runtime.now()), **context.pop("values", {})}
    return render(request, "disasters/manage.html", status_code=status_code, row=row, state=json.loads(row["state"]),
                  hazards=runtime.hazards.hazards, areas=runtime.areas, values=values, **context)


async def _manage_action(request: Request, disaster_id: UUID, form: str, act: Any) -> Response:
    viewer, values = await form_of(request)
    try:
        result = await run_in_threadpool(act, viewer, values)
    except DomainError as exc:
        return await _render_manage(request, viewer, disaster_id, status_of(exc), form_error=exc.zh,
                                    failed_form=form, errors=field_errors(exc), values=posted(values))
    return redirect(f"/reports/{disaster_id}/manage", after=result.position, done=form)


@router.post("/reports/{disaster_id}/response")
async def change_response(request: Request, disaster_id: UUID) -> Response:
    def act(viewer: Viewer, values: dict[str, str]) -> Any:
        level = values.get("level", "")
        change = ResponseChange(
            action=values.get("action", ""), level=int(level) if level.isdigit() else None,
            plan=text(values, "plan"), plan_version=text(values, "plan_version"),
            government_level=values.get("government_level", ""),
            decided_at=beijing_time(values, "decided_at"),  # type: ignore[arg-type]
            reason=text(values, "reason"),
        )
        body = {**change.__dict__, "decided_at": change.decided_at.isoformat()}
        return request.app.state.runtime.disasters.change_response(
            viewer.actor, disaster_id, change, None, idempotency(request, viewer, values, body))

    return await _manage_action(request, disaster_id, "response", act)


@router.post("/reports/{disaster_id}/correction")
async def correct(request: Request, disaster_id: UUID) -> Response:
    def act(viewer: Viewer, values: dict[str, str]) -> Any:
        reason = text(values, "reason")
        if not reason:
            raise _required("reason")
        from datetime import date

        raw_date = optional(values, "disaster_date")
        correction = Correction(reason=reason, disaster_date=date.fromisoformat(raw_date) if raw_date else None,
                                hazard=optional(values, "hazard"), subtype=optional(values, "subtype"),
                                text=optional(values, "text"))
        body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in correction.__dict__.items()}
        return request.app.state.runtime.disasters.correct(
            viewer.actor, disaster_id, correction, None, idempotency(request, viewer, values, body))

    return await _manage_action(request, disaster_id, "correction", act)


@router.post("/reports/{disaster_id}/stabilisation")
async def declare_stable(request: Request, disaster_id: UUID) -> Response:
    def act(viewer: Viewer, values: dict[str, str]) -> Any:
        when = beijing_time(values, "stabilised_at")
        return request.app.state.runtime.disasters.declare_stable(
            viewer.actor, disaster_id, when, None,
            idempotency(request, viewer, values, {"stabilised_at": when.isoformat() if when else None}))

    return await _manage_action(request, disaster_id, "stabilisation", act)


@router.post("/reports/{disaster_id}/retraction")
async def retract(request: Request, disaster_id: UUID) -> Response:
    def act(viewer: Viewer, values: dict[str, str]) -> Any:
        reason = text(values, "reason")
        if not reason:
            raise _required("reason")
        return request.app.state.runtime.disasters.retract(
            viewer.actor, disaster_id, reason, None, idempotency(request, viewer, values, {"reason": reason}))

    return await _manage_action(request, disaster_id, "retraction", act)
