"""REST commands and strongly consistent reads of one production-safety accident (生产安全事故).

Each endpoint translates HTTP ↔ one use case of `AccidentService`; the rules live in
`ledger.accidents`. Reads replay the accident's events (`GET /v1/accidents/{id}` also evaluates its
report clocks now).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, ExpectedVersion, IdempotencyHeader, Runtime, idempotency_key
from ledger.accidents import state as accident_state
from ledger.accidents.clocks import evaluate, grade_name
from ledger.accidents.findings import Finding
from ledger.accidents.inputs import AccidentReport, FollowUp, InvestigationStep, UpwardReport
from ledger.store.commands import CommandResult
from schemas.accidents import (
    AccidentIn,
    AccidentOut,
    DocumentStepIn,
    ExtensionIn,
    FindingIn,
    FollowUpIn,
    InvestigationOpenIn,
    MomentIn,
    ReasonIn,
    UpwardReportIn,
)
from schemas.common import ERROR_RESPONSES, CommandOut

router = APIRouter(prefix="/v1/accidents", tags=["accidents 生产安全事故"], responses=ERROR_RESPONSES)


def answer(result: CommandResult, created: dict[str, Any] | None = None) -> JSONResponse:
    body = result.as_dict()
    if created:
        body["created"] = created
    return JSONResponse(body, status_code=result.status,
                        headers={"ETag": f'"{result.version}"', "Location": f"/v1/accidents/{result.id}"})


@router.get("/sectors", summary="行业领域: the configured sectors")
def sectors(runtime: Runtime, actor: CurrentActor) -> list[dict[str, Any]]:
    rules = runtime.accident_rules
    return [{"code": s.code, "name": s.name, "industrial": s.industrial, "road": s.road,
             "supplement_days": s.supplement_days or rules.clocks.supplement_days} for s in rules.sectors.values()]


@router.post("", status_code=201, response_model=CommandOut, summary="事故报告: record the unit's first report")
def record(body: AccidentIn, request: Request, runtime: Runtime, actor: CurrentActor,
           key: IdempotencyHeader = None) -> JSONResponse:
    """Recorded by the county regulator with the unit's stated time; graded under 493号令 at once. A second
    record of the same accident (county, unit, minute) answers 409 with `details.existing_id`."""
    data = body.model_dump()
    data["casualties"] = body.casualties.model_dump()
    result = runtime.accidents.record(actor, AccidentReport(**data), idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/follow-ups", status_code=201, response_model=CommandOut,
             summary="续报 / 补报: a follow-up, possibly changing casualties or loss (regraded at once)")
def follow_up(accident_id: UUID, body: FollowUpIn, request: Request, runtime: Runtime, actor: CurrentActor,
              expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    data = body.model_dump()
    data["casualties"] = body.casualties.model_dump(exclude_unset=True) if body.casualties is not None else None
    result = runtime.accidents.file_follow_up(actor, accident_id, FollowUp(**data), expected,
                                              idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/upward-reports", response_model=CommandOut,
             summary="上报: the acting level's report to a higher level, with its stated time")
def report_upward(accident_id: UUID, body: UpwardReportIn, request: Request, runtime: Runtime,
                  actor: CurrentActor, expected: ExpectedVersion = None, key: IdempotencyHeader = None
                  ) -> JSONResponse:
    result = runtime.accidents.report_upward(actor, accident_id, UpwardReport(**body.model_dump()), expected,
                                             idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/rescue-concluded", response_model=CommandOut,
             summary="应急救援结束: no 续报 falls due after it")
def conclude_rescue(accident_id: UUID, body: MomentIn, request: Request, runtime: Runtime, actor: CurrentActor,
                    expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.accidents.conclude_rescue(actor, accident_id, body.at, expected,
                                               idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/investigation", status_code=201, response_model=CommandOut,
             summary="调查: open the investigation (by the level the grade requires, or higher)")
def open_investigation(accident_id: UUID, body: InvestigationOpenIn, request: Request, runtime: Runtime,
                       actor: CurrentActor, expected: ExpectedVersion = None, key: IdempotencyHeader = None
                       ) -> JSONResponse:
    step = InvestigationStep(at=body.at, team=body.team, lead_level=body.lead_level)
    result = runtime.accidents.open_investigation(actor, accident_id, step, expected,
                                                  idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/investigation/report", response_model=CommandOut,
             summary="调查报告: submitted for 批复 (starts the approval clock)")
def submit_report(accident_id: UUID, body: DocumentStepIn, request: Request, runtime: Runtime,
                  actor: CurrentActor, expected: ExpectedVersion = None, key: IdempotencyHeader = None
                  ) -> JSONResponse:
    step = InvestigationStep(at=body.at, document=body.document)
    result = runtime.accidents.submit_investigation_report(actor, accident_id, step, expected,
                                                           idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/investigation/extension", response_model=CommandOut,
             summary="延长批复期限: once, with a reason")
def extend(accident_id: UUID, body: ExtensionIn, request: Request, runtime: Runtime, actor: CurrentActor,
           expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    step = InvestigationStep(at=runtime.now(), days=body.days, reason=body.reason)
    result = runtime.accidents.extend_approval(actor, accident_id, step, expected,
                                               idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/investigation/approval", response_model=CommandOut, summary="批复")
def approve(accident_id: UUID, body: DocumentStepIn, request: Request, runtime: Runtime, actor: CurrentActor,
            expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    step = InvestigationStep(at=body.at, document=body.document)
    result = runtime.accidents.approve_investigation(actor, accident_id, step, expected,
                                                     idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/closure", response_model=CommandOut, summary="结案, after the 批复")
def close(accident_id: UUID, body: MomentIn, request: Request, runtime: Runtime, actor: CurrentActor,
          expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.accidents.close(actor, accident_id, InvestigationStep(at=body.at), expected,
                                     idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/findings", status_code=201, response_model=CommandOut,
             summary="认定: 迟报 / 漏报 / 谎报 / 瞒报 with evidence (the reports are never changed)")
def record_finding(accident_id: UUID, body: FindingIn, request: Request, runtime: Runtime, actor: CurrentActor,
                   expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    data = body.model_dump()
    result = runtime.accidents.record_finding(actor, accident_id, Finding(**data), expected,
                                              idempotency_key(request, actor, key, body))
    finding = runtime.accidents.finding_of(result)
    return answer(result, {"finding_id": finding} if finding else None)


@router.post("/{accident_id}/findings/{finding_id}/withdrawal", response_model=CommandOut,
             summary="撤销认定 with a reason")
def withdraw_finding(accident_id: UUID, finding_id: str, body: ReasonIn, request: Request, runtime: Runtime,
                     actor: CurrentActor, expected: ExpectedVersion = None, key: IdempotencyHeader = None
                     ) -> JSONResponse:
    result = runtime.accidents.withdraw_finding(actor, accident_id, finding_id, body.reason, expected,
                                                idempotency_key(request, actor, key, body))
    return answer(result)


@router.post("/{accident_id}/withdrawal", response_model=CommandOut,
             summary="撤销: not a production-safety accident (it then counts nowhere)")
def withdraw(accident_id: UUID, body: ReasonIn, request: Request, runtime: Runtime, actor: CurrentActor,
             expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.accidents.withdraw(actor, accident_id, body.reason, expected,
                                        idempotency_key(request, actor, key, body))
    return answer(result)


@router.get("/{accident_id}", response_model=AccidentOut, summary="one accident, with its report clocks now")
def get_accident(accident_id: UUID, runtime: Runtime, actor: CurrentActor) -> JSONResponse:
    events = runtime.accidents.history(actor, accident_id)
    state = accident_state.fold([accident_state.entry(e) for e in events])
    flags = evaluate(state, runtime.accident_rules, runtime.now())
    body = {"id": str(accident_id), "version": state["version"], "state": state,
            "status": accident_state.status(state), "grade_name": grade_name(state["grade"]),
            "clocks": [{**f.__dict__, "rule_name": f.rule_name} for f in flags]}
    return JSONResponse(jsonable_encoder(body), headers={"ETag": f'"{state["version"]}"'})


@router.get("/{accident_id}/history", summary="every event of one accident")
def history(accident_id: UUID, runtime: Runtime, actor: CurrentActor) -> JSONResponse:
    """Event type, actor, unit, recorded time and payload, in order."""
    events = runtime.accidents.history(actor, accident_id)
    out = []
    for e in events:
        item = accident_state.entry(e)
        payload = {k: v for k, v in item.items() if k not in ("type", "id", "version", "position", "recorded_at")}
        out.append({"version": item["version"], "type": item["type"], "recorded_at": item["recorded_at"],
                    "actor": payload.get("actor"), "unit": (payload.get("actor") or {}).get("unit"),
                    "payload": payload})
    return JSONResponse(jsonable_encoder(out))
