"""Auditors (read only): any process, case, fund or account as known at a chosen time, the diff between two
versions, the seal's status and latest digest, the accountability report download.

These pages have no write control: they call the audit use cases (replay
from the event store, always masked) and the report export the REST API uses.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.files import accountability as export
from api.rest.relief_files import XLSX, _chunks
from api.web.auth import require_viewer
from api.web.pages import page_router, require_role, view
from api.web.templating import CHINA, local_input, render
from ledger.audit.accountability import require_report_reader
from ledger.audit.seal import DigestFormatError, parse_digests
from ledger.store.actors import Role
from ledger.store.errors import InvalidInput
from projections.audit.seal import Sealer
from projections.disasters.board import BoardFilter

router = page_router()


def _moment(raw: str, default: datetime) -> datetime:
    if not raw:
        return default
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("时间格式有误", "invalid time (YYYY-MM-DDTHH:MM)") from None
    return when if when.tzinfo else when.replace(tzinfo=CHINA)


@router.get("/audit")
async def audit_home(request: Request) -> Response:
    viewer = require_viewer(request)
    area = viewer.actor.scope[:6] if len(viewer.actor.scope) > 6 else viewer.actor.scope
    rows = await run_in_threadpool(view(request, "board").find, BoardFilter(area=area), None, 100)
    runtime = request.app.state.runtime
    return render(request, "audit/home.html", rows=rows, hazards=runtime.hazards.hazards, areas=runtime.areas,
                  now=local_input(runtime.now()))


@router.get("/audit/go")
def go(request: Request, aggregate_id: str = "", at: str = "") -> Response:
    from api.web.pages import redirect

    require_viewer(request)
    try:
        target = UUID(aggregate_id.strip())
    except ValueError:
        raise InvalidInput("记录编号应为 UUID", "the record id must be a UUID") from None
    return redirect(f"/audit/{target}", at=at)


@router.get("/audit/{aggregate_id:uuid}")
async def as_known_at(request: Request, aggregate_id: UUID, at: str = "") -> Response:
    viewer = require_viewer(request)
    runtime = request.app.state.runtime
    moment = _moment(at, runtime.now())
    known = await run_in_threadpool(runtime.audit.as_known_at, viewer.actor, aggregate_id, moment)
    events = await run_in_threadpool(runtime.audit.events, viewer.actor, aggregate_id)
    return render(request, "audit/known.html", aggregate_id=aggregate_id, known=known,
                  at=moment.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S"),
                  moment=moment, versions=[(e.originator_version, type(e).__name__, e.timestamp) for e in events],
                  state_rows=_flatten(known.state))


@router.get("/audit/{aggregate_id:uuid}/diff")
async def diff(request: Request, aggregate_id: UUID, from_version: int = 1, to_version: int = 0) -> Response:
    viewer = require_viewer(request)
    runtime = request.app.state.runtime
    changes = await run_in_threadpool(runtime.audit.diff, viewer.actor, aggregate_id, from_version,
                                      to_version or None)
    events = await run_in_threadpool(runtime.audit.events, viewer.actor, aggregate_id)
    return render(request, "audit/diff.html", aggregate_id=aggregate_id, changes=changes, from_version=from_version,
                  to_version=to_version or (events[-1].originator_version if events else 0),
                  versions=[(e.originator_version, type(e).__name__, e.timestamp) for e in events])


def _flatten(state: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A state as (path, value) lines, for a readable table."""
    if isinstance(state, dict):
        out: list[tuple[str, str]] = []
        for key, value in state.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(state, list) and state and isinstance(state[0], dict):
        return [line for i, item in enumerate(state) for line in _flatten(item, f"{prefix}[{i + 1}]")]
    return [(prefix, str(state))]


def _seal_status(runtime: Any) -> dict[str, Any]:
    with Sealer(runtime) as sealer:
        head = sealer.head()
        checkpoint = sealer.latest_checkpoint()
    return {"head": head, "checkpoint": checkpoint, "position": runtime.position()}


@router.get("/audit/seal")
async def seal_status(request: Request) -> Response:
    require_viewer(request)
    status = await run_in_threadpool(_seal_status, request.app.state.runtime)
    return render(request, "audit/seal.html", **status)


_VERIFYING = threading.Lock()
VERDICTS = {"altered": "事件被改动", "deleted": "事件被删除", "inserted": "事件被插入", "digest": "与公布的摘要不符",
            "checkpoint": "与存储的检查点不符", "unreadable": "事件无法读出（损坏或无法解密）"}


def _verify(runtime: Any, digest: str | None) -> Any:
    with Sealer(runtime) as sealer:
        return sealer.verify(digest)


@router.get("/audit/seal/verify")
async def seal_verify(request: Request, digest: str = "") -> Response:
    """校验: recompute the chain from the event store against the seal's links and checkpoints and, when given,
    a published digest line — what `relief-ledger audit verify --digest` does, read only. Auditors and admins;
    one check at a time."""
    viewer = require_viewer(request)
    require_role(viewer, Role.AUDITOR, Role.ADMIN)
    runtime = request.app.state.runtime
    status = await run_in_threadpool(_seal_status, runtime)
    line = digest.strip()[:4000] or None
    if line is not None:
        try:
            parse_digests(line)
        except DigestFormatError as exc:
            return render(request, "audit/seal.html", status_code=422, digest=digest, errors={"digest": str(exc)},
                          **status)
    if not _VERIFYING.acquire(blocking=False):
        return render(request, "audit/seal.html", status_code=429, digest=digest, busy=True, **status)
    try:
        result = await run_in_threadpool(_verify, runtime, line)
    finally:
        _VERIFYING.release()
    return render(request, "audit/seal.html", digest=digest, result=result, verdicts=VERDICTS,
                  checked_at=runtime.now(), **status)


@router.get("/audit/report")
def report_page(request: Request) -> Response:
    viewer = require_viewer(request)
    today = request.app.state.runtime.now().astimezone(CHINA).date()
    return render(request, "audit/report.html", area=viewer.actor.scope[:6],
                  date_from=today.replace(day=1).isoformat(), date_to=today.isoformat())


@router.get("/audit/report.xlsx")
def report_download(request: Request, area: str, date_from: date, date_to: date) -> Response:
    viewer = require_viewer(request)
    runtime = request.app.state.runtime
    require_report_reader(viewer.actor, area)
    result = export.sealed_report(runtime, area, date_from, date_to)
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 - closed by _chunks once sent
    try:
        export.to_xlsx(result, buffer)
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)
    name = f"accountability-{result.area}-{date_from.isoformat()}-{date_to.isoformat()}.xlsx"
    return StreamingResponse(_chunks(buffer), media_type=XLSX,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
