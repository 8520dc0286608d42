"""Housing reconstruction (倒损住房恢复重建 一户一档): the files of an area by step, progress figures, one
file's history and its next action.

The list and the figures read the housing projection as GraphQL's `housingFiles` and `housingProgress`
read it (names in clear for officers in scope, numbers masked); one file is read as
`GET /v1/housing/cases/{id}` reads it — masked, unless a county or relief officer states a purpose,
which is recorded first. Its history is the file's own events (as the audit pages read them). Every
action is the REST endpoint's use case with the form's idempotency key, refused the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from itertools import islice
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.rest import housing as rest_housing
from api.rest.housing import housing_out
from api.web.auth import Viewer, require_viewer
from api.web.forms import civil_date, evidence_files, fen_from_yuan, optional, posted, text
from api.web.messages import field_errors
from api.web.pages import form_of, idempotency, new_key, page_router, redirect, view, wait_for
from api.web.templating import CHINA, render
from ledger.households.evidence import Evidence
from ledger.households.household import names_visible
from ledger.housing.case import OTHER_MONEY, Step
from ledger.housing.rules import DAMAGE, MODES
from ledger.housing.service import HousingApplication
from ledger.reference.codes import AreaCode
from ledger.store.errors import DomainError, FieldProblem, InvalidInput, NotPermitted
from projections.disasters.board import BoardFilter
from projections.housing.reconcile import reconciliation_of

router = page_router()

MAX_ROWS = 2000
"""Files listed on one page (the figures above the list count every file; the .xlsx lists every file)."""

STEP_NAMES = {"applied": "申请（已评估）", "deliberated": "村评议", "posted": "公示中", "township_reviewed": "乡审通过",
              "approved": "县批", "agreed": "已签协议", "started": "已开工", "completed": "已竣工",
              "accepted": "验收通过", "moved_in": "已入住", "closed": "已销号", "rejected": "未通过",
              "withdrawn": "已撤回"}
NEXT_ACTION = {"applied": "村评议（四议两公开）", "deliberated": "公示", "posted": "公示期满后乡审（处理异议）",
               "township_reviewed": "县批（核定补助）", "approved": "签订协议", "agreed": "开工",
               "started": "竣工", "completed": "验收", "accepted": "入住 / 销号", "moved_in": "销号"}
KIND_NAMES = {"rebuild": "重建（原址 / 异地 / 集中统建）", "purchase": "购房安置", "repair": "维修加固"}
EVENT_NAMES = {
    "Applied": "申请（损毁评估）", "Deliberated": "村评议（四议两公开）", "Posted": "公示", "ObjectionRaised": "登记异议",
    "ObjectionResolved": "异议处理", "TownshipReviewed": "乡审", "CountyApproved": "县批（核定补助）",
    "AgreementSigned": "签订协议", "StepRecorded": "环节", "Inspected": "验收", "ProgressReported": "进度报告",
    "ClosedEarly": "终止", "TranchePaid": "拨付补助", "TrancheReturned": "补助退回", "OtherMoneyRecorded": "其他资金",
}
OVERDUE_NAMES = {"start_late": "逾期未开工", "completion_late": "逾期未竣工", "progress_report_due": "进度报告逾期",
                 "final_tranche_due": "尾款逾期未拨付"}
CONTEXT = {"step_names": STEP_NAMES, "next_action": NEXT_ACTION, "damage_names": DAMAGE, "mode_names": MODES,
           "kind_names": KIND_NAMES, "other_money": OTHER_MONEY, "overdue_names": OVERDUE_NAMES}


def _area(viewer: Viewer, area: str) -> str:
    """The area asked for, within the account's scope (a township account stays in its township)."""
    scope = viewer.actor.scope
    if not area:
        return scope
    try:
        prefix = AreaCode.parse(area, "area").prefix
    except InvalidInput:
        raise InvalidInput("地区代码有误", "invalid area code",
                           fields=[FieldProblem("area", "bad_area", "2, 4, 6, 9 or 12 digits")]) from None
    if not prefix.startswith(scope):
        if scope.startswith(prefix) and len(scope) == 9:
            return scope
        raise NotPermitted(f"{area} 不在本账号的管辖范围内", f"{area} is outside this account's scope")
    return prefix


async def _processes(request: Request, area: str) -> list[dict[str, Any]]:
    """The disaster processes of the area's county (for choosing one)."""
    county = area[:6] if len(area) >= 6 else area
    rows = await run_in_threadpool(view(request, "board").find, BoardFilter(area=county), None, 200)
    return [r for r in rows if r.get("stage") != "retracted"]


@router.get("/housing")
async def housing_list(request: Request, area: str = "", disaster_id: str = "", step: str = "",
                       after: str = "", export_error: str = "") -> Response:
    viewer = require_viewer(request)
    caught_up = await wait_for(request, after, ["housing"])
    runtime = request.app.state.runtime
    where = _area(viewer, area)
    housing = view(request, "housing")
    chosen = disaster_id or None
    rows = await run_in_threadpool(lambda: list(islice(housing.iter_rows(where, chosen), MAX_ROWS + 1)))
    truncated = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["step"]] = counts.get(r["step"], 0) + 1
    shown = [r for r in rows if not step or r["step"] == step]
    if names_visible(viewer.actor, where):
        decrypt = runtime.pii.decrypt
        shown = [{**r, "head_name": decrypt(r["head_name_cipher"])} if r.get("head_name_cipher") else r for r in shown]
    progress = await run_in_threadpool(housing.progress, where, chosen)
    today = runtime.now().astimezone(CHINA).date()
    overdue = await run_in_threadpool(housing.overdue, where, today, runtime.housing_rules)
    if chosen:
        overdue = [o for o in overdue if o["disaster_id"] == chosen]
    processes = await _processes(request, where)
    board = view(request, "board")
    reconciliation = await run_in_threadpool(reconciliation_of, housing, board, where, chosen)
    return render(request, "housing/list.html", reconciliation=[(did, d.as_dict()) for did, d in reconciliation],
                  indicators=runtime.indicators.indicators, rows=shown, counts=counts, area=where, disaster_id=disaster_id,
                  step=step, caught_up=caught_up, progress=sorted(progress.items()), overdue=overdue,
                  processes=processes, areas=runtime.areas, hazards=runtime.hazards.hazards,
                  may_apply=viewer.actor.role.value in ("township", "county", "relief_officer"),
                  may_reveal=runtime.relief.may_see_full(viewer.actor), export_error=export_error[:200],
                  truncated=truncated, max_rows=MAX_ROWS,
                  values={}, **CONTEXT)


@router.get("/housing/list.xlsx")
def housing_list_download(request: Request, area: str = "", disaster_id: str = "") -> Response:
    """因灾倒塌损坏住房户一览表, masked: the same workbook as `GET /v1/housing/list.xlsx`."""
    viewer = require_viewer(request)
    return rest_housing.housing_list(request, request.app.state.runtime, viewer.actor, _area(viewer, area),
                                     _disaster(disaster_id))


@router.post("/housing/list.xlsx")
async def housing_list_revealed(request: Request) -> Response:
    """The same list with the numbers in clear, for the roles that may, after a stated purpose (recorded)."""
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    area = _area(viewer, text(values, "area"))
    try:
        if not text(values, "purpose"):
            raise InvalidInput("须说明导出理由", "state why the unmasked list is needed",
                               fields=[FieldProblem("purpose", "required", "why the unmasked data is needed")])
        return await run_in_threadpool(rest_housing.housing_list, request, runtime, viewer.actor, area,
                                       _disaster(values.get("disaster_id", "")), True, text(values, "purpose"))
    except DomainError as exc:
        return redirect("/housing", area=area, disaster_id=values.get("disaster_id", ""),
                        export_error=exc.zh)


def _disaster(raw: str) -> UUID | None:
    try:
        return UUID(raw) if raw.strip() else None
    except ValueError:
        raise InvalidInput("灾害过程编号有误", "invalid disaster id") from None


def _villages(request: Request, viewer: Viewer) -> list[Any]:
    areas = request.app.state.runtime.areas
    scope = viewer.actor.scope
    townships = [areas.get(scope)] if len(scope) == 9 else list(areas.children(scope)) if len(scope) == 6 else []
    return [v for t in townships if t is not None for v in areas.children(t.code)]


async def _render_new(request: Request, viewer: Viewer, values: dict[str, Any], status_code: int = 200,
                      **context: Any) -> Response:
    runtime = request.app.state.runtime
    return render(request, "housing/apply.html", status_code=status_code, values=values,
                  villages=_villages(request, viewer), processes=await _processes(request, viewer.actor.scope),
                  hazards=runtime.hazards.hazards, **CONTEXT, **context)


@router.get("/housing/new")
async def new_file(request: Request, disaster_id: str = "") -> Response:
    viewer = require_viewer(request)
    today = request.app.state.runtime.now().astimezone(CHINA).date().isoformat()
    return await _render_new(request, viewer, {"idempotency_key": new_key(), "assessed_on": today, "rooms": "1",
                                               "disaster_id": disaster_id})


def _int(values: dict[str, str], name: str) -> int:
    raw = values.get(name, "").strip()
    if not raw.isdigit():
        raise InvalidInput("请填写整数", "a whole number is required", fields=[FieldProblem(name, "not_a_number", "")])
    return int(raw)


def _uuid(values: dict[str, str], name: str) -> UUID:
    try:
        return UUID(values.get(name, "").strip())
    except ValueError:
        raise InvalidInput("请选择灾害过程", "choose the disaster process",
                           fields=[FieldProblem(name, "required", "a disaster process")]) from None


async def _evidence(request: Request, values: dict[str, str]) -> list[Evidence]:
    """Evidence files chosen in the form, referenced by the SHA-256 of their content (type and name kept), and
    any references typed as `sha256:<hex>`."""
    found = [Evidence(e["ref"], e["type"], e["name"]) for e in await evidence_files(request)]
    for ref in text(values, "evidence").replace("，", "、").replace(",", "、").split("、"):
        if ref.strip():
            found.append(Evidence(ref.strip(), "image/jpeg", "评估照片"))
    return found


@router.post("/housing/new")
async def apply(request: Request) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        evidence = await _evidence(request, values)
        application = HousingApplication(
            disaster_id=_uuid(values, "disaster_id"), village=text(values, "village"),
            head_name=text(values, "head_name"), id_number=text(values, "id_number"), phone=text(values, "phone"),
            address=text(values, "address"), damage=values.get("damage", ""), rooms=_int(values, "rooms"),
            mode=values.get("mode", ""), evidence=evidence, assessed_on=civil_date(values, "assessed_on"),
            card_number=text(values, "card_number"), flood_storage=values.get("flood_storage") == "yes")
        body = {k: v for k, v in values.items() if k not in ("csrf_token", "idempotency_key")}
        result = await run_in_threadpool(runtime.housing.apply, viewer.actor, application,
                                         idempotency(request, viewer, values, body))
    except DomainError as exc:
        errors: dict[str, str] = {}
        for key, message in field_errors(exc).items():  # evidence.0.ref → beside the evidence files
            key = "evidence" if key.startswith("evidence.") else key
            errors[key] = f"{errors[key]}；{message}" if key in errors else message
        return await _render_new(request, viewer, posted(values), status_of(exc), errors=errors,
                                 form_error=exc.zh, existing_id=exc.details.get("existing_id"))
    return redirect(f"/housing/cases/{result.id}", done="applied")


@router.get("/housing/cases/{case_id}")
async def case_page(request: Request, case_id: UUID, done: str = "") -> Response:
    viewer = require_viewer(request)
    return await _render_case(request, viewer, case_id, done=done)


def _history(events: list[Any], areas: Any) -> list[dict[str, Any]]:
    out = []
    for e in events:
        name = type(e).__name__
        actor = getattr(e, "actor", None) or {}
        label = EVENT_NAMES.get(name, name)
        if name == "StepRecorded":
            label = STEP_NAMES.get(getattr(e, "step", ""), label)
        stated = next((getattr(e, a) for a in ("stated_on", "held_on", "start", "signed_on", "assessed_on",
                                                "raised_on") if isinstance(getattr(e, a, None), date)), None)
        detail = []
        for attr, title in (("minutes_ref", "评议记录"), ("place", "地点"), ("summary", "异议"),
                            ("resolution", "处理"), ("reason", "理由"), ("reasons", "原因"), ("note", "说明"),
                            ("bank_ref", "流水号")):
            if getattr(e, attr, None):
                detail.append(f"{title}：{getattr(e, attr)}")
        for attr, title in (("subsidy", "补助"), ("amount", "金额")):
            if isinstance(getattr(e, attr, None), int):
                detail.append(f"{title}：{getattr(e, attr) / 100:,.2f} 元")
        if name == "Inspected":
            detail.insert(0, "通过" if e.passed else "未通过")
        if getattr(e, "delay_days", 0):
            detail.append(f"晚于协议 {e.delay_days} 天")
        unit = actor.get("unit", "")
        area = areas.get(unit) if unit else None
        out.append({"version": e.originator_version, "label": label, "recorded": e.timestamp, "stated": stated,
                    "who": actor.get("username", ""), "unit": area.name if area else unit,
                    "detail": "；".join(detail)})
    return out


async def _render_case(request: Request, viewer: Viewer, case_id: UUID, status_code: int = 200,
                       revealed: bool = False, **context: Any) -> Response:
    runtime = request.app.state.runtime
    case = await run_in_threadpool(runtime.housing.get, viewer.actor, case_id)
    events = await run_in_threadpool(runtime.audit.events, viewer.actor, case_id)
    today = runtime.now().astimezone(CHINA).date()
    posting_days = runtime.housing_rules.posting.min_days
    values = {"idempotency_key": new_key(), "today": today.isoformat(), "start": today.isoformat(),
              "end": (today + timedelta(days=posting_days - 1)).isoformat(), **context.pop("values", {})}
    shown = housing_out(case, viewer.actor, masked=not revealed)
    role = viewer.actor.role.value
    schedule = (case.agreement or {}).get("tranches", [])
    at = case.sequence.index(case.step) if case.step in case.sequence else -1
    due = {n: {"amount": case.tranche_due(n), "at": t["at"],
               "reached": at >= case.sequence.index(Step(t["at"])) if t["at"] in case.sequence else False}
           for n, t in enumerate(schedule, start=1)}
    return render(request, "housing/case.html", status_code=status_code, case=shown, history=_history(events,
                  runtime.areas), areas=runtime.areas, values=values, role=role, due=due,
                  may_reveal=runtime.relief.may_see_full(viewer.actor), **CONTEXT, **context)


@router.post("/housing/cases/{case_id}/reveal")
async def reveal(request: Request, case_id: UUID) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        case = await run_in_threadpool(runtime.housing.get, viewer.actor, case_id)
        await run_in_threadpool(runtime.relief.record_view, viewer.actor, case.id, case.village,
                                text(values, "purpose"))
    except DomainError as exc:
        return await _render_case(request, viewer, case_id, status_of(exc), errors=field_errors(exc),
                                  form_error=exc.zh, failed_form="reveal")
    return await _render_case(request, viewer, case_id, revealed=True, done="revealed")


def _action(name: str, act: Callable[[Any, Viewer, UUID, dict[str, str], Any], Any]) -> None:
    async def endpoint(request: Request, case_id: UUID) -> Response:
        viewer, values = await form_of(request)
        runtime = request.app.state.runtime
        try:
            body = {k: v for k, v in values.items() if k not in ("csrf_token", "idempotency_key")}
            key = idempotency(request, viewer, values, body)
            await run_in_threadpool(act, runtime.housing, viewer, case_id, values, key)
        except DomainError as exc:
            return await _render_case(request, viewer, case_id, status_of(exc), errors=field_errors(exc),
                                      form_error=exc.zh, failed_form=name, values=posted(values))
        return redirect(f"/housing/cases/{case_id}", done=name)

    router.add_api_route(f"/housing/cases/{{case_id}}/{name}", endpoint, methods=["POST"])


def _tranche(values: dict[str, str]) -> int:
    raw = values.get("tranche", "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 10:
        raise InvalidInput("请选择第几笔补助", "choose the tranche", fields=[FieldProblem("tranche", "bad_tranche", "")])
    return int(raw)


_action("deliberation", lambda s, v, c, f, k: s.deliberate(v.actor, c, text(f, "minutes_ref"),
                                                           civil_date(f, "held_on"), idempotency=k))
_action("posting", lambda s, v, c, f, k: s.post(v.actor, c, civil_date(f, "start"), civil_date(f, "end"),
                                                 text(f, "place"), optional(f, "reason"), idempotency=k))
_action("objection", lambda s, v, c, f, k: s.raise_objection(v.actor, c, text(f, "summary"),
                                                             civil_date(f, "raised_on"), idempotency=k))
_action("resolution", lambda s, v, c, f, k: s.resolve_objection(v.actor, c, text(f, "objection_id"),
                                                                text(f, "resolution"), f.get("upheld") == "yes",
                                                                idempotency=k))
_action("township-review", lambda s, v, c, f, k: s.township_review(v.actor, c, civil_date(f, "stated_on"),
                                                                   idempotency=k))
_action("approval", lambda s, v, c, f, k: s.approve(
    v.actor, c, fen_from_yuan(f, "amount") if text(f, "amount") else None, optional(f, "reason"),
    civil_date(f, "stated_on"), idempotency=k))
_action("agreement", lambda s, v, c, f, k: s.agree(
    v.actor, c, civil_date(f, "signed_on"), civil_date(f, "planned_start") if text(f, "planned_start") else None,
    civil_date(f, "planned_completion") if text(f, "planned_completion") else None, idempotency=k))
_action("step", lambda s, v, c, f, k: s.record_step(v.actor, c, f.get("step", ""), civil_date(f, "stated_on"),
                                                    idempotency=k))
_action("inspection", lambda s, v, c, f, k: s.inspect(v.actor, c, f.get("passed") == "yes", optional(f, "reasons"),
                                                      civil_date(f, "stated_on"), idempotency=k))
_action("progress", lambda s, v, c, f, k: s.report_progress(v.actor, c, civil_date(f, "stated_on"),
                                                            text(f, "note"), idempotency=k))
_action("tranche", lambda s, v, c, f, k: s.pay_tranche(v.actor, c, _tranche(f), text(f, "bank_ref"),
                                                       idempotency=k))
_action("tranche-return", lambda s, v, c, f, k: s.tranche_came_back(v.actor, c, text(f, "payment_id"),
                                                                    text(f, "reason"), k))
_action("other-money", lambda s, v, c, f, k: s.record_other_money(
    v.actor, c, f.get("kind", ""), fen_from_yuan(f, "amount"), civil_date(f, "stated_on"), text(f, "note"),
    idempotency=k))
_action("rejection", lambda s, v, c, f, k: s.reject(v.actor, c, text(f, "reason"), idempotency=k))
_action("withdrawal", lambda s, v, c, f, k: s.withdraw(v.actor, c, text(f, "reason"), idempotency=k))
