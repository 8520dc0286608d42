"""Audit reads: any aggregate as known at a moment, and the field-by-field diff between versions or times."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder

from api.deps import CurrentActor, Runtime
from api.presenters import EXACT, history_out
from api.times import QueryDateTime
from ledger.disasters.inputs import CHINA
from ledger.store.errors import FieldProblem, InvalidInput
from projections.audit.seal import seal_status
from schemas.common import ERROR_RESPONSES

router = APIRouter(prefix="/v1/audit", tags=["audit 审计"], responses=ERROR_RESPONSES)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


@router.get("/seal", summary="the seal: the sealed head and the latest digest line, for publication")
def seal(runtime: Runtime, actor: CurrentActor) -> dict[str, Any]:
    """The hash chain over every stored event is kept up as events are stored; a checkpoint is taken every
    RELIEF_SEAL_INTERVAL events or RELIEF_SEAL_MINUTES. Publish `latest.line` outside the system: anyone
    holding a published line can later prove the log up to it was not rewritten (`relief-ledger audit verify`)."""
    status = seal_status(runtime)
    if status["latest"]:
        status["latest"]["at"] = status["latest"]["at"].astimezone(CHINA).isoformat()
    return status


@router.get("/{aggregate_id}/as-known-at", summary="the state as recorded at a moment, and what arrived later")
def as_known_at(
    aggregate_id: UUID, runtime: Runtime, actor: CurrentActor,
    at: Annotated[QueryDateTime, Query(description="the moment (recorded time); without an offset, Beijing time; encode a + as %2B (an unencoded one, read as a space, is understood)")],
) -> dict[str, Any]:
    """Replays only the events recorded at or before `at` (any aggregate: disaster, relief case,
    fund, account) and lists the events recorded after it."""
    known = runtime.audit.as_known_at(actor, aggregate_id, _aware(at))
    return jsonable_encoder({
        "id": str(aggregate_id), "as_known_at": _aware(at), "version": known.version, "state": known.state,
        "recorded_after": history_out(actor, known.recorded_after),
    }, custom_encoder=EXACT)


@router.get("/{aggregate_id}/diff", summary="each changed field between two versions or two times")
def diff(
    aggregate_id: UUID, runtime: Runtime, actor: CurrentActor,
    from_version: Annotated[int | None, Query(ge=0)] = None,
    to_version: Annotated[int | None, Query(ge=1)] = None,
    from_time: Annotated[QueryDateTime | None, Query(description="instead of from_version")] = None,
    to_time: Annotated[QueryDateTime | None, Query(description="instead of to_version")] = None,
) -> dict[str, Any]:
    """Old and new value of each field, with the event, actor, unit, recorded time and stated reason."""
    if from_time is not None:
        from_version = runtime.audit.version_at(actor, aggregate_id, _aware(from_time))
    if to_time is not None:
        to_version = runtime.audit.version_at(actor, aggregate_id, _aware(to_time))
    if from_version is None:
        raise InvalidInput("须给出起始版本或时间", "give from_version or from_time",
                           fields=[FieldProblem("from_version", "required", "a version (0 = before the first event) or from_time")])
    if to_version is not None and from_version > to_version:
        raise InvalidInput("起始版本晚于截止版本", "from_version is after to_version",
                           fields=[FieldProblem("from_version", "after_to_version", "from_version ≤ to_version")])
    changes = runtime.audit.diff(actor, aggregate_id, from_version, to_version)
    return jsonable_encoder({
        "id": str(aggregate_id), "from_version": from_version, "to_version": to_version,
        "changes": [vars(c) for c in changes],
    }, custom_encoder=EXACT)
