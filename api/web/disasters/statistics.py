"""Statistics for an area (with the child breakdown, a chart over the year, a table by child area, a download)
and the deadline board (迟报 / 未报 highlighted with the delay and the responsible unit).

Both read the projections GraphQL reads (`statistics`, `board`) and the
deadline rules of `ledger.disasters.deadlines`; nothing is computed here
that the API does not compute the same way.
"""

from __future__ import annotations

import io
import json
from calendar import monthrange
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.files.kuaibao import kuaibao_workbook
from api.web.auth import Viewer, require_viewer
from api.web.pages import page_router, view
from api.web.templating import CHINA, render
from ledger.disasters.deadlines import RULE_NAMES, evaluate
from ledger.reference.codes import AreaCode
from ledger.store.actors import Role
from ledger.store.errors import InvalidInput, NotPermitted
from projections.disasters.board import BoardFilter
from projections.disasters.statistics import StatisticsQuery

router = page_router()

CHART_DEFAULT = "affected_population"


def area_in_scope(viewer: Viewer, area: str) -> str:
    """The requested area (a prefix), which must lie within the account's scope (as GraphQL checks it)."""
    if not area:
        return viewer.actor.scope
    prefix = AreaCode.parse(area, "area").prefix
    if prefix.startswith(viewer.actor.scope):
        return prefix
    if viewer.actor.role is Role.TOWNSHIP and viewer.actor.scope.startswith(prefix):
        return viewer.actor.scope
    raise NotPermitted(f"{area} 不在本账号的管辖范围内", f"{area} is outside this account's scope")


def _period(year: int, month: int | None) -> tuple[date, date]:
    if not 1949 <= year <= 2200 or (month is not None and not 1 <= month <= 12):
        raise InvalidInput("统计期间无效", "invalid period")
    if month:
        return date(year, month, 1), date(year, month, monthrange(year, month)[1])
    return date(year, 1, 1), date(year, 12, 31)


def _gather(request: Request, viewer: Viewer, area: str, year: int, month: int | None, hazard: str,
            indicator: str) -> dict[str, Any]:
    runtime = request.app.state.runtime
    prefix = area_in_scope(viewer, area)
    if hazard and hazard not in runtime.hazards.hazards:
        raise InvalidInput(f"未知的灾种 {hazard}", f"unknown disaster type {hazard}")
    start, end = _period(year, month)
    stats = view(request, "statistics")
    result = stats.statistics(StatisticsQuery(prefix, start.isoformat(), end.isoformat(), hazard or None))
    series = []
    for m in range(1, 13):
        m_start, m_end = _period(year, m)
        monthly = stats.statistics(StatisticsQuery(prefix, m_start.isoformat(), m_end.isoformat(), hazard or None))
        series.append((f"{m} 月", str(monthly.totals.get(indicator, Decimal(0)))))
    indicators = runtime.indicators.indicators
    shown = [k for k in indicators if k in result.totals]
    area_obj = runtime.areas.get(prefix)
    return {
        "prefix": prefix, "area_name": area_obj.name if area_obj else prefix, "start": start, "end": end,
        "result": result, "shown": shown, "indicators": indicators, "series": series, "indicator": indicator,
        "names": {c: (runtime.areas.get(c).name if runtime.areas.get(c) else c) for c in result.breakdown},
    }


@router.get("/statistics")
async def statistics_page(request: Request, area: str = "", year: int = 0, month: int = 0, hazard: str = "",
                          indicator: str = CHART_DEFAULT) -> Response:
    viewer = require_viewer(request)
    runtime = request.app.state.runtime
    year = year or runtime.now().astimezone(CHINA).year
    if indicator not in runtime.indicators.indicators:
        indicator = CHART_DEFAULT
    data = await run_in_threadpool(_gather, request, viewer, area, year, month or None, hazard, indicator)
    chart = {"labels": [s[0] for s in data["series"]], "values": [float(s[1]) for s in data["series"]],
             "label": runtime.indicators.indicators[indicator].name_zh}
    return render(request, "disasters/statistics.html", year=year, month=month, hazard=hazard,
                  hazards=runtime.hazards.hazards, chart=json.dumps(chart, ensure_ascii=False),
                  query=request.url.query, **data)


@router.get("/statistics.xlsx")
async def statistics_download(request: Request, area: str = "", year: int = 0, month: int = 0, hazard: str = "",
                              indicator: str = CHART_DEFAULT) -> Response:
    viewer = require_viewer(request)
    runtime = request.app.state.runtime
    year = year or runtime.now().astimezone(CHINA).year
    data = await run_in_threadpool(_gather, request, viewer, area, year, month or None, hazard,
                                   indicator if indicator in runtime.indicators.indicators else CHART_DEFAULT)
    body = await run_in_threadpool(_workbook, data)
    name = f"statistics-{data['prefix']}-{data['start']}-{data['end']}.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/statistics/kuaibao.xlsx")
async def kuaibao_download(request: Request, area: str = "", year: int = 0, month: int = 0,
                           hazard: str = "") -> Response:
    """The 快报 table of the area and period (layout partly unconfirmed; the file says so)."""
    viewer = require_viewer(request)
    runtime = request.app.state.runtime
    year = year or runtime.now().astimezone(CHINA).year
    data = await run_in_threadpool(_gather, request, viewer, area, year, month or None, hazard, CHART_DEFAULT)
    body = await run_in_threadpool(kuaibao_workbook, data)
    name = f"kuaibao-{data['prefix']}-{data['start']}-{data['end']}.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _workbook(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "统计"
    indicators = data["indicators"]
    sheet.append([f"{data['area_name']} {data['start']} 至 {data['end']}（灾害过程 {data['result'].processes} 个，人次合计）"])
    sheet.append(["区划代码", "名称", *[f"{indicators[k].name_zh}（{indicators[k].unit}）" for k in data["shown"]]])
    for code, figures in data["result"].breakdown.items():
        sheet.append([code, data["names"][code], *[str(figures.get(k, "")) for k in data["shown"]]])
    sheet.append(["合计", data["area_name"], *[str(data["result"].totals.get(k, "")) for k in data["shown"]]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/deadlines")
async def deadlines_page(request: Request, month: str = "", status: str = "") -> Response:
    viewer = require_viewer(request)
    runtime = request.app.state.runtime
    now = runtime.now()
    month = month or now.astimezone(CHINA).strftime("%Y-%m")
    try:
        y, m = (int(x) for x in month.split("-"))
        start, end = _period(y, m)
    except ValueError:
        raise InvalidInput("月份格式应为 YYYY-MM", "month must be YYYY-MM") from None
    area = viewer.actor.scope[:6] if len(viewer.actor.scope) > 6 else viewer.actor.scope
    board = view(request, "board")
    rows = await run_in_threadpool(board.find, BoardFilter(area=area, date_from=start.isoformat(),
                                                           date_to=end.isoformat()), None, 5000, True)
    upward = await run_in_threadpool(view(request, "upward").for_processes, [r["disaster_id"] for r in rows])
    flags = []
    for row in rows:
        for flag in evaluate(json.loads(row["state"]), runtime.deadlines, now, upward):
            flags.append({"flag": flag, "row": row, "rule": RULE_NAMES.get(flag.rule, flag.rule),
                          "unit": _unit_name(runtime, flag.unit)})
    order = {"missing": 0, "late": 1, "pending": 2, "on_time": 3}
    flags.sort(key=lambda f: (order.get(f["flag"].status, 9), f["flag"].due_at))
    counts = {s: sum(1 for f in flags if f["flag"].status == s) for s in order}
    shown = [f for f in flags if not status or f["flag"].status == status]
    return render(request, "disasters/deadlines.html", flags=shown, counts=counts, month=month, status=status,
                  hazards=runtime.hazards.hazards, areas=runtime.areas)


def _unit_name(runtime: Any, unit: str) -> str:
    for digits in (12, 9, 6, 4, 2):
        area = runtime.areas.get(unit[:digits]) if unit[digits:].strip("0") == "" else None
        if area is not None:
            return f"{area.name}（{unit[:digits]}）"
    return unit
