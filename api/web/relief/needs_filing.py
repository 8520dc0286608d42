"""冬春 需救助 上报: the season's clocks for the viewer's area, the roster's 需救助 figures, and the filing of
the viewer's own level (county, city or province) — filed once, corrected with a reason.

The same use cases as `POST /v1/relief/winter-spring/{period}/needs-filings` and its corrections.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.errors import status_of
from api.files.relief import projection_view
from api.web.auth import require_viewer
from api.web.messages import field_errors
from api.web.pages import form_of, idempotency, new_key, page_router, redirect
from api.web.templating import render
from ledger.relief.season import is_season
from ledger.relief.season_filing import FILERS, LEVEL_OF_DIGITS, check_figures
from ledger.relief.service import CHINA
from ledger.store.errors import DomainError, FieldProblem, InvalidInput, Problems
from projections.relief.season import current_season, season_flags

router = page_router()

#: the needs most 冬春 surveys break down (free names; these are offered in the form)
NEEDS = ("口粮", "衣被", "取暖", "住房")
LEVEL_NAMES = {"county": "县级", "city": "市级", "province": "省级"}
STATUS_NAMES = {"on_time": "按时", "late": "迟报", "missing": "未报", "pending": "未到期"}


def own_area(actor: Any) -> str | None:
    """The area the viewer files for: its scope when that is a county, city or province it may file for."""
    level = LEVEL_OF_DIGITS.get(len(actor.scope))
    return actor.scope if level is not None and actor.role in FILERS[level] else None


def _period(request: Request, period: str) -> str:
    if period and is_season(period):
        return period
    return current_season(request.app.state.runtime.now().astimezone(CHINA).date())


@router.get("/relief/winter-spring")
async def page(request: Request, period: str = "", done: str = "") -> Response:
    viewer = require_viewer(request)
    return await _render(request, viewer, _period(request, period), done=done)


async def _render(request: Request, viewer: Any, period: str, status_code: int = 200, **context: Any) -> Response:
    runtime = request.app.state.runtime
    today = runtime.now().astimezone(CHINA).date()
    scope = viewer.actor.scope
    own = own_area(viewer.actor)

    def read() -> tuple[list[Any], dict[str, int], Any]:
        with projection_view(runtime, "roster", request.app.state.projections) as roster:
            flags = season_flags(roster, runtime.relief_rules, period, scope, today,
                                 runtime.season_filings.filed_at(period))
            totals = roster.winter_spring_statistics(scope, period).totals
        return flags, totals, runtime.season_filings.find(period, own) if own else None

    flags, totals, filing = await run_in_threadpool(read)
    values = {"idempotency_key": new_key(), "households": str(totals["need_households"]),
              "people": str(totals["need_people"]), **context.pop("values", {})}
    return render(request, "relief/needs_filing.html", status_code=status_code, period=period, flags=flags,
                  totals=totals, own=own, filing=filing, needs=NEEDS, values=values, levels=LEVEL_NAMES,
                  statuses=STATUS_NAMES, areas=runtime.areas, **context)


def _figures(values: dict[str, str]) -> Any:
    problems = Problems()

    def whole(name: str, required: bool = True) -> int | None:
        raw = values.get(name, "").strip()
        if not raw:
            if required:
                problems.add(name, "required", "a whole number")
            return None
        if not raw.isdigit():
            problems.add(name, "not_a_whole_number", f"a whole number, not {raw!r}")
            return None
        return int(raw)

    households, people = whole("households"), whole("people")
    by_need = {n: v for n in NEEDS if (v := whole(f"need_{n}", required=False)) is not None}
    problems.raise_if_any("请检查填写的数字", "check the figures")
    figures = check_figures(households, people, by_need, problems)
    problems.items = [FieldProblem(p.field.replace("by_need.", "need_"), p.code, p.message) for p in problems.items]
    problems.raise_if_any("冬春需救助情况报送有误", "invalid 冬春 figures")
    return figures


@router.post("/relief/winter-spring")
async def file(request: Request) -> Response:
    viewer, values = await form_of(request)
    runtime = request.app.state.runtime
    period = _period(request, values.get("period", ""))
    own = own_area(viewer.actor)
    correcting = values.get("action") == "correct"
    try:
        if own is None:
            raise InvalidInput("本账号不报送冬春需救助情况", "this account files no 冬春 figures")
        figures = _figures(values)

        def save() -> Any:
            with projection_view(runtime, "roster", request.app.state.projections) as roster:
                totals = roster.winter_spring_statistics(own, period).totals
            counted = {"households": totals["need_households"], "people": totals["need_people"]}
            body = {"period": period, "area": own, **figures.as_dict(), "reason": values.get("reason", "")}
            key = idempotency(request, viewer, values, body)
            if correcting:
                return runtime.season_filings.correct(viewer.actor, period, own, figures, counted,
                                                      values.get("reason", ""), key)
            return runtime.season_filings.file(viewer.actor, period, own, figures, counted,
                                               values.get("note", ""), key)

        await run_in_threadpool(save)
    except DomainError as exc:
        return await _render(request, viewer, period, status_of(exc), errors=field_errors(exc), form_error=exc.zh,
                             values={k: v for k, v in values.items() if k != "csrf_token"})
    return redirect("/relief/winter-spring", period=period, done="corrected" if correcting else "filed")
