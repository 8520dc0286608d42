"""Request and response shapes of the production-safety accident endpoints (生产安全事故)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from schemas.common import StrictModel

Level = Literal["county", "city", "province", "national"]


def _example(body: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [body]})


class CasualtiesIn(StrictModel):
    """People, whole numbers. 重伤 here excludes 急性中毒, which is given separately (both count as 重伤 for grading)."""

    deaths: StrictInt = Field(default=0, ge=0, le=1_000_000, description="死亡")
    missing: StrictInt = Field(default=0, ge=0, le=1_000_000, description="失踪")
    serious_injuries: StrictInt = Field(default=0, ge=0, le=1_000_000, description="重伤 (not counting 急性中毒)")
    minor_injuries: StrictInt = Field(default=0, ge=0, le=1_000_000, description="轻伤")
    acute_poisoning: StrictInt = Field(default=0, ge=0, le=1_000_000, description="急性中毒 (急性工业中毒)")


class AccidentIn(StrictModel):
    """The unit's first report (事故报告), as the county regulator records it with the unit's stated time."""

    model_config = _example({
        "county": "320921", "township": "320921103", "park": "响水生态化工园区",
        "unit_name": "江苏某化工有限公司", "credit_code": "91350100M000100Y43", "sector": "hazardous_chemicals",
        "occurred_at": "2026-03-21T14:48:00+08:00", "place": "园区内某车间", "summary": "储罐区发生爆炸",
        "casualties": {"deaths": 1, "serious_injuries": 2}, "direct_loss_fen": 350_000_000,
        "measures": "已疏散周边人员", "source": "unit", "unit_reported_at": "2026-03-21T15:20:00+08:00",
    })

    county: str = Field(min_length=6, max_length=12, description="county code (6 or 12 digits)")
    township: str = Field(min_length=9, max_length=12, description="township (乡镇) code where it happened")
    park: str | None = Field(default=None, max_length=200, description="园区, where any")
    unit_name: str = Field(min_length=1, max_length=200, description="事故单位名称")
    credit_code: str | None = Field(default=None, max_length=40,
                                    description="统一社会信用代码 (18 characters, check character verified); "
                                                "omitted for an unlicensed operator")
    sector: str = Field(min_length=1, max_length=40, description="行业领域 code (GET /v1/accidents/sectors)")
    occurred_at: datetime = Field(description="when it happened; without an offset it is Beijing time")
    place: str = Field(min_length=1, max_length=500)
    summary: str = Field(min_length=1, max_length=4000, description="事故简要经过")
    casualties: CasualtiesIn = Field(default_factory=CasualtiesIn)
    direct_loss_fen: StrictInt = Field(default=0, ge=0, description="初步估计的直接经济损失, integer fen")
    measures: str = Field(default="", max_length=4000, description="已经采取的措施")
    source: Literal["unit", "public_report", "inspection", "media", "other"] = Field(
        default="unit", description="how the regulator learned of it; unit = the unit reported it")
    unit_reported_at: datetime | None = Field(default=None, description="the unit's stated time of its report "
                                                                        "to the county (required when source=unit)")


class FollowUpIn(StrictModel):
    """续报; changed casualties make it a 补报 (regraded at once)."""

    model_config = _example({
        "as_of": "2026-03-22T08:00:00+08:00", "casualties": {"deaths": 4, "serious_injuries": 12},
        "text": "搜救发现 3 名遇难者",
    })

    as_of: datetime = Field(description="when the figures were known (统计截止时间)")
    casualties: CasualtiesIn | None = Field(default=None, description="figures to date; those left out keep theirs")
    direct_loss_fen: StrictInt | None = Field(default=None, ge=0)
    text: str = Field(default="", max_length=4000)
    explanation: str | None = Field(default=None, max_length=4000,
                                    description="书面说明: required for a decrease, or a change after the 补报 window")
    reported_at: datetime | None = Field(default=None, description="when it was reported by phone/fax, if before entry")


class UpwardReportIn(StrictModel):
    model_config = _example({"to_level": "city", "reported_at": "2026-03-21T16:10:00+08:00", "channel": "phone"})

    to_level: Literal["city", "province", "national"]
    reported_at: datetime = Field(description="the stated time the acting level reported to `to_level`")
    channel: Literal["system", "phone", "fax", "document"] = "system"
    from_level: Literal["county", "city", "province"] | None = Field(
        default=None, description="the acting account's own level (checked; may be omitted)")


class MomentIn(StrictModel):
    model_config = _example({"at": "2026-03-24T18:00:00+08:00"})

    at: datetime


class InvestigationOpenIn(StrictModel):
    model_config = _example({"at": "2026-03-23T09:00:00+08:00", "team": "市政府事故调查组", "lead_level": "city"})

    at: datetime = Field(description="when the investigation was opened")
    team: str = Field(default="", max_length=1000)
    lead_level: Level | None = Field(default=None, description="default: the acting account's level (提级 allowed)")


class DocumentStepIn(StrictModel):
    model_config = _example({"at": "2026-05-20T10:00:00+08:00", "document": "盐政复〔2026〕12号"})

    at: datetime
    document: str = Field(default="", max_length=500)


class ExtensionIn(StrictModel):
    model_config = _example({"days": 20, "reason": "需补充技术鉴定"})

    days: StrictInt = Field(ge=1, le=365)
    reason: str = Field(min_length=1, max_length=2000)


class EvidenceIn(StrictModel):
    ref: str = Field(description="sha256:<64 hex> of the attachment", examples=["sha256:" + "0" * 64])
    type: str = Field(max_length=100, description="media type", examples=["application/pdf"])
    name: str = Field(max_length=200, examples=["调查询问笔录.pdf"])


class FindingIn(StrictModel):
    """迟报 / 漏报 / 谎报 / 瞒报, with the evidence; the reports are never changed."""

    model_config = _example({
        "kind": "concealed", "against_party": "unit", "text": "企业隐瞒 2 名死亡人员，经调查组查证属实",
        "evidence": [{"ref": "sha256:" + "ab" * 32, "type": "application/pdf", "name": "询问笔录.pdf"}],
    })

    kind: Literal["late", "omitted", "false", "concealed"]
    text: str = Field(min_length=1, max_length=4000, description="the facts found")
    evidence: list[EvidenceIn] = Field(min_length=1, max_length=50)
    against_party: Literal["unit", "regulator"] = "unit"
    against_level: Literal["county", "city", "province"] | None = None


class ReasonIn(StrictModel):
    model_config = _example({"reason": "经核查属自然灾害引发，不属于生产安全事故"})

    reason: str = Field(min_length=1, max_length=2000)


class AccidentOut(BaseModel):
    id: str
    version: int
    state: dict[str, Any] = Field(description="the accident as its events tell it: unit, casualties, grade, "
                                             "reports, grades, upward reports, investigation, findings")
    status: str = Field(description="open | rescue_concluded | investigating | closed | withdrawn")
    grade_name: str
    clocks: list[dict[str, Any]] = Field(description="every report clock with its status now (迟报 / 未报)")
