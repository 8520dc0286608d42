"""The 冬春 season's clocks for an area: the survey and the upward filings (see `ledger.relief.season`).

The survey of a county is under way once its first 冬春 户报 of the season is
recorded (the roster knows when). An upward filing arrives when the level
files its 需救助 figures (`ledger.relief.season_filing`): `filings` answers
`get((level, area))` with the recorded time of that area's first filing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ledger.relief.rules import ReliefRules
from ledger.relief.season import SeasonFlag, evaluate, is_season


def current_season(today: date) -> str:
    """The season whose survey and deadlines fall in this autumn (from September) or the last."""
    year = today.year if today.month >= 9 else today.year - 1
    return f"{year}-{year + 1}"


def season_flags(roster: Any, rules: ReliefRules, period: str, area: str, today: date,
                 filings: Any = None) -> list[SeasonFlag]:
    """Every clock of the season for the area: per county (the area's own, or those with 冬春 cases) the
    survey and the county's filing; per city and province above them, their filings."""
    if not is_season(period):
        return []
    filings = filings or {}
    started = roster.survey_started(period, area)
    counties = sorted({area[:6]} if len(area) >= 6 else set(started))
    flags = []
    for county in counties:
        first = started.get(county)
        flags.append(evaluate(rules.season, "survey_started", "county", county, period,
                              datetime.fromisoformat(first) if first else None, today))
        flags.append(evaluate(rules.season, "upward_county", "county", county, period,
                              filings.get(("county", county)), today))
    if len(area) <= 4:
        for city in sorted({c[:4] for c in counties} or {area}):
            flags.append(evaluate(rules.season, "upward_city", "city", city, period, filings.get(("city", city)),
                                  today))
    if len(area) <= 2:
        province = area[:2]
        flags.append(evaluate(rules.season, "upward_province", "province", province, period,
                              filings.get(("province", province)), today))
    return flags
