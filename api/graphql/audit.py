"""GraphQL audit reads: any aggregate as known at a moment, and the field-by-field diff.

`AuditQuery` is merged into the root query in `api.graphql.schema`
(`merge_types("Query", (Query, ReliefQuery, AuditQuery))`). It answers what
`GET /v1/audit/{id}/as-known-at` and `GET /v1/audit/{id}/diff` answer, from
the same `ledger.audit.replay.AuditService` — it replays the event store, so no
projection host is needed (no `minPosition`).

- `asKnownAt(id, at)`: the version and the flattened state from the events
  recorded at or before `at` (a time without an offset is Beijing time),
  and the events recorded after it;
- `diff(id, fromVersion | fromTime, toVersion | toTime)`: each changed
  field with its old and new value, the event, the acting account and unit,
  the recorded time and the stated reason (勘误 reason, 续报 explanation).

Scope and the township's view of figures are the service's. Personal data
(ID, phone and 一卡通 numbers) is always masked here, as everywhere in
GraphQL: the service shows it clear to county and relief officers, but a
GraphQL read has no purpose and is not recorded — unmasked reads go through
the REST `GET /v1/relief/cases/{id}?reveal=true&purpose=…`, which records
them. The events recorded afterwards carry no payload (an event's payload
holds the clear personal data and token hashes the state hides).

Values: `state` is a JSON object (dotted field → value, as REST gives it);
`fields`, `old` and `new` render a value as text — a string as it is,
anything else as JSON (`null` stays null); `oldValue` / `newValue` are the
values as JSON.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import anyio.to_thread
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.common import actor_of, context, graphql_error
from ledger.store.actors import Actor
from ledger.store.errors import DomainError, FieldProblem, InvalidInput
from projections.audit.seal import seal_status

MASK_PERSONAL_DATA = True
"""Mask ID, phone and 一卡通 numbers for every role (GraphQL reads are not recorded)."""


@strawberry.type(description="one field of an aggregate's flattened state")
class AuditField:
    field: str = strawberry.field(description="dotted path, e.g. figures.320921100.affected_population")
    value: str | None = strawberry.field(description="a string as it is; anything else as JSON")


@strawberry.type(description="one event recorded after the moment (no payload)")
class AuditEvent:
    version: int
    type: str
    recorded_at: datetime
    actor: str | None = strawberry.field(description="the acting account's username")
    unit: str | None = strawberry.field(description="the acting unit's 12-digit area code")
    occurred_at: datetime | None = strawberry.field(description="the world's time the event describes, if any")


@strawberry.type(description="an aggregate as recorded at a moment, and what was recorded afterwards")
class KnownAt:
    id: strawberry.ID
    at: datetime = strawberry.field(description="the moment asked (recorded time)")
    version: int = strawberry.field(description="0 when nothing had been recorded yet")
    state: JSON = strawberry.field(description="dotted field → value (personal data masked)")
    fields: list[AuditField] = strawberry.field(description="the state as a list, by field")
    recorded_after: list[AuditEvent]


@strawberry.type(description="one field changed by one event")
class Change:
    field: str
    old: str | None = strawberry.field(description="a string as it is; anything else as JSON; null when absent")
    new: str | None
    old_value: JSON | None = strawberry.field(description="the old value as JSON")
    new_value: JSON | None = strawberry.field(description="the new value as JSON")
    version: int
    event: str
    actor: str | None
    unit: str | None
    recorded_at: datetime
    reason: str | None = strawberry.field(description="the stated reason (勘误, 驳回, 核销) or the report's explanation")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _aware(moment: datetime) -> datetime:
    from ledger.disasters.inputs import CHINA

    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _uuid(value: strawberry.ID) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise graphql_error(InvalidInput("标识无效", "invalid id",
                                  fields=[FieldProblem("id", "bad_id", "the id of an aggregate (a UUID)")])) from None


def _masked(field: str, value: Any) -> Any:
    from ledger.audit.replay import MASKS

    if MASK_PERSONAL_DATA and field in MASKS and isinstance(value, str):
        return MASKS[field](value)
    return value


async def _call(fn: Any, *args: Any) -> Any:
    try:
        return await anyio.to_thread.run_sync(fn, *args)
    except DomainError as exc:
        raise graphql_error(exc) from None


def _plain_json(value: Any) -> Any:
    """Values as REST encodes them (dates inside lists of records, exact decimals as strings)."""
    from fastapi.encoders import jsonable_encoder

    from api.presenters import EXACT

    encoders: dict[Any, Any] = dict(EXACT)
    return jsonable_encoder(value, custom_encoder=encoders)


def _known_at(runtime: Any, actor: Actor, aggregate_id: UUID, at: datetime
              ) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    from api.presenters import history_out

    known = runtime.audit.as_known_at(actor, aggregate_id, at)
    return _plain_json(known.state), history_out(actor, known.recorded_after), known.version


def _diff(runtime: Any, actor: Actor, aggregate_id: UUID, from_version: int | None, to_version: int | None,
          from_time: datetime | None, to_time: datetime | None) -> list[Any]:
    if from_time is not None:
        from_version = runtime.audit.version_at(actor, aggregate_id, from_time)
    if to_time is not None:
        to_version = runtime.audit.version_at(actor, aggregate_id, to_time)
    if from_version is None:
        raise InvalidInput("须给出起始版本或时间", "give fromVersion or fromTime", fields=[
            FieldProblem("fromVersion", "required", "a version (0 = before the first event) or fromTime")])
    return runtime.audit.diff(actor, aggregate_id, from_version, to_version)  # type: ignore[no-any-return]


def _check_versions(from_version: int | None, to_version: int | None) -> None:
    problems = []
    if from_version is not None and from_version < 0:
        problems.append(FieldProblem("fromVersion", "out_of_range", "0 or more (0 = before the first event)"))
    if to_version is not None and to_version < 1:
        problems.append(FieldProblem("toVersion", "out_of_range", "1 or more"))
    if from_version is not None and to_version is not None and from_version > to_version:
        problems.append(FieldProblem("fromVersion", "after_to_version", "fromVersion ≤ toVersion"))
    if problems:
        raise graphql_error(InvalidInput("版本号无效", "invalid version", fields=problems))


@strawberry.type(description="the seal: the hash chain over every stored event, kept up as events are stored")
class SealStatus:
    position: int = strawberry.field(description="the event store's head")
    sealed_position: int | None = strawberry.field(description="the last event in the chain")
    sealed_count: int | None
    latest_position: int | None = strawberry.field(description="the latest checkpoint: publish its line")
    latest_digest: str | None
    latest_at: datetime | None
    latest_line: str | None


@strawberry.type
class AuditQuery:
    @strawberry.field(description="the seal's head and latest digest line (for publication outside the system)")
    async def seal(self, info: Info) -> SealStatus:
        actor_of(info)
        status = await anyio.to_thread.run_sync(seal_status, context(info)["runtime"])
        head, latest = status["sealed_head"] or {}, status["latest"] or {}
        return SealStatus(position=status["position"], sealed_position=head.get("position"),
                          sealed_count=head.get("count"), latest_position=latest.get("position"),
                          latest_digest=latest.get("digest"), latest_at=latest.get("at"),
                          latest_line=latest.get("line"))

    @strawberry.field(description="审计: an aggregate (disaster, relief case, fund, account) as recorded at a moment "
                                  "(recorded time; without an offset, Beijing time) and the events recorded after")
    async def as_known_at(self, info: Info, id: strawberry.ID, at: datetime) -> KnownAt:
        actor = actor_of(info)
        aggregate_id = _uuid(id)
        moment = _aware(at)
        raw, after, version = await _call(_known_at, context(info)["runtime"], actor, aggregate_id, moment)
        state = {k: _masked(k, v) for k, v in raw.items()}
        return KnownAt(
            id=strawberry.ID(str(aggregate_id)), at=moment, version=version, state=cast(Any, state),
            fields=[AuditField(field=k, value=_text(v)) for k, v in state.items()],
            recorded_after=[
                AuditEvent(
                    version=e["version"], type=e["type"], recorded_at=datetime.fromisoformat(e["recorded_at"]),
                    actor=(e["actor"] or {}).get("username") if isinstance(e["actor"], dict) else None,
                    unit=e["unit"],
                    occurred_at=datetime.fromisoformat(e["occurred_at"]) if e["occurred_at"] else None,
                )
                for e in after
            ],
        )

    @strawberry.field(description="审计: each field changed after fromVersion (or fromTime) up to toVersion (or "
                                  "toTime; default the latest), with the event, actor, unit, time and reason")
    async def diff(
        self, info: Info, id: strawberry.ID, from_version: int | None = None, to_version: int | None = None,
        from_time: datetime | None = None, to_time: datetime | None = None,
    ) -> list[Change]:
        actor = actor_of(info)
        aggregate_id = _uuid(id)
        _check_versions(from_version, to_version)
        changes = await _call(
            _diff, context(info)["runtime"], actor, aggregate_id, from_version, to_version,
            _aware(from_time) if from_time is not None else None, _aware(to_time) if to_time is not None else None,
        )
        out = []
        for c in changes:
            old, new = _masked(c.field, _plain_json(c.old)), _masked(c.field, _plain_json(c.new))
            out.append(Change(
                field=c.field, old=_text(old), new=_text(new), old_value=old, new_value=new, version=c.version,
                event=c.event, actor=c.actor, unit=c.unit, recorded_at=c.recorded_at, reason=c.reason,
            ))
        return out
