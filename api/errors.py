"""The one error body, `{"error": {"code", "message", "fields", "details"}}`, for every failure.

Domain errors map to a status by their category; request-shape errors are
422 with one entry per field; anything unexpected is a 500 in the same
shape, without internals (the traceback goes to the server log only).
"""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import OperationalError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.messages import bilingual
from ledger.store.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    Unavailable,
)

log = logging.getLogger("relief_ledger.api")


class BodyTooLarge(DomainError):
    """The request body is over its route's limit (413)."""

    code = "body_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"请求内容过大：上限 {limit} 字节", f"the request body is too large: at most {limit} bytes",
            fields=[FieldProblem("body", "too_large", f"at most {limit} bytes")], details={"limit_bytes": limit},
        )


class Throttled(DomainError):
    """Too many failed attempts from this client (429)."""

    code = "too_many_failures"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "认证失败次数过多，请稍后再试", "too many failed authentication attempts; retry later",
            details={"retry_after_seconds": retry_after},
        )
        self.retry_after = retry_after

STATUS = [
    (BodyTooLarge, 413),
    (Throttled, 429),
    (NotAuthenticated, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (Unavailable, 503),
]

HTTP_MESSAGES = {
    400: ("请求格式错误", "bad request"),
    401: ("需要身份验证", "authentication required"),
    403: ("无权执行此操作", "forbidden"),
    404: ("资源不存在", "not found"),
    405: ("不支持该请求方法", "method not allowed"),
    406: ("不支持的响应格式", "not acceptable"),
    413: ("请求内容过大", "request body too large"),
    429: ("请求过多", "too many requests"),
    415: ("不支持的内容类型", "unsupported media type"),
}


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None,
               details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or [], "details": details or {}}}


def status_of(exc: DomainError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 422


def domain_error_response(exc: DomainError) -> JSONResponse:
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "2"}
    if isinstance(exc, Throttled):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(
        error_body(exc.code, exc.message, [{"field": f.field, "code": f.code, "message": bilingual(f.code, f.message)}
                                           for f in exc.fields], exc.details),
        status_code=status,
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) == 2 and parts[0] == "body" and parts[1].isdigit():
        return "body"  # invalid JSON: the location is a character offset
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def on_domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = []
        for err in exc.errors():
            code = str(err.get("type", "invalid"))
            fields.append({"field": _field_path(tuple(err.get("loc", ()))), "code": code,
                           "message": bilingual(code, str(err.get("msg", "invalid")))})
        return JSONResponse(
            error_body("invalid_request", "请求内容不符合要求 / the request is invalid", fields),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh, en = HTTP_MESSAGES.get(exc.status_code, ("请求失败", "request failed"))
        if isinstance(exc.detail, str) and exc.detail and exc.detail not in (en,):
            en = f"{en}: {exc.detail}"
        return JSONResponse(
            error_body(f"http_{exc.status_code}", f"{zh} / {en}"),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    async def on_storage_busy(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("storage unavailable: %s", type(exc).__name__)
        guard = getattr(request.app.state, "storage_guard", None)
        if guard is not None:
            guard.suspect(exc)
        return JSONResponse(
            error_body("storage_busy", "存储暂时不可用，请稍后重试 / storage is busy or unreachable; retry shortly"),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(PersistenceError)
    async def on_storage_error(request: Request, exc: PersistenceError) -> JSONResponse:
        log.exception("storage error")
        guard = getattr(request.app.state, "storage_guard", None)
        if guard is not None:
            guard.suspect(exc)
        return JSONResponse(
            error_body("storage_error", "存储错误，请稍后重试 / storage error; retry shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal", "服务器内部错误 / internal server error"),
            status_code=500,
        )
