"""Request and response shapes of the incident-command endpoints (应急指挥)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from schemas.common import StrictModel


def _example(body: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [body]})


class LinkIn(StrictModel):
    model_config = _example({"kind": "disaster", "id": "6f1d2c3a-8b7e-5c4d-9a2b-1e0f3d4c5b6a"})

    kind: Literal["disaster", "accident"]
    id: str = Field(min_length=1, max_length=64)


class IncidentIn(StrictModel):
    """突发事件: opened by township staff for their township, or by county and above."""

    model_config = _example({
        "title": "响水县黄圩镇化工企业爆炸", "category": "accident", "area": "320921103",
        "occurred_at": "2026-03-21T14:48:00+08:00", "links": [{"kind": "accident", "id": "<accident id>"}],
    })

    title: str = Field(min_length=1, max_length=200)
    category: Literal["natural_disaster", "accident", "public_health", "social_security"]
    area: str = Field(min_length=6, max_length=12, description="the county or township where it happens")
    occurred_at: datetime
    links: list[LinkIn] = Field(default_factory=list, max_length=50)


class ResponseIn(StrictModel):
    """启动 / 调整 / 终止 one government's response under a named plan (its own Ⅰ–Ⅳ scale)."""

    model_config = _example({
        "action": "start", "government_level": "county", "plan": "响水县生产安全事故应急预案", "plan_version": "2021",
        "level": 4, "decided_at": "2026-03-21T15:30:00+08:00", "reason": "死亡 1 人，启动四级响应",
    })

    action: Literal["start", "adjust", "end"]
    government_level: Literal["township", "county", "city", "province", "national"]
    plan: str = Field(min_length=1, max_length=200)
    plan_version: str = Field(min_length=1, max_length=50)
    level: StrictInt | None = Field(default=None, ge=1, le=4, description="1=Ⅰ … 4=Ⅳ; omitted when ending")
    decided_at: datetime
    reason: str = Field(default="", max_length=2000,
                        description="required when the level differs from the plan's suggestion")
    area: str | None = Field(default=None, max_length=12,
                             description="the government's area (default: the one containing the incident)")


class CommanderIn(StrictModel):
    name: str = Field(min_length=1, max_length=50)
    post: str = Field(min_length=1, max_length=100, description="职务, e.g. 县长、县应急管理局局长")
    unit: str = Field(min_length=2, max_length=12, description="the commander's government (area code)")


class CommandIn(StrictModel):
    """指挥权: the commander holds command from `since`; whoever held it before hands over then."""

    model_config = _example({
        "commander": {"name": "张某", "post": "副县长", "unit": "320921"}, "since": "2026-03-21T15:00:00+08:00",
        "reason": "县级响应启动，县现场指挥部成立",
    })

    commander: CommanderIn
    since: datetime
    reason: str = Field(default="", max_length=2000)


class SupportRequestIn(StrictModel):
    """镇呼区应: a township calls the district (county) for support."""

    model_config = _example({
        "township": "320921103", "what": "请求调派消防救援力量和 2 台挖掘机", "categories": ["rescue", "equipment"],
        "requested_at": "2026-03-21T15:05:00+08:00",
    })

    township: str = Field(min_length=9, max_length=12)
    what: str = Field(min_length=1, max_length=2000)
    categories: list[Literal["rescue", "equipment", "supplies", "experts", "medical", "other"]] = Field(
        default_factory=list, max_length=6)
    requested_at: datetime


class SupportAnswerIn(StrictModel):
    model_config = _example({"outcome": "dispatched", "what": "区消防救援大队 2 车 12 人出发",
                             "answered_at": "2026-03-21T15:20:00+08:00"})

    outcome: Literal["dispatched", "partial", "declined"]
    what: str = Field(default="", max_length=2000)
    answered_at: datetime


class CloseIn(StrictModel):
    model_config = _example({"at": "2026-03-25T18:00:00+08:00", "reason": "应急响应全部终止"})

    at: datetime
    reason: str = Field(default="", max_length=2000)


class IncidentOut(BaseModel):
    id: str
    version: int
    state: dict[str, Any] = Field(description="links, responses per government with their changes, command "
                                             "periods, support calls")
    active_responses: list[dict[str, Any]]
