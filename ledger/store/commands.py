"""Running a command: load, decide, save atomically, retry on a lost race.

Idempotency: a POST with an `Idempotency-Key` saves an `IdempotencyRecord`
(id derived from account, method, path and key) in the same `save` as the
change, so either both are stored or neither. The record is looked up
before running, so a retry gets the first answer even when the command
could not run twice (a second 核报, say). The same key with a different
body is refused.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from ledger.store.errors import Conflict, DomainError, FieldProblem, InvalidInput, VersionMismatch
from ledger.store.positions import position_of

MAX_ATTEMPTS = 50


MAX_SECONDS = 5.0  # a hot aggregate (a county's fund on payment day) keeps its callers waiting at most this long


@dataclass(frozen=True)
class CommandResult:
    """What a command answers: the aggregate, its version, and the log position for read-your-writes."""

    id: UUID
    version: int
    position: int
    status: int = 200
    replayed: bool = False
    created: dict[str, str] | None = None
    """New sub-ids the caller needs next (an objection, a payment, a goods issue …)."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": str(self.id), "version": self.version, "position": self.position}
        if self.created:
            out["created"] = dict(self.created)
        return out


@dataclass(frozen=True)
class IdempotencyKey:
    account_id: UUID
    method: str
    path: str
    key: str
    request_hash: str

    @property
    def scope_key(self) -> str:
        return f"{self.account_id}|{self.method}|{self.path}|{self.key}"


class IdempotencyRecord(Aggregate):
    """The first answer to a POST with an Idempotency-Key."""

    class Recorded(Aggregate.Created):
        scope_key: str
        request_hash: str
        status: int
        result_id: UUID
        result_version: int
        created: dict[str, str]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["created"] = {}  # answers recorded before sub-ids were returned

    @classmethod
    def create_id(cls, scope_key: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"/idempotency/{scope_key}")

    @event(Recorded)
    def __init__(self, scope_key: str, request_hash: str, status: int, result_id: UUID, result_version: int,
                 created: dict[str, str]) -> None:
        self.request_hash = request_hash
        self.status = status
        self.result_id = result_id
        self.result_version = result_version
        self.created = created


Attempt = Callable[[], tuple[Aggregate, list[Aggregate], int]]
"""Loads and decides; returns (the aggregate answered, other aggregates to save, HTTP-ish status)."""


def check_version(aggregate: Aggregate, expected: int | None) -> None:
    if expected is not None and aggregate.version != expected:
        raise VersionMismatch(expected, aggregate.version)


def run(app: Any, attempt: Attempt, idempotency: IdempotencyKey | None = None,
        created: dict[str, str] | None = None) -> CommandResult:
    """Run `attempt` until it saves, is refused, or has lost the race too often. `created` names the
    new sub-ids the answer carries (decided before the attempt, so a retry answers the same)."""
    if idempotency is not None:
        replay = _replay(app, idempotency)
        if replay is not None:
            return replay
    deadline = time.monotonic() + MAX_SECONDS
    for tries in range(MAX_ATTEMPTS):
        try:
            aggregate, others, status = attempt()
        except DomainError:
            # A retry racing its own first request may find the change already made
            # ("already paid"): then the first answer is the answer.
            if idempotency is not None:
                replay = _replay(app, idempotency)
                if replay is not None:
                    return replay
            raise
        # The answered aggregate is saved last of the business changes, so its event holds the
        # highest position of them: the position a replay looks up by (id, version).
        to_save = [*others, aggregate]
        if idempotency is not None:
            to_save.append(
                IdempotencyRecord(
                    scope_key=idempotency.scope_key,
                    request_hash=idempotency.request_hash,
                    status=status,
                    result_id=aggregate.id,
                    result_version=aggregate.version,
                    created=dict(created or {}),
                )
            )
        try:
            recordings = app.save(*to_save)
        except IntegrityError:
            # Lost a race: a concurrent command saved first. A retry of the same
            # idempotent request gets the first answer; anything else re-decides
            # against the new state (a stale If-Match then answers 409).
            if idempotency is not None:
                replay = _replay(app, idempotency)
                if replay is not None:
                    return replay
            if time.monotonic() >= deadline:
                break
            time.sleep(random.uniform(0, 0.002 * 2 ** min(tries, 6)))  # jittered back-off spreads the racers
            continue
        business = [r.notification.id for r in recordings if not isinstance(r.domain_event, IdempotencyRecord.Event)]
        position = max(business, default=app.recorder.max_notification_id() or 0)
        return CommandResult(aggregate.id, aggregate.version, position, status, created=dict(created or {}))
    raise Conflict("并发冲突过多，请稍后重试", "too many concurrent changes; please retry", code="contention")


def _replay(app: Any, idempotency: IdempotencyKey) -> CommandResult | None:
    record_id = IdempotencyRecord.create_id(idempotency.scope_key)
    try:
        record = app.repository.get(record_id)
    except AggregateNotFoundError:
        return None
    if record.request_hash != idempotency.request_hash:
        raise InvalidInput(
            "同一 Idempotency-Key 已用于不同的请求内容",
            "this Idempotency-Key was already used with a different request body",
            fields=[FieldProblem("Idempotency-Key", "key_reused", "use a new key for a different request")],
            code="idempotency_key_reused",
        )
    position = position_of(app, record.result_id, record.result_version)
    return CommandResult(record.result_id, record.result_version, position, record.status, replayed=True,
                         created=dict(getattr(record, "created", None) or {}))
