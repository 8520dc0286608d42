"""Request limits, before any route runs: body size (413) and text encoding (400), in the one error body.

A body larger than its route's limit is refused with 413 as soon as that is
known — from `Content-Length` before anything is read, or while it streams
in — never after reading it whole. JSON and other text bodies must be UTF-8
(a GraphQL body of other bytes used to crash the server); they are at most a
megabyte by default, so they are read here, checked, and handed on. Uploads
(multipart) stream on to the route, counted as they come.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from api.errors import BodyTooLarge, error_body
from api.messages import bilingual

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODYLESS = ("GET", "HEAD", "OPTIONS", "DELETE", "TRACE")


@dataclass(frozen=True)
class BodyLimits:
    json_bytes: int = 1024 * 1024
    upload_bytes: int = 20 * 1024 * 1024
    attachment_bytes: int = 10 * 1024 * 1024

    def for_path(self, path: str, multipart: bool) -> int:
        if path.startswith("/v1/attachments"):
            return self.attachment_bytes
        return self.upload_bytes if multipart else self.json_bytes


class RequestLimits:
    """Pure ASGI middleware (outermost): size and encoding of request bodies."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        content_type = headers.get("content-type", "").lower()
        multipart = content_type.startswith("multipart/")
        limit = self.limits.for_path(scope["path"], multipart)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(send, 413, error_body(
                "body_too_large", f"请求内容过大：上限 {limit} 字节 / the request body is too large: at most {limit} bytes",
                details={"limit_bytes": limit}))
            return
        if multipart:
            await self.app(scope, _counting(receive, limit), send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await _answer(send, 413, error_body(
                    "body_too_large",
                    f"请求内容过大：上限 {limit} 字节 / the request body is too large: at most {limit} bytes",
                    details={"limit_bytes": limit}))
                return
            if not message.get("more_body", False):
                break
        if body and not content_type.startswith("application/octet-stream"):
            try:
                bytes(body).decode("utf-8")
            except UnicodeDecodeError as exc:
                await _answer(send, 400, error_body(
                    "bad_encoding", "请求内容不是有效的 UTF-8 文本 / the request body is not valid UTF-8",
                    [{"field": "body", "code": "bad_encoding",
                      "message": bilingual("bad_encoding", f"invalid UTF-8 at byte {exc.start}")}]))
                return
        await self.app(scope, _replaying(bytes(body), receive), send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise BodyTooLarge(limit)  # the route's error handler answers 413
        return message

    return counted


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
