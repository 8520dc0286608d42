"""One time format out, two ways in: every time the service answers is Beijing time with its offset
(`2026-07-08T14:00:00+08:00`); a time it is given may carry any offset, or none (then it is Beijing time).

Stored times are UTC; they are shown in Asia/Shanghai, whatever the layer —
REST (every JSON body), GraphQL (the DateTime scalar), the command line and
spreadsheets — so no answer mixes `Z` and `+08:00`. A `+` in a query-string
time that arrived as a space (`at=2026-07-08T14:00:00+08:00` sent unencoded)
is read as the `+` it was.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, NewType
from zoneinfo import ZoneInfo

import fastapi.encoders
import strawberry
from pydantic import BeforeValidator

CHINA = ZoneInfo("Asia/Shanghai")


def beijing(moment: datetime) -> datetime:
    """The moment in Beijing time (a naive one is taken as Beijing time already)."""
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment.astimezone(CHINA)


def shown(moment: datetime) -> str:
    return beijing(moment).isoformat()


def install() -> None:
    """Every datetime FastAPI encodes into JSON is shown in Beijing time (jsonable_encoder's table)."""
    fastapi.encoders.ENCODERS_BY_TYPE[datetime] = shown


_SPACE_BEFORE_OFFSET = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


def _plus_restored(value: Any) -> Any:
    if isinstance(value, str):
        return _SPACE_BEFORE_OFFSET.sub(r"\1+\2", value.strip())
    return value


QueryDateTime = Annotated[datetime, BeforeValidator(_plus_restored)]
"""A datetime query parameter; an unencoded `+` of its offset (read as a space) is restored."""

DateTimeOut = strawberry.scalar(
    NewType("DateTimeOut", datetime),
    name="DateTime",
    description="ISO 8601 date-time; answers are in Beijing time with +08:00, inputs may carry any offset "
                "(none = Beijing time)",
    serialize=shown,
    parse_value=lambda v: beijing(datetime.fromisoformat(_plus_restored(v))),
)
