"""REST: upload an attachment (photo, 灾情/救灾工作文字说明, scanned 台账) to the blob store.

The answer's `sha256` is what a report names in its `attachments`; the file
itself never enters an event.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import CurrentActor, Runtime
from ledger.store import actors
from schemas.common import ERROR_RESPONSES

router = APIRouter(prefix="/v1/attachments", tags=["attachments 附件"], responses=ERROR_RESPONSES)


class AttachmentOut(BaseModel):
    sha256: str
    size: int
    type: str


@router.post("", status_code=201, response_model=AttachmentOut, summary="上传附件: store a file, answer its hash")
def upload(
    runtime: Runtime, actor: CurrentActor,
    file: Annotated[UploadFile, File(description="JPEG/PNG photo, PDF, .docx/.xlsx or UTF-8 text; ≤ 10 MB")],
) -> JSONResponse:
    """Size- and type-checked (the type by content); stored encrypted, named by the SHA-256 of the file."""
    actors.require_writer(actor)
    data = file.file.read(runtime.blobs.max_bytes + 1)
    stored = runtime.blobs.put(data, file.content_type)
    return JSONResponse({"sha256": stored.ref, "size": stored.size, "type": stored.type}, status_code=201)
