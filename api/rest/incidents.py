"""REST commands and strongly consistent reads of incident command (应急指挥): responses per government,
command and its handovers, 镇呼区应 calls and answers. Each endpoint is one use case of `IncidentService`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, ExpectedVersion, IdempotencyHeader, Runtime, idempotency_key
from api.times import QueryDateTime
from ledger.accidents.state import entry
from ledger.incidents import state as incident_state
from ledger.incidents.service import Opening, ResponseDecision
from ledger.store.commands import CommandResult
from schemas.common import ERROR_RESPONSES, CommandOut
from schemas.incidents import (
    CloseIn,
    CommandIn,
    IncidentIn,
    IncidentOut,
    LinkIn,
    ResponseIn,
    SupportAnswerIn,
    SupportRequestIn,
)

router = APIRouter(prefix="/v1/incidents", tags=["incidents 应急指挥"], responses=ERROR_RESPONSES)


def answer(result: CommandResult, created: dict[str, Any] | None = None) -> JSONResponse:
    body = result.as_dict()
    if created:
        body["created"] = created
    return JSONResponse(body, status_code=result.status,
                        headers={"ETag": f'"{result.version}"', "Location": f"/v1/incidents/{result.id}"})


@router.post("", status_code=201, response_model=CommandOut, summary="open an incident, linking disasters and accidents")
def open_incident(body: IncidentIn, request: Request, runtime: Runtime, actor: CurrentActor,
                  key: IdempotencyHeader = None) -> JSONResponse:
    opening = Opening(title=body.title, category=body.category, area=body.area, occurred_at=body.occurred_at,
                      links=[link.model_dump() for link in body.links])
    return answer(runtime.incidents.open(actor, opening, idempotency_key(request, actor, key, body)))


@router.post("/{incident_id}/links", response_model=CommandOut, summary="link a disaster process or an accident")
def link(incident_id: UUID, body: LinkIn, request: Request, runtime: Runtime, actor: CurrentActor,
         expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return answer(runtime.incidents.link(actor, incident_id, body.kind, body.id, expected,
                                         idempotency_key(request, actor, key, body)))


@router.post("/{incident_id}/responses", response_model=CommandOut,
             summary="启动 / 调整 / 终止 a government's response (its own plan's Ⅰ–Ⅳ)")
def respond(incident_id: UUID, body: ResponseIn, request: Request, runtime: Runtime, actor: CurrentActor,
            expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    """A plan with configured thresholds suggests a level from the figures that count; a level other than
    the suggestion needs a `reason` (422 `reason_required` otherwise). The suggestion is recorded."""
    decision = ResponseDecision(**body.model_dump())
    return answer(runtime.incidents.decide_response(actor, incident_id, decision, expected,
                                                    idempotency_key(request, actor, key, body)))


@router.get("/{incident_id}/suggestion", summary="the level a plan's thresholds suggest now")
def suggestion(incident_id: UUID, runtime: Runtime, actor: CurrentActor,
               plan: Annotated[str, Query(min_length=1)], plan_version: Annotated[str, Query(min_length=1)]
               ) -> JSONResponse:
    incident = runtime.incidents.get(actor, incident_id)
    return JSONResponse({"plan": plan, "plan_version": plan_version,
                         "suggestion": runtime.incidents.suggestion(incident, plan, plan_version)})


@router.post("/{incident_id}/command", response_model=CommandOut,
             summary="指挥权: a commander holds command from a moment (a handover when someone held it)")
def assume_command(incident_id: UUID, body: CommandIn, request: Request, runtime: Runtime, actor: CurrentActor,
                   expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return answer(runtime.incidents.assume_command(actor, incident_id, body.commander.model_dump(), body.since,
                                                   body.reason, expected, idempotency_key(request, actor, key, body)))


@router.post("/{incident_id}/support-requests", status_code=201, response_model=CommandOut,
             summary="镇呼区应: a township's call for district support")
def request_support(incident_id: UUID, body: SupportRequestIn, request: Request, runtime: Runtime,
                    actor: CurrentActor, expected: ExpectedVersion = None, key: IdempotencyHeader = None
                    ) -> JSONResponse:
    result = runtime.incidents.request_support(actor, incident_id, body.township, body.what, list(body.categories),
                                               body.requested_at, expected,
                                               idempotency_key(request, actor, key, body))
    request_id = runtime.incidents.created_request(result)
    return answer(result, {"request_id": request_id} if request_id else None)


@router.post("/{incident_id}/support-requests/{request_id}/answer", response_model=CommandOut,
             summary="区应: the district's answer to a township's call")
def answer_support(incident_id: UUID, request_id: str, body: SupportAnswerIn, request: Request, runtime: Runtime,
                   actor: CurrentActor, expected: ExpectedVersion = None, key: IdempotencyHeader = None
                   ) -> JSONResponse:
    return answer(runtime.incidents.answer_support(actor, incident_id, request_id, body.outcome, body.what,
                                                   body.answered_at, expected,
                                                   idempotency_key(request, actor, key, body)))


@router.post("/{incident_id}/closure", response_model=CommandOut, summary="close the incident (no response active)")
def close(incident_id: UUID, body: CloseIn, request: Request, runtime: Runtime, actor: CurrentActor,
          expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return answer(runtime.incidents.close(actor, incident_id, body.at, body.reason, expected,
                                          idempotency_key(request, actor, key, body)))


@router.get("/of/{kind}/{target_id}", summary="the incident a disaster process or an accident belongs to")
def incident_of(kind: Literal["disaster", "accident"], target_id: UUID, runtime: Runtime, actor: CurrentActor
                ) -> dict[str, str]:
    return {"id": str(runtime.incidents.of(actor, kind, target_id))}


@router.get("/{incident_id}", response_model=IncidentOut, summary="one incident: responses, command, calls")
def get_incident(incident_id: UUID, runtime: Runtime, actor: CurrentActor,
                 command_at: Annotated[QueryDateTime | None, Query(description="also say who held command then")] = None
                 ) -> JSONResponse:
    state = incident_state.fold([entry(e) for e in runtime.incidents.history(actor, incident_id)])
    body: dict[str, Any] = {"id": str(incident_id), "version": state["version"], "state": state,
                            "active_responses": incident_state.active_levels(state)}
    if command_at is not None:
        at = command_at if command_at.tzinfo else command_at.replace(tzinfo=incident_state.CHINA)
        body["command_at"] = incident_state.commander_at(state, at)
    return JSONResponse(jsonable_encoder(body), headers={"ETag": f'"{state["version"]}"'})


@router.get("/{incident_id}/history", summary="every event of one incident")
def history(incident_id: UUID, runtime: Runtime, actor: CurrentActor) -> JSONResponse:
    out = []
    for e in runtime.incidents.history(actor, incident_id):
        item = entry(e)
        payload = {k: v for k, v in item.items() if k not in ("type", "id", "version", "position", "recorded_at")}
        out.append({"version": item["version"], "type": item["type"], "recorded_at": item["recorded_at"],
                    "actor": payload.get("actor"), "unit": (payload.get("actor") or {}).get("unit"),
                    "payload": payload})
    return JSONResponse(jsonable_encoder(out))
