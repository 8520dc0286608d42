"""Request and response shapes of the disaster-report endpoints."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from schemas.common import StrictModel

FigureValue = StrictInt | StrictFloat | StrictStr
TownshipFigures = dict[str, dict[str, FigureValue]]

FIGURES_DOC = (
    "Per township (9- or 12-digit 统计用区划代码) the totals to date, by indicator key "
    "(GET /v1/indicators): whole numbers for people, houses and counts; up to 2 decimals "
    "for hectares (公顷) and 万元. Townships not named keep their figures."
)
EXAMPLE_FIGURES = {
    "320921100": {
        "affected_population": 1200, "relocated_total": 300, "relocated_centralized_total": 120,
        "relocated_dispersed_total": 180, "collapsed_rooms": 8, "collapsed_dwelling_rooms": 6, "collapsed_dwelling_households": 3,
        "crop_affected_ha": "850.50", "crop_damaged_ha": "300.00", "crop_lost_ha": "40.25",
        "direct_loss_10k_yuan": "560.00",
    }
}


def _example(body: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [body]})


class AttachmentIn(StrictModel):
    """附件: a file uploaded first (POST /v1/attachments), named by its SHA-256."""

    sha256: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="as answered by POST /v1/attachments")
    type: str = Field(max_length=100, description="its media type, e.g. image/jpeg")
    name: str = Field(max_length=200, description="its file name")
    kind: Literal["photo", "disaster_text", "relief_text", "other"] = Field(
        description="photo (照片) | disaster_text (灾情文字说明) | relief_text (救灾工作文字说明) | other")


class InitialReportIn(StrictModel):
    """初报: opens a 灾害过程 (one per county, date and 一级灾种)."""

    model_config = _example({
        "county": "320921", "hazard": "flood", "subtype": "river_flood",
        "occurred_at": "2026-07-08T06:30:00+08:00", "figures": EXAMPLE_FIGURES,
        "text": "7月8日凌晨强降雨，响水镇部分村组受淹。",
    })

    county: str = Field(min_length=2, max_length=12, description="county code, 6 or 12 digits")
    hazard: str = Field(min_length=1, max_length=40, description="一级灾种 code (GET /v1/hazards)")
    subtype: str | None = Field(default=None, max_length=40, description="亚灾种 code; the county fills it")
    occurred_at: datetime = Field(description="when the disaster began; without an offset it is Beijing time")
    figures: TownshipFigures = Field(description=FIGURES_DOC)
    text: str = Field(default="", max_length=2000, description="灾情文字说明")
    explanation: str | None = Field(default=None, max_length=2000)
    phoned_at: datetime | None = Field(default=None, description="when it was reported by phone/fax if the system was down (补报)")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50, description="附件")


class FiguresReportIn(StrictModel):
    """续报 / 核报 / refiling: totals to date for the townships named."""

    model_config = _example({
        "figures": {"320921100": {"affected_population": 1350, "deaths": 0}},
        "as_of": "2026-07-08T18:00:00+08:00",
        "explanation": None,
    })

    figures: TownshipFigures = Field(description=FIGURES_DOC)
    as_of: datetime = Field(description="the moment the figures describe (统计截止时间)")
    explanation: str | None = Field(default=None, max_length=2000, description="书面说明, required for large jumps and any decrease")
    phoned_at: datetime | None = None
    subtype: str | None = Field(
        default=None, max_length=40,
        description="亚灾种 code: required when the county (or a level above) files for a process that has none yet",
    )
    attachments: list[AttachmentIn] = Field(
        default_factory=list, max_length=50,
        description="附件 (photos, 文字说明); when a response was launched, ≥ 3 photos by the 核报 (configurable)")


class AcceptIn(StrictModel):
    """审核通过; the county accepting a township's report of a process without a 亚灾种 gives it here."""

    model_config = _example({"subtype": "river_flood"})

    subtype: str | None = Field(default=None, max_length=40, description="亚灾种 code (GET /v1/hazards)")


class ReasonIn(StrictModel):
    model_config = _example({"reason": "受灾人口与转移人口不符，请核实后重报"})

    reason: str = Field(min_length=1, max_length=2000)


class CorrectionIn(StrictModel):
    """勘误: date, type or text; never the figures."""

    model_config = _example({"reason": "灾种误报，应为风雹", "hazard": "wind_hail", "subtype": "hail"})

    reason: str = Field(min_length=1, max_length=2000)
    disaster_date: date | None = Field(default=None, description="the corrected civil date (Beijing)")
    occurred_at: datetime | None = Field(default=None, description="the corrected start time; sets the date too")
    hazard: str | None = Field(default=None, max_length=40)
    subtype: str | None = Field(default=None, max_length=40)
    text: str | None = Field(default=None, max_length=2000)


class StabilisationIn(StrictModel):
    model_config = _example({"stabilised_at": "2026-07-12T12:00:00+08:00"})

    stabilised_at: datetime


class ResponseChangeIn(StrictModel):
    """启动 / 调整 / 终止 a response level Ⅰ–Ⅳ (1–4) under a named plan."""

    model_config = _example({
        "action": "start", "level": 4, "plan": "响水县自然灾害救助应急预案", "plan_version": "2021",
        "government_level": "county", "decided_at": "2026-07-08T09:00:00+08:00",
        "reason": "紧急转移安置人口超过预案四级响应条件",
    })

    action: Literal["start", "adjust", "end"]
    level: int | None = Field(default=None, ge=1, le=4, description="1=Ⅰ … 4=Ⅳ; omitted when ending")
    plan: str = Field(min_length=1, max_length=200)
    plan_version: str = Field(min_length=1, max_length=50)
    government_level: Literal["county", "city", "province", "national"]
    decided_at: datetime
    reason: str = Field(min_length=1, max_length=2000)


class ActorOut(BaseModel):
    account_id: str
    username: str
    role: str
    unit: str


class ReportOut(BaseModel):
    number: int
    kind: str = Field(description="initial (初报) | follow_up (续报) | final (核报)")
    review: str = Field(description="submitted | accepted | returned (驳回)")
    as_of: datetime
    filed_by: ActorOut
    recorded_at: datetime | None
    townships: list[str]
    explanation: str | None
    jumps: list[dict[str, str]]
    refiles: int | None
    phoned_at: datetime | None
    reviewed_by: ActorOut | None
    return_reason: str | None


class TownshipOut(BaseModel):
    code: str
    name: str | None
    figures: dict[str, Decimal]


class DisasterOut(BaseModel):
    id: str
    version: int
    county: str
    county_name: str | None
    disaster_date: date
    hazard: str
    hazard_name: str
    subtype: str | None
    occurred_at: datetime
    stage: str = Field(description="initial | follow_up | final | retracted")
    text: str
    response: dict[str, Any] | None
    stabilised_at: datetime | None
    retraction: dict[str, Any] | None
    totals: dict[str, Decimal] = Field(description="county totals of the figures that count")
    townships: list[TownshipOut]
    reports: list[ReportOut]


class HistoryEntryOut(BaseModel):
    version: int
    type: str = Field(examples=["FollowUpReportFiled"])
    recorded_at: datetime
    actor: ActorOut | None
    unit: str | None
    occurred_at: datetime | None = Field(description="when what the event describes happened in the world")
    payload: dict[str, Any]
