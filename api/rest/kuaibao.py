"""REST: file a 续报 from the 快报 spreadsheet (township staff fill it in Excel), all or nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, Runtime
from api.files.kuaibao_import import located, read_kuaibao
from ledger.disasters.inputs import FiguresReport
from ledger.store.errors import FieldProblem, InvalidInput
from schemas.common import ERROR_RESPONSES, CommandOut

router = APIRouter(prefix="/v1/disasters", tags=["disasters 灾害过程"], responses=ERROR_RESPONSES)

MAX_SHEET = 20 * 1024 * 1024


@router.post("/{disaster_id}/follow-ups/spreadsheet", status_code=201, response_model=CommandOut,
             summary="续报 from the 快报 spreadsheet (.xlsx, the layout of /statistics/kuaibao.xlsx)")
def file_follow_up_from_sheet(
    disaster_id: UUID, runtime: Runtime, actor: CurrentActor,
    file: Annotated[UploadFile, File(description="indicators as rows (指标名称), one column per township 名称（代码）")],
    as_of: Annotated[datetime, Form(description="统计截止时间")],
    explanation: Annotated[str | None, Form(max_length=2000)] = None,
) -> JSONResponse:
    """Every cell is checked first; a bad cell is named `row N.C`, and nothing is filed unless all is well."""
    data = file.file.read(MAX_SHEET + 1)
    if len(data) > MAX_SHEET:
        raise InvalidInput("文件过大", "the file is too large", fields=[FieldProblem("file", "too_large", "≤ 20 MiB")])
    figures, cells = read_kuaibao(data, runtime.indicators)
    try:
        result = runtime.disasters.file_follow_up(
            actor, disaster_id, FiguresReport(figures=figures, as_of=as_of, explanation=explanation))
    except InvalidInput as exc:
        raise located(exc, cells) from None
    return JSONResponse(result.as_dict(), status_code=result.status)
