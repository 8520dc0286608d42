"""FastAPI dependencies: the runtime, the acting account, Idempotency-Key and If-Match."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from api.throttle import AuthThrottle
from api.web.auth import cookie_actor_for_api
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from ledger.store.commands import IdempotencyKey
from ledger.store.errors import FieldProblem, InvalidInput, NotAuthenticated

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
    return authenticate(request, runtime, token)


def authenticate(request: Request, runtime: LedgerRuntime, token: str | None) -> Actor:
    """The token's account; a client that failed too often is refused (429) before the token is looked at."""
    throttle: AuthThrottle = request.app.state.auth_throttle
    client = throttle.client(request.client.host if request.client else None,
                             request.headers.get("x-forwarded-for"))
    throttle.check(client)
    try:
        return runtime.accounts.authenticate(token)
    except NotAuthenticated:
        throttle.failed(client, request.url.path)
        raise


CurrentActor = Annotated[Actor, Depends(get_actor)]


def get_expected_version(
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description=(
            'the version the change is based on (the ETag of a read): `3`, `"3"` or `W/"3"` (1–12 digits), '
            "or `*` for any; a stale version answers 409, another format 422"
        ), examples=['"3"']),
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
    Header(alias="Idempotency-Key", description=(
        "1–200 printable characters, unique per request you mean once (a UUID is a good key); a retry with "
        "the same key and body returns the first answer and writes nothing; the same key with another "
        "body answers 422. Keys belong to the calling account."
    ), examples=["2026-07-08-flood-1"]),
]
