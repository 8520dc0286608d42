"""REST: the city's and the province's reports to the level above (上报: 初报, 日报 零报告, 核报)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from api.deps import CurrentActor, IdempotencyHeader, Runtime, idempotency_key
from ledger.disasters.upward import UpwardFiling
from schemas.common import ERROR_RESPONSES, CommandOut, StrictModel

router = APIRouter(prefix="/v1/upward-reports", tags=["upward reports 上报"], responses=ERROR_RESPONSES)


class UpwardReportIn(StrictModel):
    """One city's or province's report upward over the disaster processes it names; the figures are
    derived from the ledger when it is filed, never typed in."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"kind": "initial", "disaster_ids": ["6f1d2c3a-8b7e-5c4d-9a2b-1e0f3d4c5b6a"], "text": "响水县洪涝灾害初报"}]})

    kind: Literal["initial", "daily", "final"] = Field(description="initial (初报) | daily (日报/零报告) | final (核报)")
    disaster_ids: list[str] = Field(min_length=1, max_length=500, description="the processes it covers")
    day: date | None = Field(default=None, description="the day a daily report is for (Beijing)")
    text: str = Field(default="", max_length=2000, description="文字说明")


@router.post("", status_code=201, response_model=CommandOut, summary="上报: a city's or province's report upward")
def file_upward_report(
    body: UpwardReportIn, request: Request, runtime: Runtime, actor: CurrentActor, key: IdempotencyHeader = None,
) -> JSONResponse:
    """The deadline clocks of the city (2 h of receipt, 10:00 daily, 核报) and of the province (2 h of
    receipt, 12:00 daily, 核报) count this filing as that level's report. A 核报 waits for the counties'."""
    result = runtime.upward_reports.file(
        actor, UpwardFiling(kind=body.kind, disaster_ids=body.disaster_ids, day=body.day, text=body.text),
        idempotency_key(request, actor, key, body),
    )
    return JSONResponse(result.as_dict(), status_code=result.status, headers={"ETag": f'"{result.version}"'})
