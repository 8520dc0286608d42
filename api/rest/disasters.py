"""REST commands and strongly consistent reads of one disaster process (灾害过程).

Each endpoint translates HTTP ↔ one use case of `DisasterService`; the
rules live in `ledger`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, ExpectedVersion, IdempotencyHeader, Runtime, idempotency_key
from api.presenters import command_response, disaster_out, history_out
from ledger.disasters.inputs import Correction, FiguresReport, InitialReport, ResponseChange
from schemas.common import ERROR_RESPONSES, CommandOut
from schemas.disasters import (
    AcceptIn,
    CorrectionIn,
    DisasterOut,
    FiguresReportIn,
    HistoryEntryOut,
    InitialReportIn,
    ReasonIn,
    ResponseChangeIn,
    StabilisationIn,
)

router = APIRouter(prefix="/v1/disasters", tags=["disasters 灾害过程"], responses=ERROR_RESPONSES)


ReportNumber = Path(ge=1, le=100_000, description="the report's number within the process (1 = 初报)")


@router.post("", status_code=201, response_model=CommandOut, summary="初报: file the initial report")
def file_initial_report(
    body: InitialReportIn, request: Request, runtime: Runtime, actor: CurrentActor, key: IdempotencyHeader = None
) -> JSONResponse:
    """Open a disaster process. A second 初报 for the same county, date and 一级灾种 is
    refused with 409 and `details.existing_id`."""
    result = runtime.disasters.file_initial(
        actor, InitialReport(**body.model_dump()), idempotency_key(request, actor, key, body)
    )
    return command_response(result)


@router.post("/{disaster_id}/follow-ups", status_code=201, response_model=CommandOut, summary="续报: file a follow-up")
def file_follow_up(
    disaster_id: UUID, body: FiguresReportIn, request: Request, runtime: Runtime, actor: CurrentActor,
    expected: ExpectedVersion = None, key: IdempotencyHeader = None,
) -> JSONResponse:
    result = runtime.disasters.file_follow_up(
        actor, disaster_id, FiguresReport(**body.model_dump()), expected, idempotency_key(request, actor, key, body)
    )
    return command_response(result)


@router.post("/{disaster_id}/final", status_code=201, response_model=CommandOut, summary="核报: file the final report")
def file_final_report(
    disaster_id: UUID, body: FiguresReportIn, request: Request, runtime: Runtime, actor: CurrentActor,
    expected: ExpectedVersion = None, key: IdempotencyHeader = None,
) -> JSONResponse:
    """The county's final figures; afterwards only corrections (or a return by the upper level)."""
    result = runtime.disasters.file_final(
        actor, disaster_id, FiguresReport(**body.model_dump()), expected, idempotency_key(request, actor, key, body)
    )
    return command_response(result)


@router.post("/{disaster_id}/reports/{number}/accept", response_model=CommandOut, summary="审核通过: accept a report")
def accept_report(
    disaster_id: UUID, request: Request, runtime: Runtime, actor: CurrentActor,
    number: int = ReportNumber, expected: ExpectedVersion = None, key: IdempotencyHeader = None,
    body: AcceptIn | None = None,
) -> JSONResponse:
    """The county accepting a township's report of a process without a 亚灾种 gives it (`subtype`);
    without it the answer is 422 `subtype_required`."""
    subtype = body.subtype if body else None
    fingerprint: dict[str, Any] = {"number": number, **({"subtype": subtype} if subtype else {})}
    result = runtime.disasters.accept(
        actor, disaster_id, number, expected, idempotency_key(request, actor, key, fingerprint), subtype=subtype
    )
    return command_response(result)


@router.post("/{disaster_id}/reports/{number}/return", response_model=CommandOut, summary="驳回: return a report")
def return_report(
    disaster_id: UUID, body: ReasonIn, request: Request, runtime: Runtime, actor: CurrentActor,
    number: int = ReportNumber, expected: ExpectedVersion = None, key: IdempotencyHeader = None,
) -> JSONResponse:
    """The report's figures stop counting until it is refiled."""
    result = runtime.disasters.return_report(
        actor, disaster_id, number, body.reason, expected, idempotency_key(request, actor, key, body)
    )
    return command_response(result)


@router.post("/{disaster_id}/reports/{number}/refile", status_code=201, response_model=CommandOut,
             summary="重报: refile a returned report")
def refile_report(
    disaster_id: UUID, body: FiguresReportIn, request: Request, runtime: Runtime, actor: CurrentActor,
    number: int = ReportNumber, expected: ExpectedVersion = None, key: IdempotencyHeader = None,
) -> JSONResponse:
    result = runtime.disasters.refile(
        actor, disaster_id, number, FiguresReport(**body.model_dump()), expected,
        idempotency_key(request, actor, key, body),
    )
    return command_response(result)


@router.post("/{disaster_id}/corrections", response_model=CommandOut, summary="勘误: correct date, type or text")
def correct(
    disaster_id: UUID, body: CorrectionIn, request: Request, runtime: Runtime, actor: CurrentActor,
    expected: ExpectedVersion = None, key: IdempotencyHeader = None,
) -> JSONResponse:
    result = runtime.disasters.correct(
        actor, disaster_id, Correction(**body.model_dump()), expected, idempotency_key(request, actor, key, body)
    )
    return command_response(result)


@router.post("/{disaster_id}/stabilisation", response_model=CommandOut, summary="灾情稳定: declare the disaster stable")
def declare_stable(
    disaster_id: UUID, body: StabilisationIn, request: Request, runtime: Runtime, actor: CurrentActor,
    expected: ExpectedVersion = None, key: IdempotencyHeader = None,
) -> JSONResponse:
    result = runtime.disasters.declare_stable(
        actor, disaster_id, body.stabilised_at, expected, idempotency_key(request, actor, key, body)
    )
    return command_response(result)


@router.post("/{disaster_id}/response-level", response_model=CommandOut, summary="响应级别: start, adjust or end")
def change_response_level(
    disaster_id: UUID, body: ResponseChangeIn, request: Request, runtime: Runtime, actor: CurrentActor,
    expected: ExpectedVersion = None, key: IdempotencyHeader = None,
) -> JSONResponse:
    result = runtime.disasters.change_response(
        actor, disaster_id, ResponseChange(**body.model_dump()), expected, idempotency_key(request, actor, key, body)
    )
    return command_response(result)


@router.post("/{disaster_id}/retraction", response_model=CommandOut, summary="核销: retract the process")
def retract(
    disaster_id: UUID, body: ReasonIn, request: Request, runtime: Runtime, actor: CurrentActor,
    expected: ExpectedVersion = None, key: IdempotencyHeader = None,
) -> JSONResponse:
    result = runtime.disasters.retract(
        actor, disaster_id, body.reason, expected, idempotency_key(request, actor, key, body)
    )
    return command_response(result)


@router.get("/{disaster_id}", response_model=DisasterOut, summary="current state of one process")
def get_disaster(disaster_id: UUID, runtime: Runtime, actor: CurrentActor) -> JSONResponse:
    disaster = runtime.disasters.get(actor, disaster_id)
    body: dict[str, Any] = disaster_out(runtime, actor, disaster)
    return JSONResponse(body, headers={"ETag": f'"{disaster.version}"'})


@router.get("/{disaster_id}/history", response_model=list[HistoryEntryOut], summary="every event of one process")
def get_history(disaster_id: UUID, runtime: Runtime, actor: CurrentActor) -> JSONResponse:
    """Event type, actor, unit, recorded time (the server clock when it was recorded), occurred_at and payload."""
    return JSONResponse(history_out(actor, runtime.disasters.history(actor, disaster_id)))
