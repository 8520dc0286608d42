"""Relief cases: the list by stage with the next step, 户报, and one case's page with its next action
(村评, 公示 and objections, 乡审, 县定 with a reason above the standard, 发放, 退回/冲正, 驳回).

The list reads the roster projection (masked, as GraphQL's `roster`); one
case is read as `GET /v1/relief/cases/{id}` reads it — masked, unless a
county or relief officer asks with a purpose, which is recorded first.
Every action is the REST endpoint's use case with the form's idempotency key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.rest.relief import case_out
from api.web.auth import Viewer, require_viewer
from api.web.forms import beijing_time, civil_date, evidence_files, fen_from_yuan, optional, posted, text
from api.web.messages import field_errors
from api.web.pages import form_of, idempotency, new_key, page_router, redirect, view, wait_for
from api.web.templating import CHINA, render
from ledger.households.evidence import Evidence, Signature
from ledger.households.household import Member, names_visible
from ledger.relief.applications import Application
from ledger.relief.programmes import PROGRAMME_NAMES
from ledger.store.errors import DomainError, FieldProblem, InvalidInput
from projections.relief.season import current_season

router = page_router()

STAGE_NAMES = {"applied": "户报", "assessed": "村评通过", "posted": "公示中", "township_reviewed": "乡审通过",
               "approved": "县定（待发放）", "paid": "已发放", "rejected": "未通过", "withdrawn": "已撤回"}
NEXT_STEP = {"applied": "村评", "assessed": "公示", "posted": "公示期满后乡审（处理异议）", "township_reviewed": "县定",
             "approved": "发放", "paid": "—", "rejected": "—", "withdrawn": "—"}


def current_period(request: Request) -> str:
    """The 冬春 season now, as the read side counts it: from September (the survey) it is the season starting
    this year."""
    return current_season(request.app.state.runtime.now().astimezone(CHINA).date())


@router.get("/relief/cases")
async def cases(request: Request, programme: str = "winter_spring", period: str = "", stage: str = "",
                after: str = "", export_error: str = "") -> Response:
    viewer = require_viewer(request)
    caught_up = await wait_for(request, after, ["roster"])
    period = period or current_period(request)
    rows = await run_in_threadpool(view(request, "roster").rows, programme, period, viewer.actor.scope, None, 500)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["stage"]] = counts.get(r["stage"], 0) + 1
    shown = [r for r in rows if not stage or r["stage"] == stage]
    if names_visible(viewer.actor, viewer.actor.scope):  # officers in scope read the names they post (公示)
        decrypt = request.app.state.runtime.pii.decrypt
        shown = [{**r, "head_name": decrypt(r["head_name_cipher"])} if r.get("head_name_cipher") else r for r in shown]
    return render(request, "relief/cases.html", rows=shown, counts=counts, programme=programme, period=period,
                  stage=stage, caught_up=caught_up, programmes=PROGRAMME_NAMES, stage_names=STAGE_NAMES,
                  next_step=NEXT_STEP, areas=request.app.state.runtime.areas,
                  may_apply=viewer.actor.role.value in ("township", "county", "relief_officer"),
                  may_reveal=request.app.state.runtime.relief.may_see_full(viewer.actor),
                  export_error=export_error[:200])


def _villages(request: Request, viewer: Viewer) -> list[Any]:
    areas = request.app.state.runtime.areas
    scope = viewer.actor.scope
    townships = [areas.get(scope)] if len(scope) == 9 else [t for t in areas.children(scope)] if len(scope) == 6 else []
    return [v for t in townships if t is not None for v in areas.children(t.code)]


MEMBER_ROWS = 6
"""Family members the application form offers (more through the API or an import)."""


async def _processes(request: Request, viewer: Viewer) -> list[dict[str, Any]]:
    """The live disaster processes of the account's county, for an 应急期 case to name (timeliness)."""
    from projections.disasters.board import BoardFilter

    scope = viewer.actor.scope
    rows = await run_in_threadpool(view(request, "board").find, BoardFilter(area=scope[:6] if len(scope) >= 6
                                                                               else scope), None, 100)
    return [r for r in rows if r.get("stage") != "retracted"]


async def _render_apply(request: Request, viewer: Viewer, values: dict[str, Any], status_code: int = 200,
                        **context: Any) -> Response:
    return render(request, "relief/apply.html", status_code=status_code, values=values,
                  villages=_villages(request, viewer), programmes=PROGRAMME_NAMES, member_rows=range(MEMBER_ROWS),
                  processes=await _processes(request, viewer), hazards=request.app.state.runtime.hazards.hazards,
                  **context)


@router.get("/relief/cases/new")
async def new_case(request: Request, programme: str = "winter_spring") -> Response:
    viewer = require_viewer(request)
    values = {"programme": programme, "period": current_period(request), "idempotency_key": new_key(),
              "household_size": "1", "people_in_need": "1"}
    return await _render_apply(request, viewer, values)


def _members(values: dict[str, str]) -> list[Member]:
    """The family rows filled in (a row with any field typed counts; the domain checks each)."""
    out = []
    for i in range(MEMBER_ROWS):
        name, relation, number = (text(values, f"m{i}_{f}") for f in ("name", "relation", "id_number"))
        groups = tuple(g for g in text(values, f"m{i}_groups").replace("，", "、").replace(",", "、").split("、") if g)
        if name or relation or number or groups:
            out.append(Member(name, relation, number, groups, values.get(f"m{i}_in_need") == "yes"))
    return out


def _disaster(values: dict[str, str]) -> UUID | None:
    raw = text(values, "disaster_id")
    try:
        return UUID(raw) if raw else None
    except ValueError:
        raise InvalidInput("灾害过程编号有误", "invalid disaster id",
                           fields=[FieldProblem("disaster_id", "bad_id", "")]) from None


def _int(values: dict[str, str], name: str) -> int:
    raw = values.get(name, "").strip()
    if not raw.isdigit():
        raise InvalidInput("请填写整数", "a whole number is required", fields=[FieldProblem(name, "not_a_number", "")])
    return int(raw)


@router.post("/relief/cases/new")
async def apply(request: Request) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        application = Application(
            programme=values.get("programme", ""), period=text(values, "period"), village=text(values, "village"),
            head_name=text(values, "head_name"), id_number=text(values, "id_number"), phone=text(values, "phone"),
            card_number=text(values, "card_number"), household_type=text(values, "household_type"),
            household_size=_int(values, "household_size"), people_in_need=_int(values, "people_in_need"),
            address=text(values, "address"), causes=[c for c in text(values, "causes").split("、") if c],
            needs=[n for n in text(values, "needs").split("、") if n], members=_members(values),
            disaster_id=_disaster(values), applied_on=civil_date(values, "applied_on") if text(values, "applied_on")
            else None,
        )
        body = {k: v for k, v in values.items() if k not in ("csrf_token", "idempotency_key")}
        result = await run_in_threadpool(runtime.relief.apply, viewer.actor, application,
                                         idempotency(request, viewer, values, body))
    except DomainError as exc:
        errors: dict[str, str] = {}
        for key, message in field_errors(exc).items():  # members.0.id_number → m0_id_number
            parts = key.split(".")
            key = f"m{parts[1]}_{parts[2]}" if parts[0] == "members" and len(parts) == 3 else key
            errors[key] = f"{errors[key]}；{message}" if key in errors else message
        return await _render_apply(request, viewer, posted(values), status_of(exc), errors=errors,
                                   form_error=exc.zh, existing_id=exc.details.get("existing_id"))
    return redirect(f"/relief/cases/{result.id}", done="applied")


@router.get("/relief/cases/{case_id}")
async def case_page(request: Request, case_id: UUID, done: str = "") -> Response:
    viewer = require_viewer(request)
    return await _render_case(request, viewer, case_id, done=done)


async def _render_case(request: Request, viewer: Viewer, case_id: UUID, status_code: int = 200,
                       revealed: bool = False, **context: Any) -> Response:
    runtime = request.app.state.runtime
    case = await run_in_threadpool(runtime.relief.get, viewer.actor, case_id)
    today = runtime.now().astimezone(CHINA).date()
    values = {"idempotency_key": new_key(), "held_on": today.isoformat(),
              "start": today.isoformat(),
              "end": (today + timedelta(days=runtime.relief_rules.posting_min_days - 1)).isoformat(),
              **context.pop("values", {})}
    return render(request, "relief/case.html", status_code=status_code, case=case_out(case, viewer.actor,
                  masked=not revealed), stage_names=STAGE_NAMES, next_step=NEXT_STEP, programmes=PROGRAMME_NAMES,
                  areas=runtime.areas, values=values, may_reveal=runtime.relief.may_see_full(viewer.actor),
                  role=viewer.actor.role.value, **context)


@router.post("/relief/cases/{case_id}/reveal")
async def reveal(request: Request, case_id: UUID) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        case = await run_in_threadpool(runtime.relief.reveal, viewer.actor, case_id, text(values, "purpose"))
    except DomainError as exc:
        return await _render_case(request, viewer, case_id, status_of(exc), errors=field_errors(exc),
                                  form_error=exc.zh, failed_form="reveal")
    return await _render_case(request, viewer, case.id, revealed=True, done="revealed")


def _action(name: str, act: Callable[[Any, Viewer, UUID, dict[str, str], Any], Any]) -> Any:
    async def endpoint(request: Request, case_id: UUID) -> Response:
        viewer, values = await form_of(request)
        runtime = request.app.state.runtime
        try:
            body = {k: v for k, v in values.items() if k not in ("csrf_token", "idempotency_key")}
            key = idempotency(request, viewer, values, body)
            if name == "goods":
                values = {**values, "_evidence": json.dumps(await evidence_files(request))}
            await run_in_threadpool(act, runtime.relief, viewer, case_id, values, key)
        except DomainError as exc:
            return await _render_case(request, viewer, case_id, status_of(exc), errors=field_errors(exc),
                                      form_error=exc.zh, failed_form=name, values=posted(values))
        return redirect(f"/relief/cases/{case_id}", done=name)

    router.add_api_route(f"/relief/cases/{{case_id}}/{name}", endpoint, methods=["POST"])
    return endpoint


_action("assessment", lambda s, v, c, f, k: s.assess(v.actor, c, text(f, "minutes_ref"), f.get("approved") == "yes",
                                                     civil_date(f, "held_on"), idempotency=k))
_action("posting", lambda s, v, c, f, k: s.post(v.actor, c, civil_date(f, "start"), civil_date(f, "end"),
                                                 text(f, "place"), reason=optional(f, "reason"), idempotency=k))
_action("objection", lambda s, v, c, f, k: s.raise_objection(v.actor, c, text(f, "summary"),
                                                             civil_date(f, "raised_on"), k))
_action("resolution", lambda s, v, c, f, k: s.resolve_objection(v.actor, c, text(f, "objection_id"),
                                                                text(f, "resolution"), f.get("upheld") == "yes", k))
_action("township-review", lambda s, v, c, f, k: s.township_review(v.actor, c, idempotency=k))
_action("approval", lambda s, v, c, f, k: s.approve(v.actor, c, fen_from_yuan(f, "amount"), optional(f, "reason"),
                                                   idempotency=k))
def _signatures(values: dict[str, str]) -> list[Signature]:
    """The three-party signatures typed in (recipient, village, township): name and date each."""
    out = []
    for party in ("recipient", "village", "township"):
        name = text(values, f"sig_{party}_name")
        if name:
            out.append(Signature(party, name, civil_date(values, f"sig_{party}_on")))
    return out


def _goods(s: Any, v: Viewer, c: UUID, f: dict[str, str], k: Any) -> Any:
    quantity = f.get("quantity", "").strip()
    if not quantity.isdigit() or int(quantity) <= 0:
        raise InvalidInput("请填写数量", "a positive quantity", fields=[FieldProblem("quantity", "not_a_number", "")])
    evidence = [Evidence(**e) for e in json.loads(f.get("_evidence", "[]"))]
    return s.issue_goods(v.actor, c, text(f, "item"), int(quantity), fen_from_yuan(f, "value"),
                         beijing_time(f, "delivered_at", required=False), evidence, _signatures(f) or None,
                         _disaster(f), idempotency=k)


_action("payment", lambda s, v, c, f, k: s.pay(v.actor, c, fen_from_yuan(f, "amount"), text(f, "batch_id"),
                                               text(f, "bank_ref") or ("现金" if f.get("method") == "cash" else ""),
                                               idempotency=k, method=f.get("method", "card"),
                                               signatures=_signatures(f) or None))
_action("goods", _goods)
_action("payment-return", lambda s, v, c, f, k: s.payment_came_back(v.actor, c, text(f, "payment_id"),
                                                                   text(f, "reason"), f.get("reversal") == "yes", k))
_action("rejection", lambda s, v, c, f, k: s.reject(v.actor, c, text(f, "reason"), idempotency=k))
