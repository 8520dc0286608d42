"""Relief spreadsheets over HTTP: import applications (户报) from a file, download the 花名册.

The import is all or nothing: one bad row (bad ID, outside the caller's scope, duplicate
in the file or of an open case …) and nothing is saved; the 422 names every bad row
and column as `row 7.户主身份证号`. The roster is the 应急统表10 layout, masked.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from api.deps import CurrentActor, Runtime
from api.files import relief as relief_files
from api.files import relief_import
from ledger.households.household import names_visible
from ledger.reference.codes import AreaCode
from ledger.relief.programmes import PROGRAMME_NAMES
from ledger.relief.programmes import Programme as ProgrammeCode
from ledger.store.errors import FieldProblem, InvalidInput, NotPermitted
from schemas.common import ERROR_RESPONSES
from schemas.relief import Programme

router = APIRouter(prefix="/v1/relief", tags=["relief 救助"], responses=ERROR_RESPONSES)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


MAX_UPLOAD = 20 * 1024 * 1024


CHUNK = 64 * 1024


PERIOD = r"^\d{4}(-\d{4})?$"


AREA = r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$"


class ImportOut(BaseModel):
    imported: int = Field(description="applications saved (one case each, stage 户报)")
    case_ids: list[str] = Field(description="the new cases, in the file's row order")
    position: int = Field(description="the ledger's position after the import (read-your-writes)")


@router.post(
    "/imports", status_code=201, response_model=ImportOut,
    summary="导入户报: applications from an .xlsx or .csv in the 应急统表10 layout (all or nothing)",
)
def import_applications(
    runtime: Runtime, actor: CurrentActor,
    file: Annotated[UploadFile, File(description=".xlsx or .csv (UTF-8 or GB18030); title rows allowed")],
    period: Annotated[str, Form(pattern=PERIOD, description="a year (2026) or a season (2025-2026)")],
    programme: Annotated[Programme, Form(description="the programme of rows that name none")] = "winter_spring",
) -> JSONResponse:
    """Columns: 户主姓名, 户主身份证号, 户主联系方式, 家庭类型, 家庭人口, 家庭住址, 需救助人口 (the
    roster's, D-codes optional), plus 村 (12-digit code) and 一卡通账号; optional 致灾原因, 救助需求
    (separated by 、 or ,), 申请日期, 救助项目, 期间. A 422 `fields` entry per bad row and column:
    `row 7.户主身份证号` (row numbers as in the file)."""
    suffix = Path(file.filename or "").suffix.lower()
    with tempfile.NamedTemporaryFile(suffix=suffix if suffix in (".xlsx", ".csv") else "") as tmp:
        _receive(file.file, tmp)
        report = relief_import.import_applications(runtime, actor, Path(tmp.name), programme, period)
    if not report.ok:
        raise report.error()
    return JSONResponse(
        {"imported": report.imported, "case_ids": [str(i) for i in report.case_ids], "position": runtime.position()},
        status_code=201,
    )


def _receive(source: IO[bytes], target: IO[bytes]) -> None:
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise InvalidInput("文件过大", "the file is too large",
                               fields=[FieldProblem("file", "too_large", f"at most {MAX_UPLOAD // 2**20} MiB")],
                               code="too_large")
        target.write(chunk)
    target.flush()


@router.get(
    "/roster.xlsx", response_class=StreamingResponse,
    responses={200: {"content": {XLSX: {}}, "description": "the 花名册 (应急统表10), personal data masked"}},
    summary="花名册: the households of an area as 应急统表10 (.xlsx, masked)",
)
def roster(
    request: Request, runtime: Runtime, actor: CurrentActor,
    period: Annotated[str, Query(pattern=PERIOD, description="a year (2026) or a season (2025-2026)")],
    area: Annotated[str, Query(pattern=AREA, description="area-code prefix within your scope: 2/4/6/9/12 digits")],
    programme: Annotated[Programme, Query()] = "winter_spring",
) -> StreamingResponse:
    """Every case of the programme and period in the area, ID, phone and card numbers masked."""
    code = AreaCode.parse(area, "area")
    found = runtime.areas.require(code, "area")
    if not actor.covers(code.prefix):
        raise NotPermitted(f"{code.prefix} 不在本账号的管辖范围内", f"{code.prefix} is outside this account's scope")
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 - closed by _chunks once sent
    try:
        with relief_files.roster_view(runtime, request.app.state.projections) as view:
            relief_files.write_roster(view.iter_rows(programme, period, code.prefix), buffer,
                               subtitle=_subtitle(found.name, code.prefix, programme, period),
                               names=runtime.pii.decrypt if names_visible(actor, code.prefix) else None,
                               areas=runtime.areas)
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)
    name = f"应急统表10-{code.prefix}-{programme}-{period}.xlsx"
    return StreamingResponse(
        _chunks(buffer), media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=\"roster-{code.prefix}.xlsx\"; "
                                        f"filename*=UTF-8''{quote(name)}"},
    )


def _subtitle(area_name: str, prefix: str, programme: str, period: str) -> str:
    return (f"填报单位：{area_name}（{prefix}）    救助项目：{PROGRAMME_NAMES[ProgrammeCode(programme)]}"
            f"    期间：{period}")


def _chunks(buffer: Any) -> Iterator[bytes]:
    try:
        while chunk := buffer.read(CHUNK):
            yield chunk
    finally:
        buffer.close()
