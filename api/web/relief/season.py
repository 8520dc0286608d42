"""The 冬春 season for an area (county and relief officers, city, province; auditors read): the season's own
dates for the place, the 需救助 / 已救助 figures by the next level (GraphQL's `winterSpringStatistics`), the
season's clocks — the survey and the upward filings — with 迟报 / 未报 (`winterSpringDeadlines`), the relief
timeliness from each disaster (`reliefTimeliness`), and the cases flagged for review: a family member, a
一卡通 account or a phone shared between households (`householdMatches`), villages where every household got
the same amount (`equalAmounts`). Read only; the same views and scope as GraphQL.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.web.auth import require_viewer
from api.web.pages import page_router, view, wait_for
from api.web.relief import needs_filing
from api.web.relief.cases import current_period
from api.web.templating import CHINA, render
from ledger.relief.applications import check_period
from ledger.relief.season import is_season
from ledger.store.errors import FieldProblem, InvalidInput, NotPermitted, Problems
from projections.relief.season import season_flags
from projections.relief.timeliness import timeliness_of

router = page_router()

CLOCK_NAMES = {"on_time": "按时", "late": "迟报", "missing": "未报", "pending": "未到期"}


def _scoped(scope: str, area: str) -> str:
    area = area.strip()
    if not area:
        return scope
    if not area.isdigit() or len(area) not in (2, 4, 6, 9, 12):
        raise InvalidInput("地区代码有误", "invalid area code", fields=[FieldProblem("area", "bad_area", "")])
    if not area.startswith(scope):
        if scope.startswith(area):
            return scope
        raise NotPermitted(f"{area} 不在本账号的管辖范围内", f"{area} is outside this account's scope")
    return area


@router.get("/relief/season")
async def season(request: Request, period: str = "", area: str = "", after: str = "") -> Response:
    viewer = require_viewer(request)
    caught_up = await wait_for(request, after, ["roster"])
    runtime = request.app.state.runtime
    period = period.strip() or current_period(request)
    problems = Problems()
    check_period(period, problems)
    if not problems.items and not is_season(period):
        problems.add("period", "bad_period", "a season such as 2025-2026")
    problems.raise_if_any("期间有误（冬春救助期间如 2025-2026）", "invalid season")
    scope = _scoped(viewer.actor.scope, area)
    rules = runtime.relief_rules
    now = runtime.now()
    today = now.astimezone(CHINA).date()
    roster, board = view(request, "roster"), view(request, "board")

    def read() -> dict[str, Any]:
        figures = roster.winter_spring_statistics(scope, period)
        return {
            "totals": figures.totals, "breakdown": figures.breakdown,
            "flags": season_flags(roster, rules, period, scope, today, runtime.season_filings.filed_at(period)),
            "timeliness": timeliness_of(roster, board, scope, None, rules.timeliness_target_hours, now),
            "matches": roster.matches(scope, None, period),
            "equal": roster.equal_amounts(scope, rules.equal_amount_min_households, None, period),
        }

    found = await run_in_threadpool(read)
    first, last = rules.season.bounds(period, scope)
    return render(request, "relief/season.html", period=period, area=scope, first=first, last=last,
                  festival=rules.spring_festival.get(period), caught_up=caught_up, areas=runtime.areas,
                  clock_names=CLOCK_NAMES, target_hours=rules.timeliness_target_hours,
                  files_upward=needs_filing.own_area(viewer.actor) is not None, **found)
