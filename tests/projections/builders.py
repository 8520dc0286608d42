"""Small builders for the projection tests: places, now-relative times, reports, accounts.

Places are real codes from the seed: 响水县 (320921, 盐城市 3209, 江苏省 32)
and two counties of 景德镇市 (3602, 江西省 36), plus 九龙坡区 (500107,
重庆市). Times are relative to today in Beijing, always in the past and
timezone-aware, so a disaster's date (its civil date in Asia/Shanghai) is
known in advance.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ledger.accounts.service import local_operator
from ledger.disasters.inputs import CHINA, FiguresReport, InitialReport, ResponseChange
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor

# --- places ---------------------------------------------------------------------------------------

PROVINCE = "32"  # 江苏省
CITY = "3209"  # 盐城市
COUNTY = "320921"  # 响水县
XIANGSHUI = "320921100"  # 响水镇
CHENJIAGANG = "320921101"  # 陈家港镇
XIAOJIAN = "320921102"  # 小尖镇
HUANGWEI = "320921103"  # 黄圩镇

JINGDEZHEN = "3602"  # 景德镇市 (江西省 36)
CHANGJIANG = "360202"  # 昌江区
XIJIAO = "360202001"  # 西郊街道
XINFENG = "360202002"  # 新枫街道
ZHUSHAN = "360203"  # 珠山区
SHISHIBU = "360203001"  # 石狮埠街道

JIULONGPO = "500107"  # 九龙坡区 (重庆市 5001)
YANGJIAPING = "500107001"  # 杨家坪街道

EXPLANATION = "据乡镇核实后的最新统计，数据变化属实"


# --- time -----------------------------------------------------------------------------------------


def day(days_ago: int) -> date:
    """A civil date in Beijing, `days_ago` days before today (at least 2, so every hour of it is past)."""
    assert days_ago >= 2, "keep every time of the day in the past"
    return datetime.now(CHINA).date() - timedelta(days=days_ago)


def at(days_ago: int, hour: int = 8, minute: int = 0) -> datetime:
    """A Beijing time on `day(days_ago)`."""
    return datetime.combine(day(days_ago), time(hour, minute), tzinfo=CHINA)


# --- reports --------------------------------------------------------------------------------------


def initial(
    county: str = COUNTY,
    *,
    days_ago: int = 5,
    hazard: str = "flood",
    subtype: str | None = "river_flood",
    figures: dict[str, dict[str, Any]] | None = None,
) -> InitialReport:
    """初报 at 08:00 on `day(days_ago)` (by default 响水镇, 1200 affected)."""
    return InitialReport(
        county=county,
        hazard=hazard,
        subtype=subtype,
        occurred_at=at(days_ago, 8),
        figures={XIANGSHUI: {"affected_population": 1200}} if figures is None else figures,
        text="持续强降雨，部分村组受淹",
    )


def report(figures: dict[str, dict[str, Any]], *, days_ago: int = 5, hour: int = 12,
           attachments: tuple[dict[str, str], ...] = ()) -> FiguresReport:
    """续报 / 核报 as of `hour` on `day(days_ago)`, always with a written explanation (激增激减须书面说明)."""
    return FiguresReport(figures=figures, as_of=at(days_ago, hour), explanation=EXPLANATION, attachments=attachments)


def photos(runtime: Any, count: int = 3) -> tuple[dict[str, str], ...]:
    """Scene photos in the blob store (a process with a response needs 3 by its 核报)."""
    out = []
    for i in range(count):
        stored = runtime.blobs.put(b"\x89PNG\r\n\x1a\n" + f"scene {i}".encode(), "image/png")
        out.append({"sha256": stored.ref, "type": stored.type, "name": f"scene-{i}.png", "kind": "photo"})
    return tuple(out)


def response_start(level: int = 4, *, days_ago: int = 5, hour: int = 10) -> ResponseChange:
    return ResponseChange(
        action="start", level=level, plan="响水县自然灾害救助应急预案", plan_version="2023",
        government_level="county", decided_at=at(days_ago, hour), reason="灾情达到启动条件",
    )


# --- accounts -------------------------------------------------------------------------------------


def an_officer(runtime: LedgerRuntime, role: str, scope: str) -> Actor:
    """Registers an account (as the local operator), issues it a token, and authenticates with it."""
    username = f"{role}-{scope}"
    runtime.accounts.register(local_operator(), username, role, scope)
    token, _ = runtime.accounts.issue_token(local_operator(), username)
    return runtime.accounts.authenticate(token)


# --- reading rows ---------------------------------------------------------------------------------


def totals_of(row: dict[str, Any]) -> dict[str, Decimal]:
    """A board row's county totals, as exact decimals."""
    return {k: Decimal(v) for k, v in json.loads(row["totals"]).items()}
