"""Incident command and the plans' targets on the web (split from `api.web.safety`): incidents with their
responses per government, command and handovers, 镇呼区应 calls and answers; targets on or off track.
Same use cases, views, scope and CSRF as the accident pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.graphql.targets import tracking
from api.web.auth import Viewer, require_viewer
from api.web.forms import beijing_time, optional, posted, text
from api.web.pages import form_of, idempotency, new_key, page_router, redirect, view, wait_for
from api.web.safety import CONTEXT, SUPPORT_NAMES, _area, _errors, _history, _moment, _place, _regulator
from api.web.templating import CHINA, local_input, render
from ledger.accidents import state as accident_state
from ledger.incidents import state as incident_state
from ledger.incidents.service import Opening, ResponseDecision
from ledger.store.errors import DomainError, FieldProblem, InvalidInput

router = page_router()


@router.get("/incidents")
async def incidents(request: Request, area: str = "", open_only: str = "", after: str = "") -> Response:
    viewer = require_viewer(request)
    caught_up = await wait_for(request, after, ["incidents"])
    runtime = request.app.state.runtime
    where = _area(viewer, area)
    rows = await run_in_threadpool(view(request, "incidents").find, where, open_only == "1", 300)
    shown = []
    for r in rows:
        s = incident_state.fold(json.loads(r["entries"]))
        shown.append({**r, "active": incident_state.active_levels(s),
                      "commander": s["command"][-1]["commander"] if s.get("command") else None,
                      "waiting": sum(1 for c in s.get("calls", []) if c["answered_at"] is None)})
    return render(request, "safety/incidents.html", rows=shown, area=where, open_only=open_only,
                  caught_up=caught_up, areas=runtime.areas, place=_place(runtime.areas),
                  may_open=viewer.actor.role.value in ("township", "county", "city", "province"), **CONTEXT)


@router.get("/incidents/new")
async def new_incident(request: Request) -> Response:
    viewer = require_viewer(request)
    values = {"idempotency_key": new_key(), "occurred_at": local_input(request.app.state.runtime.now()),
              "area": viewer.actor.scope}
    return render(request, "safety/incident_new.html", values=values, **CONTEXT)


@router.post("/incidents/new")
async def open_incident(request: Request) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        links = []
        for kind in ("accident", "disaster"):
            if text(values, f"link_{kind}"):
                links.append({"kind": kind, "id": text(values, f"link_{kind}")})
        opening = Opening(title=text(values, "title"), category=values.get("category", ""), area=text(values, "area"),
                          occurred_at=beijing_time(values, "occurred_at"), links=links)  # type: ignore[arg-type]
        body = {k: v for k, v in values.items() if k not in ("csrf_token", "idempotency_key")}
        result = await run_in_threadpool(runtime.incidents.open, viewer.actor, opening,
                                         idempotency(request, viewer, values, body))
    except DomainError as exc:
        return render(request, "safety/incident_new.html", status_code=status_of(exc), values=posted(values),
                      errors=_errors(exc), form_error=exc.zh, **CONTEXT)
    return redirect(f"/incidents/{result.id}", done="opened")


async def _render_incident(request: Request, viewer: Viewer, incident_id: UUID, status_code: int = 200,
                           at: str = "", **context: Any) -> Response:
    runtime = request.app.state.runtime
    events = await run_in_threadpool(runtime.incidents.history, viewer.actor, incident_id)
    entries = [accident_state.entry(e) for e in events]
    s = incident_state.fold(entries)
    now = runtime.now()
    calls = []
    for call in s.get("calls", []):
        requested = datetime.fromisoformat(call["requested_at"])
        answered = datetime.fromisoformat(call["answered_at"]) if call["answered_at"] else None
        calls.append({**call, "waited_minutes": int(((answered or now) - requested).total_seconds() // 60)})
    held = None
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise InvalidInput("时间格式有误", "invalid time", fields=[FieldProblem("at", "bad_time", "")]) from None
        held = incident_state.commander_at(s, moment if moment.tzinfo else moment.replace(tzinfo=CHINA)) or {}
    values = {"idempotency_key": new_key(), "now": local_input(now), **context.pop("values", {})}
    suggestion = None
    plan, version = values.get("plan", ""), values.get("plan_version", "")
    if not plan and s.get("responses"):
        plan, version = s["responses"][-1]["plan"], s["responses"][-1]["plan_version"]
    if plan and version:
        incident = await run_in_threadpool(runtime.incidents.get, viewer.actor, incident_id)
        suggestion = runtime.incidents.suggestion(incident, plan, version)
    regulator = _regulator(viewer) and viewer.actor.covers(s["area"][:6]) if len(s["area"]) >= 6 else False
    return render(request, "safety/incident.html", status_code=status_code, s=s, calls=calls,
                  active=incident_state.active_levels(s), history=_history(entries, runtime.areas),
                  values=values, at=at, held=held, suggestion=suggestion, plan=plan, plan_version=version,
                  areas=runtime.areas, place=_place(runtime.areas), incident_id=incident_id,
                  may_command=regulator,
                  may_call=viewer.actor.role.value in ("township", "county", "city", "province"),
                  plans=sorted(runtime.response_plans.plans), role=viewer.actor.role.value, **CONTEXT, **context)


@router.get("/incidents/{incident_id}")
async def incident_page(request: Request, incident_id: UUID, done: str = "", at: str = "") -> Response:
    viewer = require_viewer(request)
    return await _render_incident(request, viewer, incident_id, at=at, done=done)


def _incident_action(name: str, act: Callable[[Any, Viewer, UUID, dict[str, str], Any], Any]) -> None:
    async def endpoint(request: Request, incident_id: UUID) -> Response:
        viewer, values = await form_of(request)
        runtime = request.app.state.runtime
        try:
            body = {k: v for k, v in values.items() if k not in ("csrf_token", "idempotency_key")}
            key = idempotency(request, viewer, values, body)
            await run_in_threadpool(act, runtime.incidents, viewer, incident_id, values, key)
        except DomainError as exc:
            return await _render_incident(request, viewer, incident_id, status_of(exc), errors=_errors(exc),
                                          form_error=exc.zh, failed_form=name, values=posted(values))
        return redirect(f"/incidents/{incident_id}", done=name)

    router.add_api_route(f"/incidents/{{incident_id}}/{name}", endpoint, methods=["POST"])


def _level(values: dict[str, str]) -> int | None:
    raw = values.get("level", "").strip()
    return int(raw) if raw in ("1", "2", "3", "4") else None


_incident_action("response", lambda s, v, i, f, k: s.decide_response(v.actor, i, ResponseDecision(
    action=f.get("action", ""), government_level=f.get("government_level", ""), plan=text(f, "plan"),
    plan_version=text(f, "plan_version"), decided_at=_moment(f, "decided_at"), reason=text(f, "reason"),
    level=_level(f), area=optional(f, "response_area")), None, k))
_incident_action("command", lambda s, v, i, f, k: s.assume_command(
    v.actor, i, {"name": text(f, "commander_name"), "post": text(f, "commander_post"),
                 "unit": text(f, "commander_unit")}, _moment(f, "since"), text(f, "reason"), None, k))
_incident_action("support-request", lambda s, v, i, f, k: s.request_support(
    v.actor, i, text(f, "township"), text(f, "what"),
    [c for c in SUPPORT_NAMES if f.get(f"cat_{c}") == "yes"], _moment(f, "requested_at"), None, k))
_incident_action("support-answer", lambda s, v, i, f, k: s.answer_support(
    v.actor, i, text(f, "request_id"), f.get("outcome", ""), text(f, "what"), _moment(f, "answered_at"), None, k))
_incident_action("closure", lambda s, v, i, f, k: s.close(v.actor, i, _moment(f), text(f, "reason"), None, k))


# --- targets -------------------------------------------------------------------------------------------


@router.get("/targets")
async def targets(request: Request, area: str = "", year: str = "") -> Response:
    viewer = require_viewer(request)
    runtime = request.app.state.runtime
    where = _area(viewer, area)
    as_of = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else runtime.now().astimezone(CHINA).year
    host = request.app.state.projections
    view(request, "accidents")  # the read side must run here
    rows = await run_in_threadpool(tracking, runtime, host, where, as_of)
    return render(request, "safety/targets.html", rows=rows, area=where, year=as_of, areas=runtime.areas,
                  place=_place(runtime.areas), **CONTEXT)
