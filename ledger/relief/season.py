"""The 冬春 season's own clock (C33–C36, C54): the season per place, the survey and the upward deadlines.

A 冬春 period is a season spanning two years ("2025-2026"): 冬春救助时段 runs from
12月 of the first year to 5月 of the next (一季作物区 to 7月), configurable per
place (an area-code prefix; the most specific wins). Before it the county
surveys households (9月下旬) and files the 需救助 figures upward: county → 地市
by 10月15日, 地市 → 省 by 10月20日, 省 → 部 by 10月25日 (MCA 规程; dates are
configuration). Each is a clock with the statuses of disaster reports:
on_time, late (迟报), missing (未报, due and nothing arrived) and pending.

What arrives: the survey is under way once the county's first 冬春 户报 of
the season is recorded; an upward filing arrives when the level files its
statistics upward (the `UpwardReport` of the reporting work; until it is
wired in, nothing arrives and a past deadline reads 未报).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


LEVELS = ("county", "city", "province")


RULE_NAMES = {
    "survey_started": "冬春需救助调查摸底",
    "upward_county": "县级上报地市（冬春需救助）",
    "upward_city": "地市上报省级（冬春需救助）",
    "upward_province": "省级上报应急管理部（冬春需救助）",
}


def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(x) for x in str(text).split("-"))
    date(2024, month, day)  # a real day of a (leap) year
    return month, day


@dataclass(frozen=True)
class SeasonRules:
    start: tuple[int, int] = (12, 1)  # of the first year
    end: tuple[int, int] = (5, 31)  # of the second year
    places: tuple[tuple[str, tuple[int, int]], ...] = ()  # (area prefix, season end) — 一季作物区
    survey_started_by: tuple[int, int] = (9, 30)
    upward: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"county": (10, 15), "city": (10, 20), "province": (10, 25)})

    @classmethod
    def from_toml(cls, raw: dict[str, Any]) -> SeasonRules:
        default = cls()
        upward = dict(default.upward)
        upward.update({k: _month_day(v) for k, v in raw.get("upward", {}).items()})
        if set(upward) != set(LEVELS):
            raise ValueError(f"winter_spring.upward names the levels {', '.join(LEVELS)}")
        return cls(
            start=_month_day(raw.get("season_start", "12-01")),
            end=_month_day(raw.get("season_end", "05-31")),
            places=tuple((str(p["area"]), _month_day(p["season_end"])) for p in raw.get("places", [])),
            survey_started_by=_month_day(raw.get("survey_started_by", "09-30")),
            upward=upward,
        )

    def bounds(self, period: str, area: str) -> tuple[date, date]:
        """The season's first and last day for a household of `area`."""
        first, second = (int(x) for x in period.split("-"))
        end = self.end
        for prefix, place_end in sorted(self.places, key=lambda p: len(p[0])):
            if area.startswith(prefix):
                end = place_end
        return date(first, *self.start), date(second, end[0], min(end[1], monthrange(second, end[0])[1]))

    def due(self, rule: str, period: str) -> date:
        first = int(period.split("-")[0])
        if rule == "survey_started":
            return date(first, *self.survey_started_by)
        return date(first, *self.upward[rule.removeprefix("upward_")])


def is_season(period: str) -> bool:
    parts = period.split("-")
    return len(parts) == 2 and all(p.isdigit() and len(p) == 4 for p in parts) and int(parts[1]) == int(parts[0]) + 1


@dataclass(frozen=True)
class SeasonFlag:
    rule: str
    rule_name: str
    level: str
    area: str
    period: str
    due_on: date
    arrived_at: datetime | None
    status: str  # on_time | late | missing | pending
    days_late: int | None


def evaluate(rules: SeasonRules, rule: str, level: str, area: str, period: str, arrived_at: datetime | None,
             today: date) -> SeasonFlag:
    """One clock: due at the end of its day (Beijing)."""
    due = rules.due(rule, period)
    arrived_on = arrived_at.astimezone(CHINA).date() if arrived_at is not None else None
    if arrived_on is not None:
        status = "on_time" if arrived_on <= due else "late"
        late = max((arrived_on - due).days, 0)
    elif today > due:
        status, late = "missing", (today - due).days
    else:
        status, late = "pending", None
    return SeasonFlag(rule=rule, rule_name=RULE_NAMES[rule], level=level, area=area, period=period, due_on=due,
                      arrived_at=arrived_at, status=status, days_late=late)
