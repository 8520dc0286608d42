"""The 12-digit 统计用区划代码: well-formed codes, their level, and why a code is malformed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta, timezone
from enum import StrEnum

from ledger.store.errors import FieldProblem, InvalidInput

CHINA_TZ = timezone(timedelta(hours=8))  # Asia/Shanghai has no DST


class Level(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


PREFIX_LENGTH: dict[Level, int] = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
}


# Ancestor prefix lengths to try, nearest first.
ANCESTOR_LENGTHS: dict[Level, tuple[int, ...]] = {
    Level.PROVINCE: (),
    Level.CITY: (2,),
    Level.COUNTY: (4, 2),
    Level.TOWNSHIP: (6, 4, 2),
    Level.VILLAGE: (9, 6, 4, 2),
}


LEVEL_ORDER = list(Level)


_ACCEPTED_LENGTHS = (2, 4, 6, 9, 12)


ASCII_DIGITS = re.compile(r"[0-9]+")


def level_of(value: str) -> Level:
    """Level of a well-formed 12-digit code, from its trailing zeros.

    A code whose county digits are ``00`` but whose township digits are not
    (a township of a city without county level, e.g. 东莞 441900003000) is a
    township, not a city.
    """
    if value[9:] != "000":
        return Level.VILLAGE
    if value[6:9] != "000":
        return Level.TOWNSHIP
    if value[4:6] != "00":
        return Level.COUNTY
    if value[2:4] != "00":
        return Level.CITY
    return Level.PROVINCE


def code_problem(raw: object) -> tuple[str | None, tuple[str, str] | None]:
    """Normalise ``raw`` to 12 digits, or say (zh, en) why it is malformed."""
    if not isinstance(raw, str):
        return None, ("应为数字字符串", "must be a string of digits")
    text = raw.strip()
    if not text:
        return None, ("为空", "is empty")
    if not ASCII_DIGITS.fullmatch(text):
        return None, ("只能包含数字 0-9", "must contain only the digits 0-9")
    if len(text) not in _ACCEPTED_LENGTHS:
        return None, (
            f"长度为 {len(text)} 位，应为 2、4、6、9 或 12 位",
            f"has {len(text)} digits; expected 2, 4, 6, 9 or 12",
        )
    value = text.ljust(12, "0")
    if value == "000000000000":
        return None, ("不能全为零", "must not be all zeros")
    if value[:2] == "00":
        return None, ("省级部分（第1-2位）不能为 00", "the province part (digits 1-2) must not be 00")
    if value[2:4] == "00" and value[4:] != "00000000":
        return None, (
            "地级部分（第3-4位）为 00 时其后各位应全为零",
            "digits after a 00 city part (digits 3-4) must all be zero",
        )
    if value[6:9] == "000" and value[9:] != "000":
        return None, (
            "乡级部分（第7-9位）为 000 时村级部分应为 000",
            "the village part must be 000 when the township part (digits 7-9) is 000",
        )
    return value, None


def excerpt(raw: object) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad_code(raw: object, field_name: str, reason: tuple[str, str]) -> InvalidInput:
    zh, en = reason
    shown = excerpt(raw)
    return InvalidInput(
        f"区划代码格式错误：“{shown}” {zh}",
        f"malformed area code {shown!r}: {en}",
        fields=[FieldProblem(field_name, "bad_area_code", f"malformed area code {shown!r}: {en}")],
    )


@dataclass(frozen=True, order=True)
class AreaCode:
    """A well-formed 12-digit 统计用区划代码."""

    value: str

    def __post_init__(self) -> None:
        value, reason = code_problem(self.value)
        if reason is not None or value != self.value:
            raise _bad_code(
                self.value,
                "area",
                reason
                or ("应为 12 位数字（可用 AreaCode.parse 补零）", "must be 12 digits (use AreaCode.parse to pad)"),
            )

    @classmethod
    def parse(cls, raw: str, field_name: str = "area") -> AreaCode:
        """Parse 2, 4, 6, 9 or 12 digits (padded with zeros on the right to 12)."""
        if isinstance(raw, AreaCode):
            return raw
        value, reason = code_problem(raw)
        if reason is not None:
            raise _bad_code(raw, field_name, reason)
        assert value is not None
        return cls._trusted(value)

    @classmethod
    def _trusted(cls, value: str) -> AreaCode:
        """Build from a value already known to be well-formed (skips the check)."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "value", value)
        return obj

    @property
    def level(self) -> Level:
        return level_of(self.value)

    @property
    def prefix(self) -> str:
        """The significant digits: province 2, city 4, county 6, township 9, village 12."""
        return self.value[: PREFIX_LENGTH[self.level]]

    @property
    def county(self) -> str:
        """The first 6 digits (the county for county, township and village codes)."""
        return self.value[:6]

    def is_within(self, scope_prefix: str | AreaCode) -> bool:
        """True if this code lies in the scope given by its prefix (2/4/6/9/12 digits)."""
        if isinstance(scope_prefix, AreaCode):
            scope_prefix = scope_prefix.prefix
        return self.value.startswith(scope_prefix)

    def __str__(self) -> str:
        return self.value
