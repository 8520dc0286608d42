"""Response levels (响应级别): 启动 / 调整 / 终止 of a level Ⅰ–Ⅳ under a named plan, and the checks of a change.

国家自然灾害救助应急预案 and the local plans: the authorised officer decides a
level (Ⅰ highest, Ⅳ lowest) of their own government's plan; thresholds only
suggest. A response is started, adjusted to another level, or ended.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from ledger.store.errors import Conflict, FieldProblem, InvalidInput


class ResponseAction(StrEnum):
    START = "start"  # 启动
    ADJUST = "adjust"  # 调整
    END = "end"  # 终止


def check_response_change(current: dict[str, Any] | None, action: ResponseAction, level: int | None,
                          decided_at: datetime, occurred_at: datetime) -> int | None:
    """The level the change leaves (None when it ends the response); refuses a change that makes no sense."""
    active = current is not None and current.get("level") is not None
    if action is ResponseAction.START and active:
        raise Conflict("响应已启动，请使用调整", "a response is already active; adjust it instead", code="response_active")
    if action in (ResponseAction.ADJUST, ResponseAction.END) and not active:
        raise Conflict("当前没有启动的响应", "no response is active", code="no_response")
    if action is ResponseAction.END:
        level = None
    elif isinstance(level, bool) or level not in (1, 2, 3, 4):
        raise InvalidInput(
            "响应级别应为 1–4（Ⅰ–Ⅳ）", "the response level must be 1–4 (Ⅰ–Ⅳ)",
            fields=[FieldProblem("level", "bad_level", "1, 2, 3 or 4")],
        )
    elif action is ResponseAction.ADJUST and current and level == current["level"]:
        raise Conflict("响应级别未改变", "the response level is unchanged", code="level_unchanged")
    if decided_at < occurred_at:
        raise InvalidInput(
            "决定时间早于灾害发生时间", "decided_at is before the disaster occurred",
            fields=[FieldProblem("decided_at", "before_occurrence", "must not precede occurred_at")],
        )
    return level
