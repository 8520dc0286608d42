"""Rendering pages: the Jinja2 environment, the filters every page uses, the navigation per role.

Times are shown in Beijing time with the offset (+08:00); money in 元 with two
decimals (the API keeps integer fen); every page gets the signed-in viewer,
its CSRF token and the navigation of its role.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.web.auth import CSRF_FIELD, viewer_of
from ledger.store.actors import Role

CHINA = ZoneInfo("Asia/Shanghai")
HERE = Path(__file__).resolve().parent

ROLE_NAMES = {
    "township": "乡镇灾害信息员", "county": "县级应急管理部门", "city": "市级应急管理部门",
    "province": "省级应急管理部门", "relief_officer": "救助工作人员", "auditor": "审计人员", "admin": "系统管理员",
}

STAGE_NAMES = {"initial": "初报", "follow_up": "续报", "final": "核报", "retracted": "已核销"}
KIND_NAMES = {"initial": "初报", "follow_up": "续报", "final": "核报"}
REVIEW_NAMES = {"submitted": "待审核", "accepted": "已通过", "returned": "已驳回"}
LEVEL_NAMES = {1: "Ⅰ级", 2: "Ⅱ级", 3: "Ⅲ级", 4: "Ⅳ级"}

NAV: dict[str, list[tuple[str, str]]] = {
    "township": [("/reports", "灾情报送"), ("/relief/cases", "救助对象"), ("/housing", "住房重建"),
                 ("/incidents", "应急指挥")],
    "county": [("/reports", "灾害过程"), ("/review", "审核"), ("/deadlines", "时限"), ("/statistics", "统计"),
               ("/relief/cases", "救助"), ("/relief/season", "冬春"), ("/housing", "住房重建"),
               ("/accidents", "事故"), ("/incidents", "应急指挥"), ("/targets", "目标")],
    "city": [("/reports", "灾害过程"), ("/review", "审核"), ("/deadlines", "时限"), ("/statistics", "统计"),
             ("/relief/season", "冬春"), ("/housing", "住房重建"), ("/accidents", "事故"), ("/incidents", "应急指挥"),
             ("/targets", "目标")],
    "province": [("/reports", "灾害过程"), ("/review", "审核"), ("/deadlines", "时限"), ("/statistics", "统计"),
                 ("/relief/season", "冬春"), ("/housing", "住房重建"), ("/accidents", "事故"),
                 ("/incidents", "应急指挥"), ("/targets", "目标")],
    "relief_officer": [("/relief/cases", "救助对象"), ("/relief/season", "冬春"), ("/relief/funds", "资金"),
                       ("/relief/import", "导入"), ("/statistics", "统计"), ("/housing", "住房重建")],
    "auditor": [("/audit", "追溯"), ("/audit/seal", "封存校验"), ("/audit/report", "问责报告"),
                ("/deadlines", "时限"), ("/housing", "住房重建"), ("/accidents", "事故"),
                ("/incidents", "应急指挥")],
    "admin": [("/admin/accounts", "账号"), ("/reports", "灾害过程")],
}

HOME = {
    "township": "/reports", "county": "/review", "city": "/review", "province": "/statistics",
    "relief_officer": "/relief/cases", "auditor": "/audit", "admin": "/admin/accounts",
}


def beijing(value: Any, with_seconds: bool = False) -> str:
    """`2026-07-08 06:30 (+08:00)`: any stored time, shown in Beijing time."""
    if value in (None, ""):
        return "—"
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=CHINA)  # naive stored times are Beijing time
        local = when.astimezone(CHINA)
        return local.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M") + " (+08:00)"
    if isinstance(when, date):
        return when.isoformat()
    return str(value)


def local_input(value: datetime | None) -> str:
    """The value of a datetime-local input: Beijing time without an offset."""
    if value is None:
        return ""
    return value.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


def yuan(fen: Any) -> str:
    """Integer fen shown as 元 with two decimals and thousands separators."""
    if fen in (None, ""):
        return "—"
    amount = Decimal(int(fen)) / 100
    return f"{amount:,.2f}"


def duration(seconds: Any) -> str:
    if seconds in (None, ""):
        return "—"
    s = int(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} 天" if days else "", f"{hours} 小时" if hours else "", f"{minutes} 分" if minutes else ""]
    return "".join(p for p in parts if p) or "不足 1 分钟"


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(beijing=beijing, yuan=yuan, duration=duration, local_input=local_input)
templates.env.globals.update(
    ROLE_NAMES=ROLE_NAMES, STAGE_NAMES=STAGE_NAMES, KIND_NAMES=KIND_NAMES, REVIEW_NAMES=REVIEW_NAMES,
    LEVEL_NAMES=LEVEL_NAMES, CSRF_FIELD=CSRF_FIELD,
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    viewer = viewer_of(request)
    role = viewer.actor.role.value if viewer else None
    context.setdefault("errors", {})
    context.setdefault("form_error", None)
    area_name = ""
    if viewer is not None:
        area = request.app.state.runtime.areas.get(viewer.actor.scope) if viewer.actor.scope else None
        area_name = area.name if area else viewer.actor.scope
    return templates.TemplateResponse(
        request, template,
        {"viewer": viewer, "nav": NAV.get(role or "", []), "area_name": area_name,
         "is_auditor": role == Role.AUDITOR.value, **context},
        status_code=status_code,
    )
