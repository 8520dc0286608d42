"""The accountability report (问责报告) over HTTP: JSON, .xlsx or a sealed JSON-lines bundle.

Who may read it: auditors, and county, city and province accounts, for a
province, city or county within their scope (an auditor of 盐城 3209 for 3209
or any of its counties; a county for itself). Township staff, relief officers
and administrators get 403 — the report is about their own actions and it
carries the log of reads of personal data. Nothing is written to the ledger:
the only write is the seal's, which is brought up to date so that the
answer carries the digest line of the checkpoint it was produced under.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import CurrentActor, Runtime
from api.files import accountability as export
from ledger.audit.accountability import require_report_reader
from schemas.common import ERROR_RESPONSES

router = APIRouter(prefix="/v1/audit", tags=["audit 审计"], responses=ERROR_RESPONSES)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


JSONL = "application/x-ndjson"


CHUNK = 64 * 1024


@router.get(
    "/report",
    summary="问责报告: late and missing reports, corrections, retractions, returns, jumps, above-standard "
            "approvals, returned payments, personal-data access, actions per account",
    responses={200: {"content": {"application/json": {}, XLSX: {}, JSONL: {}},
                     "description": "the report (json), a workbook (xlsx) or a sealed JSON-lines bundle (jsonl)"}},
)
def report(
    request: Request, runtime: Runtime, actor: CurrentActor,
    area: Annotated[str, Query(description="a province (2), city (4) or county (6 digits) within your scope")],
    date_from: Annotated[date, Query(description="first recorded date (Beijing), inclusive")],
    date_to: Annotated[date, Query(description="last recorded date (Beijing), inclusive")],
    fmt: Annotated[Literal["json", "xlsx", "jsonl"], Query(alias="format")] = "json",
) -> Any:
    """Events recorded in the period by the area's processes, cases, funds and accounts; deadline
    flags (迟报 / 未报) of the processes whose disaster date is in the period, evaluated now.
    Every answer carries `seal`: the digest line of the seal checkpoint at the report's position."""
    require_report_reader(actor, area)
    result = export.sealed_report(runtime, area, date_from, date_to, request.app.state.projections)
    if fmt == "json":
        return JSONResponse(jsonable_encoder(result.as_dict()))
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 - closed by _chunks once sent
    try:
        if fmt == "xlsx":
            export.to_xlsx(result, buffer)
        else:
            export.to_jsonl(result, buffer, result.seal)
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)
    name = f"accountability-{result.area}-{date_from.isoformat()}-{date_to.isoformat()}.{fmt}"
    zh = f"问责报告-{result.area}-{date_from.isoformat()}-{date_to.isoformat()}.{fmt}"
    return StreamingResponse(
        _chunks(buffer), media_type=XLSX if fmt == "xlsx" else JSONL,
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(zh)}",
                 "X-Ledger-Position": str(result.position)},
    )


def _chunks(buffer: Any) -> Iterator[bytes]:
    try:
        while chunk := buffer.read(CHUNK):
            yield chunk
    finally:
        buffer.close()
