"""REST: 因灾死亡失踪人口台账 of a disaster process (names and ID numbers protected, shown masked)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from api.deps import CurrentActor, IdempotencyHeader, Runtime, idempotency_key
from ledger.disasters.casualties import Casualty
from schemas.common import ERROR_RESPONSES, CommandOut, StrictModel

router = APIRouter(prefix="/v1/disasters", tags=["disasters 灾害过程"], responses=ERROR_RESPONSES)


class CasualtyIn(StrictModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"name": "赵六", "id_number": "320921197005051235", "township": "320921100", "occurred_on": "2026-07-08",
         "cause": "房屋倒塌", "status": "dead"}]})

    name: str = Field(min_length=1, max_length=50, description="姓名")
    id_number: str = Field(min_length=1, max_length=30, description="公民身份号码 (GB 11643, checked)")
    township: str = Field(min_length=9, max_length=12, description="乡镇 code")
    occurred_on: date = Field(description="死亡 / 失踪 date (Beijing)")
    cause: str = Field(min_length=1, max_length=200, description="致死 / 失踪原因")
    status: Literal["dead", "missing"]


@router.post("/{disaster_id}/casualties", status_code=201, response_model=CommandOut,
             summary="因灾死亡失踪人口台账: record one person")
def record_casualty(
    disaster_id: UUID, body: CasualtyIn, request: Request, runtime: Runtime, actor: CurrentActor,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """One entry per person and process (409 `already_listed`); the name and ID number are stored
    encrypted with a keyed hash and shown masked."""
    result = runtime.casualties.record(
        actor, disaster_id, Casualty(name=body.name, id_number=body.id_number, township=body.township,
                                     on=body.occurred_on, cause=body.cause, status=body.status),
        idempotency_key(request, actor, key, body))
    return JSONResponse(result.as_dict(), status_code=result.status)


@router.get("/{disaster_id}/casualties", summary="因灾死亡失踪人口台账 (masked)")
def list_casualties(disaster_id: UUID, runtime: Runtime, actor: CurrentActor) -> JSONResponse:
    return JSONResponse(runtime.casualties.list(actor, disaster_id))
