"""FastAPI dependencies: the runtime, the acting account, Idempotency-Key and If-Match."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from api.web.auth import cookie_actor_for_api
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from ledger.store.commands import IdempotencyKey
from ledger.store.errors import FieldProblem, InvalidInput

IF_MATCH = re.compile(r'^(?:W/)?("?)(\d{1,12})\1$')


def get_runtime(request: Request) -> LedgerRuntime:
    runtime: LedgerRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[LedgerRuntime, Depends(get_runtime)]


def get_actor(
    request: Request,
    runtime: Runtime,
    authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
) -> Actor:
    token = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
    elif (signed_in := cookie_actor_for_api(request)) is not None:
        return signed_in  # a browser's session (with its X-CSRF-Token header)
    return runtime.accounts.authenticate(token)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def get_expected_version(
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description="the version the change is based on: 3 or \"3\"; 409 if stale"),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    raw = if_match.strip()
    if raw == "*":
        return None  # any version
    match = IF_MATCH.match(raw)
    raw = match.group(2) if match else ""
    if not raw:
        raise InvalidInput(
            "If-Match 应为版本号", "If-Match must be a version number",
            fields=[FieldProblem("If-Match", "bad_if_match", 'a version such as 3 or "3"')],
        )
    return int(raw)


ExpectedVersion = Annotated[int | None, Depends(get_expected_version)]


def idempotency_key(
    request: Request,
    actor: Actor,
    key: str | None,
    body: BaseModel | dict[str, Any] | None,
) -> IdempotencyKey | None:
    """The Idempotency-Key of a POST, scoped to the account, method and path, with a hash of the body."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise InvalidInput(
            "Idempotency-Key 无效", "invalid Idempotency-Key",
            fields=[FieldProblem("Idempotency-Key", "bad_key", "1–200 printable characters")],
        )
    if isinstance(body, BaseModel):
        canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True)
    else:
        canonical = json.dumps(body, sort_keys=True, default=str)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return IdempotencyKey(actor.account_id, request.method, request.url.path, key, digest)


IdempotencyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="a retry with the same key returns the first answer and writes nothing"),
]
