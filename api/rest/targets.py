"""REST upload of the reference figures the plans' safety targets are measured against (GDP, population,
employees, vehicles, baselines): the same all-or-nothing load as `relief-ledger targets import`."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import CurrentActor, Runtime
from api.files.targets import read_rows
from api.rest.relief_files import _receive
from schemas.common import ERROR_RESPONSES

router = APIRouter(prefix="/v1/targets", tags=["targets 规划指标"], responses=ERROR_RESPONSES)


class ReferenceLoadOut(BaseModel):
    rows: int = Field(description="rows loaded (one place and year each)")
    jurisdictions: list[str]
    position: int = Field(description="the ledger's position after the load (read-your-writes)")


@router.post("/reference-figures", status_code=201, response_model=ReferenceLoadOut,
             summary="导入参考数据: GDP, population, employees, vehicles, baselines from .xlsx or .csv (all or nothing)")
def load_reference_figures(
    runtime: Runtime, actor: CurrentActor,
    file: Annotated[UploadFile, File(description=".xlsx or .csv; columns 区划代码, 年份 and the measures")],
    label: Annotated[str, Form(min_length=1, max_length=200, description="what this load is, e.g. 2016-2020 统计公报")],
) -> JSONResponse:
    """County, city and province accounts load places within their scope. A file with any bad row loads
    nothing: the 422 names each row, column and reason (`rows.7.year`, row numbers as in the file)."""
    name = Path(file.filename or "figures.xlsx").name
    with tempfile.TemporaryFile() as tmp:
        _receive(file.file, tmp)
        tmp.seek(0)
        data = tmp.read()
    reports = runtime.targets.load(actor, read_rows(data, name), label, name, hashlib.sha256(data).hexdigest())
    return JSONResponse({"rows": len(reports), "jurisdictions": sorted({r.jurisdiction for r in reports}),
                         "position": runtime.position()}, status_code=201)
