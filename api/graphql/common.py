"""What every GraphQL module shares: the context, errors, scope, read-your-writes waits, periods, figures, paging."""

from __future__ import annotations

import asyncio
import time
from calendar import monthrange
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.messages import bilingual
from ledger.reference.codes import AreaCode
from ledger.store.actors import Actor, Role
from ledger.store.errors import (
    DomainError,
    FieldProblem,
    InvalidInput,
    NotAuthenticated,
    NotPermitted,
    Unavailable,
)

MAX_PAGE = 100


MAX_WAIT_SECONDS = 10.0


class Context(dict[str, Any]):
    pass


def graphql_error(exc: DomainError) -> Exception:
    from graphql import GraphQLError

    fields = [{"field": f.field, "code": f.code, "message": bilingual(f.code, f.message)} for f in exc.fields]
    return GraphQLError(exc.message, extensions={"code": exc.code, "fields": fields})


def context(info: Info) -> Any:
    return info.context


def actor_of(info: Info) -> Actor:
    actor = context(info)["actor"]
    if actor is None:
        raise graphql_error(context(info).get("refusal")
                            or NotAuthenticated("缺少或无效的令牌", "missing or invalid bearer token"))
    return actor


def host_of(info: Info) -> Any:
    host = context(info)["host"]
    if host is None:
        raise graphql_error(Unavailable("读模型未在本进程运行", "projections are not running in this process"))
    return host


async def wait_for(info: Info, position: int | None, names: list[str]) -> None:
    if not position:
        return
    host = host_of(info)
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    delay = 0.01
    while True:
        positions = await anyio.to_thread.run_sync(lambda: [host.followers[n].position() for n in names])
        if min(positions) >= position:
            return
        if time.monotonic() >= deadline:
            raise graphql_error(Unavailable(
                f"读模型尚未处理到位置 {position}", f"the read model has not reached position {position} yet",
            ))
        host.wake.set()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


def scoped_area(actor: Actor, area: str | None, *, narrow: bool = False) -> str:
    """The area to read: the requested one, which must lie within the caller's scope. A township account
    asking for its county is narrowed to its township only where the answer says so (`narrow`, with a
    `narrowedFrom` field); everywhere else an area outside the scope is refused, never silently narrowed."""
    if not area:
        return actor.scope
    try:
        prefix = AreaCode.parse(area, "area").prefix
    except InvalidInput as exc:
        raise graphql_error(exc) from None
    if not prefix.startswith(actor.scope):
        if narrow and actor.role is Role.TOWNSHIP and actor.scope.startswith(prefix):
            return actor.scope
        raise graphql_error(NotPermitted(
            f"{area} 不在本账号的管辖范围内（本账号：{actor.scope}）",
            f"{area} is outside this account's scope ({actor.scope}); ask for an area within it"))
    return prefix


@strawberry.type(description="One indicator's value (exact decimal as a string)")
class Figure:
    indicator: str
    name: str
    unit: str
    value: str


def figures_of(info: Info, values: dict[str, Any]) -> list[Figure]:
    indicators = context(info)["runtime"].indicators.indicators
    out = []
    for key in indicators:
        if key in values:
            i = indicators[key]
            value = Decimal(str(values[key])).quantize(Decimal(1).scaleb(-i.scale))  # the indicator's scale
            out.append(Figure(indicator=key, name=i.name_zh, unit=i.unit, value=str(value)))
    return out


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.input(description="one of: day, month (YYYY-MM), year, or from/to")
class PeriodInput:
    day: date | None = None
    month: str | None = None
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def period_of(p: PeriodInput) -> tuple[date, date]:
    try:
        if p.day:
            return p.day, p.day
        if p.month:
            y, m = (int(x) for x in p.month.split("-"))
            return date(y, m, 1), date(y, m, monthrange(y, m)[1])
        if p.year:
            return date(p.year, 1, 1), date(p.year, 12, 31)
        if p.date_from and p.date_to and p.date_from <= p.date_to:
            return p.date_from, p.date_to
    except ValueError:
        pass
    raise graphql_error(InvalidInput("统计期间无效", "invalid period: give day, month (YYYY-MM), year, or dateFrom ≤ dateTo"))


def page_size(first: int, maximum: int = MAX_PAGE) -> int:
    """`first` as REST checks a page size: 1 … maximum, or an error naming the limit (never silently cut)."""
    if isinstance(first, bool) or not 1 <= first <= maximum:
        raise graphql_error(InvalidInput(
            f"每页条数应为 1–{maximum}", f"first must be between 1 and {maximum}",
            fields=[FieldProblem("first", "out_of_range", f"1 … {maximum}")]))
    return first


def one_of(value: str | None, allowed: Iterable[str], field: str) -> str | None:
    """`value` if it is one of `allowed` (None passes): a filter that matches nothing is a mistake, not an answer."""
    known = list(allowed)
    if value is not None and value not in known:
        raise graphql_error(InvalidInput(
            f"{field} 的取值无效", f"{field} must be one of: {', '.join(known)}",
            fields=[FieldProblem(field, "not_allowed", f"one of: {', '.join(known)}")]))
    return value


def narrowed(asked: str | None, read: str) -> str | None:
    """The area asked for, if what is read is narrower (to be said in the answer), else None."""
    if not asked:
        return None
    try:
        prefix = AreaCode.parse(asked, "area").prefix
    except InvalidInput:
        return None
    return prefix if prefix != read else None
