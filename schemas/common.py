"""Shapes shared by every endpoint: the error body and command answers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class StrictModel(BaseModel):
    """Request bodies: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FieldErrorOut(BaseModel):
    field: str = Field(examples=["figures.320921100.deaths"])
    code: str = Field(examples=["negative"])
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(examples=["duplicate_process"])
    message: str = Field(description="Chinese, then English", examples=["该灾害过程已有初报 / this disaster process already has an initial report"])
    fields: list[FieldErrorOut] = []
    details: dict[str, Any] = {}


class ErrorOut(BaseModel):
    """The one error body of every endpoint."""

    error: ErrorDetail


class CommandOut(BaseModel):
    """A command's answer. `position` is the notification id for read-your-writes."""

    id: str
    version: int
    position: int
    created: dict[str, str] | None = Field(
        default=None, description="new sub-ids the caller needs next (objection_id, payment_id, goods_id …)")


def _whole_fen(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("money is whole fen (分) as a JSON integer, without a decimal point or quotes: "
                         "50 元 is 5000")
    return value


Fen = Annotated[int, BeforeValidator(_whole_fen),
                Field(description="money in fen (分) as a JSON integer; a decimal point, a float or a string is "
                                  "refused (422)")]
"""Money in the API: whole fen only. `"5000.00"` or `5000.0` would be ambiguous (fen or 元?): refused."""


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "the body is not valid UTF-8 text",
        401: "missing or invalid token",
        403: "role or scope does not allow this",
        404: "not found",
        409: "conflict with the current state (duplicate, stale If-Match, closed report)",
        413: "the body is over its limit (1 MB JSON, 20 MB spreadsheets, by default); refused before it is read",
        422: "invalid input; `fields` names each problem",
        429: "too many failed authentications from this client; `Retry-After` says when to try again",
        503: "storage busy or unreachable, or the read model not caught up; retry after `Retry-After` seconds",
    }.items()
}
