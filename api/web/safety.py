"""Production-safety accidents (生产安全事故), incident command (应急指挥) and the plans' safety targets.

- `/accidents`: the register of an area (grade, status, casualties) with the report clocks' 迟报 / 未报
  counts; the unit's first report as the county regulator records it; one accident with every report
  (续报 / 补报, flagged when beyond the window), each grade it had, the chain upward, the clocks with
  the rule and its version, the investigation, findings — and the forms REST offers for them.
- `/incidents`: the incidents of an area; one incident with the responses per government (its own
  Ⅰ–Ⅳ), who held command from when to when (and at a chosen moment), 镇呼区应 calls with their answers
  and waits, and the forms to start / adjust / end a response (the plan's suggestion shown), take
  command, call for support, answer, close.
- `/targets`: the plans' targets of the jurisdictions in scope, on track or off track with the figures
  (GraphQL's `targetTracking`); reference figures are loaded by the CLI (`relief-ledger targets load`).

Every read applies the API's scope; every form is the REST endpoint's use case with the form's
idempotency key, refused beside its fields the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.web.auth import Viewer, require_viewer
from api.web.forms import beijing_time, evidence_files, optional, posted, text
from api.web.messages import field_errors
from api.web.pages import form_of, idempotency, new_key, page_router, redirect, view, wait_for
from api.web.templating import CHINA, local_input, render
from ledger.accidents import state as accident_state
from ledger.accidents.clocks import RULE_NAMES, evaluate
from ledger.accidents.findings import Finding
from ledger.accidents.inputs import AccidentReport, FollowUp, InvestigationStep, UpwardReport
from ledger.accidents.rules import GRADE_NAMES
from ledger.reference.codes import AreaCode
from ledger.store.actors import REVIEWERS
from ledger.store.errors import DomainError, FieldProblem, InvalidInput, NotPermitted

router = page_router()

STATUS_NAMES = {"open": "救援中", "rescue_concluded": "救援结束", "investigating": "调查中", "closed": "已结案",
                "withdrawn": "已撤销"}
CLOCK_NAMES = {"on_time": "按时", "late": "迟报", "missing": "未报", "pending": "未到期"}
LEVEL_NAMES = {"unit": "事故单位", "township": "乡镇", "county": "县级", "city": "市级", "province": "省级",
               "national": "国家"}
CHANNEL_NAMES = {"system": "系统", "phone": "电话", "fax": "传真", "document": "书面"}
SOURCE_NAMES = {"unit": "单位报告", "public_report": "举报", "inspection": "检查发现", "media": "媒体", "other": "其他"}
FINDING_NAMES = {"late": "迟报", "omitted": "漏报", "false": "谎报", "concealed": "瞒报"}
CATEGORY_NAMES = {"natural_disaster": "自然灾害", "accident": "事故灾难", "public_health": "公共卫生事件",
                  "social_security": "社会安全事件"}
ACTION_NAMES = {"start": "启动", "adjust": "调整", "end": "终止"}
OUTCOME_NAMES = {"dispatched": "已派出", "partial": "部分满足", "declined": "未能支援"}
SUPPORT_NAMES = {"rescue": "救援力量", "equipment": "装备", "supplies": "物资", "experts": "专家", "medical": "医疗",
                 "other": "其他"}
TARGET_STATUS = {"on_track": "达标", "off_track": "未达标", "unknown": "数据不足"}
CASUALTIES = (("deaths", "死亡"), ("missing", "失踪"), ("serious_injuries", "重伤（不含急性中毒）"),
              ("minor_injuries", "轻伤"), ("acute_poisoning", "急性中毒"))
EVENT_NAMES = {
    "Recorded": "首报", "FollowUpFiled": "续报", "Regraded": "重新定级", "ReportedUpward": "上报",
    "RescueConcluded": "救援结束", "InvestigationOpened": "启动调查", "InvestigationReportSubmitted": "提交调查报告",
    "ApprovalDeadlineExtended": "延长批复期限", "InvestigationApproved": "批复", "Closed": "结案",
    "FindingRecorded": "认定", "FindingWithdrawn": "撤销认定", "Withdrawn": "撤销",
    "Opened": "事件开始", "Linked": "关联", "ResponseStarted": "启动响应", "ResponseAdjusted": "调整响应",
    "ResponseEnded": "终止响应", "CommandTaken": "承担指挥", "CommandTransferred": "指挥权移交",
    "SupportRequested": "镇呼区应：请求", "SupportAnswered": "镇呼区应：答复",
}
CONTEXT = {"status_names": STATUS_NAMES, "clock_names": CLOCK_NAMES, "level_names": LEVEL_NAMES,
           "channel_names": CHANNEL_NAMES, "source_names": SOURCE_NAMES, "finding_names": FINDING_NAMES,
           "category_names": CATEGORY_NAMES, "action_names": ACTION_NAMES, "outcome_names": OUTCOME_NAMES,
           "support_names": SUPPORT_NAMES, "grade_names": GRADE_NAMES, "casualty_fields": CASUALTIES,
           "event_names": EVENT_NAMES, "rule_names": RULE_NAMES, "target_status": TARGET_STATUS}


def _area(viewer: Viewer, area: str) -> str:
    scope = viewer.actor.scope
    area = area.strip()
    if not area:
        return scope
    try:
        prefix = AreaCode.parse(area, "area").prefix
    except InvalidInput:
        raise InvalidInput("地区代码有误", "invalid area code", fields=[FieldProblem("area", "bad_area", "")]) from None
    if not prefix.startswith(scope):
        if scope.startswith(prefix):
            return scope
        raise NotPermitted(f"{area} 不在本账号的管辖范围内", f"{area} is outside this account's scope")
    return prefix


def _place(areas: Any) -> Callable[[Any], str]:
    """A code's area name where it is one (a unit's credit code or name is shown as it is)."""

    def name(code: Any) -> str:
        raw = str(code or "")
        if raw.isdigit() and len(raw) in (2, 4, 6, 9, 12):
            try:
                found = areas.get(raw)
            except DomainError:
                found = None
            if found is not None:
                return str(found.name)
        return raw

    return name


def _regulator(viewer: Viewer) -> bool:
    return viewer.actor.role in REVIEWERS


def _yuan_or_zero(values: dict[str, str], name: str, required: bool = True) -> int | None:
    raw = values.get(name, "").strip().replace(",", "").replace("，", "")
    if not raw:
        if required:
            return 0
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e12"):
        raise InvalidInput("金额有误", "invalid amount",
                           fields=[FieldProblem(name, "bad_amount", "请填写以元为单位、最多两位小数的非负数")])
    return int(amount * 100)


def _casualties(values: dict[str, str], partial: bool = False) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for key, _ in CASUALTIES:
        raw = values.get(f"c_{key}", "").strip()
        if not raw:
            if not partial:
                out[key] = 0
            continue
        if not raw.isdigit():
            raise InvalidInput("伤亡人数须为非负整数", "casualties are whole numbers",
                               fields=[FieldProblem(f"c_{key}", "not_a_number", "")])
        out[key] = int(raw)
    return out if out or not partial else None


def _errors(exc: DomainError) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, message in field_errors(exc).items():
        for prefix, to in (("casualties.", "c_"), ("commander.", "commander_"), ("evidence.", "evidence")):
            if key.startswith(prefix):
                key = to + key.removeprefix(prefix) if to.endswith("_") else to
        key = {"direct_loss_fen": "direct_loss"}.get(key, key)
        out[key] = f"{out[key]}；{message}" if key in out else message
    return out


def _history(entries: list[dict[str, Any]], areas: Any) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        actor = e.get("actor") or {}
        unit = actor.get("unit", "")
        area = areas.get(unit) if unit else None
        out.append({"version": e["version"], "label": EVENT_NAMES.get(e["type"], e["type"]),
                    "recorded": e["recorded_at"], "who": actor.get("username", ""),
                    "unit": area.name if area else unit})
    return out


# --- accidents -----------------------------------------------------------------------------------------


@router.get("/accidents")
async def accidents(request: Request, area: str = "", grade: str = "", sector: str = "", year: str = "",
                    after: str = "") -> Response:
    viewer = require_viewer(request)
    caught_up = await wait_for(request, after, ["accidents"])
    runtime = request.app.state.runtime
    where = _area(viewer, area)
    this_year = runtime.now().astimezone(CHINA).year
    chosen = int(year) if year.isdigit() else this_year
    register = view(request, "accidents")
    rows = await run_in_threadpool(register.find, where, f"{chosen}-01-01", f"{chosen}-12-31", grade or None,
                                   sector or None, 500)
    now = runtime.now()
    counts = dict.fromkeys(CLOCK_NAMES, 0)
    shown = []
    for r in rows:
        flags = evaluate(accident_state.fold(json.loads(r["entries"])), runtime.accident_rules, now)
        for f in flags:
            counts[f.status] += 1
        shown.append({**r, "late": sum(1 for f in flags if f.status in ("late", "missing")),
                      "unit_name": json.loads(r["entries"])[0].get("unit", {}).get("name", "")})
    return render(request, "safety/accidents.html", rows=shown, counts=counts, area=where, grade=grade,
                  sector=sector, year=chosen, caught_up=caught_up, areas=runtime.areas,
                  place=_place(runtime.areas),
                  sectors=runtime.accident_rules.sectors, may_record=_regulator(viewer), **CONTEXT)


async def _render_new_accident(request: Request, viewer: Viewer, values: dict[str, Any], status_code: int = 200,
                               **context: Any) -> Response:
    runtime = request.app.state.runtime
    scope = viewer.actor.scope
    county = scope[:6] if len(scope) >= 6 else scope
    townships = list(runtime.areas.children(county)) if len(county) == 6 else []
    return render(request, "safety/accident_new.html", status_code=status_code, values=values, townships=townships,
                  sectors=runtime.accident_rules.sectors, county=county, **CONTEXT, **context)


@router.get("/accidents/new")
async def new_accident(request: Request) -> Response:
    viewer = require_viewer(request)
    now = local_input(request.app.state.runtime.now())
    return await _render_new_accident(request, viewer, {"idempotency_key": new_key(), "occurred_at": now,
                                                        "unit_reported_at": now, "county": viewer.actor.scope[:6]})


@router.post("/accidents/new")
async def record_accident(request: Request) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    try:
        report = AccidentReport(
            county=text(values, "county"), township=text(values, "township"), unit_name=text(values, "unit_name"),
            sector=values.get("sector", ""), occurred_at=beijing_time(values, "occurred_at"),  # type: ignore[arg-type]
            place=text(values, "place"), summary=text(values, "summary"), casualties=_casualties(values) or {},
            direct_loss_fen=_yuan_or_zero(values, "direct_loss") or 0, credit_code=optional(values, "credit_code"),
            park=optional(values, "park"), measures=text(values, "measures"), source=values.get("source", "unit"),
            unit_reported_at=beijing_time(values, "unit_reported_at", required=False))
        body = {k: v for k, v in values.items() if k not in ("csrf_token", "idempotency_key")}
        result = await run_in_threadpool(runtime.accidents.record, viewer.actor, report,
                                         idempotency(request, viewer, values, body))
    except DomainError as exc:
        return await _render_new_accident(request, viewer, posted(values), status_of(exc), errors=_errors(exc),
                                          form_error=exc.zh, existing_id=exc.details.get("existing_id"))
    return redirect(f"/accidents/{result.id}", done="recorded")


async def _render_accident(request: Request, viewer: Viewer, accident_id: UUID, status_code: int = 200,
                           **context: Any) -> Response:
    runtime = request.app.state.runtime
    events = await run_in_threadpool(runtime.accidents.history, viewer.actor, accident_id)
    entries = [accident_state.entry(e) for e in events]
    state = accident_state.fold(entries)
    flags = evaluate(state, runtime.accident_rules, runtime.now())
    now = local_input(runtime.now())
    values = {"idempotency_key": new_key(), "now": now, **context.pop("values", {})}
    sector = runtime.accident_rules.sectors.get(state["sector"])
    return render(request, "safety/accident.html", status_code=status_code, s=state, flags=flags,
                  status=accident_state.status(state), history=_history(entries, runtime.areas), values=values,
                  sector_name=sector.name if sector else state["sector"], areas=runtime.areas,
                  place=_place(runtime.areas),
                  may_act=_regulator(viewer), role=viewer.actor.role.value, accident_id=accident_id,

                  **CONTEXT, **context)


@router.get("/accidents/{accident_id}")
async def accident_page(request: Request, accident_id: UUID, done: str = "") -> Response:
    viewer = require_viewer(request)
    return await _render_accident(request, viewer, accident_id, done=done)


def _accident_action(name: str, act: Callable[[Any, Viewer, UUID, dict[str, str], Any], Any]) -> None:
    async def endpoint(request: Request, accident_id: UUID) -> Response:
        viewer, values = await form_of(request)
        runtime = request.app.state.runtime
        try:
            body = {k: v for k, v in values.items() if k not in ("csrf_token", "idempotency_key")}
            key = idempotency(request, viewer, values, body)
            if name == "finding":
                values = {**values, "_evidence": json.dumps(await evidence_files(request))}
            await run_in_threadpool(act, runtime.accidents, viewer, accident_id, values, key)
        except DomainError as exc:
            return await _render_accident(request, viewer, accident_id, status_of(exc), errors=_errors(exc),
                                          form_error=exc.zh, failed_form=name, values=posted(values))
        return redirect(f"/accidents/{accident_id}", done=name)

    router.add_api_route(f"/accidents/{{accident_id}}/{name}", endpoint, methods=["POST"])


def _moment(values: dict[str, str], name: str = "at") -> datetime:
    return beijing_time(values, name)  # type: ignore[return-value]


def _days(values: dict[str, str]) -> int:
    raw = values.get("days", "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 365:
        raise InvalidInput("请填写延长天数（1–365）", "days 1–365", fields=[FieldProblem("days", "not_a_number", "")])
    return int(raw)


_accident_action("follow-up", lambda s, v, a, f, k: s.file_follow_up(v.actor, a, FollowUp(
    as_of=_moment(f, "as_of"), text=text(f, "text"), casualties=_casualties(f, partial=True),
    direct_loss_fen=_yuan_or_zero(f, "direct_loss", required=False), explanation=optional(f, "explanation"),
    reported_at=beijing_time(f, "reported_at", required=False)), None, k))
_accident_action("upward", lambda s, v, a, f, k: s.report_upward(v.actor, a, UpwardReport(
    to_level=f.get("to_level", ""), reported_at=_moment(f, "reported_at"), channel=f.get("channel", "system")),
    None, k))
_accident_action("rescue-concluded", lambda s, v, a, f, k: s.conclude_rescue(v.actor, a, _moment(f), None, k))
_accident_action("investigation", lambda s, v, a, f, k: s.open_investigation(v.actor, a, InvestigationStep(
    at=_moment(f), team=text(f, "team"), lead_level=optional(f, "lead_level")), None, k))
_accident_action("investigation-report", lambda s, v, a, f, k: s.submit_investigation_report(
    v.actor, a, InvestigationStep(at=_moment(f), document=text(f, "document")), None, k))
_accident_action("extension", lambda s, v, a, f, k: s.extend_approval(
    v.actor, a, InvestigationStep(at=s.rt.now(), days=_days(f), reason=text(f, "reason")), None, k))
_accident_action("approval", lambda s, v, a, f, k: s.approve_investigation(
    v.actor, a, InvestigationStep(at=_moment(f), document=text(f, "document")), None, k))
_accident_action("closure", lambda s, v, a, f, k: s.close(v.actor, a, InvestigationStep(at=_moment(f)), None, k))
_accident_action("finding", lambda s, v, a, f, k: s.record_finding(v.actor, a, Finding(
    kind=f.get("kind", ""), text=text(f, "text"), evidence=json.loads(f.get("_evidence", "[]")),
    against_party=f.get("against_party", "unit"), against_level=optional(f, "against_level")), None, k))
_accident_action("withdrawal", lambda s, v, a, f, k: s.withdraw(v.actor, a, text(f, "reason"), None, k))


# --- incidents -----------------------------------------------------------------------------------------
