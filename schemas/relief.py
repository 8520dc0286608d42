"""Request and response shapes of the relief endpoints (funds, household cases, payments)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import Fen, StrictModel

Programme = Literal["winter_spring", "emergency", "transitional", "bereavement", "drought", "housing"]
Period = Field(pattern=r"^\d{4}(-\d{4})?$", description="a year (2026) or a season (2025-2026)")


def _example(body: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [body]})


def _open_season() -> str:
    """The 冬春 season an application may be filed for today (Beijing): from June on, the coming one."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    year = today.year if today.month >= 6 else today.year - 1
    return f"{year}-{year + 1}"


class AllocationIn(StrictModel):
    """下达资金: money for one programme and period in one county, by source and document."""

    model_config = _example({
        "county": "320921", "programme": "winter_spring", "period": "2025-2026", "source": "central",
        "amount_fen": 50000000, "document": "苏财社〔2025〕88号",
    })

    county: str = Field(min_length=6, max_length=12)
    programme: Programme
    period: str = Period
    source: Literal["central", "provincial", "city", "county"]
    amount_fen: Fen = Field(gt=0, lt=10**13, description="amount in fen (分)")
    document: str = Field(min_length=1, max_length=100, description="allocating document number (文号)")


class GiveBackIn(StrictModel):
    model_config = _example({"amount_fen": 100000, "document": "响财〔2026〕3号", "reason": "结余资金收回"})

    amount_fen: Fen = Field(gt=0, lt=10**13)
    document: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)


class MemberIn(StrictModel):
    """家庭成员: a person of the household other than the head (ID protected like the head's)."""

    name: str = Field(min_length=1, max_length=50)
    relation: str = Field(min_length=1, max_length=20, description="配偶, 子女, 父母, 孙子女 …")
    id_number: str = Field(min_length=1, max_length=30, description="身份证号 (GB 11643)")
    groups: list[str] = Field(default_factory=list, max_length=10,
                              description="五保, 低保, 特困, 残疾, 高龄, 孤儿, 留守老人, 留守儿童, 重病, 优抚对象")
    in_need: bool = Field(default=True, description="counted in 需救助人口")


class EvidenceIn(StrictModel):
    """A file in the attachment store, by the SHA-256 of its content."""

    ref: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="sha256:<64 lowercase hex>")
    type: str = Field(min_length=3, max_length=100, description="media type, e.g. image/jpeg")
    name: str = Field(min_length=1, max_length=200)


class SignatureIn(StrictModel):
    """One of the three signatures of a payment or delivery without a card."""

    party: Literal["recipient", "village", "township"]
    name: str = Field(min_length=1, max_length=50)
    signed_on: date
    evidence: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$", description="the signed sheet")


class ApplicationIn(StrictModel):
    """户报: a household's application (personal data is validated and encrypted at rest)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra=lambda schema: schema.update(examples=[{
                                  "programme": "winter_spring", "period": _open_season(),
                                  "village": "320921100001", "head_name": "张三", "id_number": "320921198001011230",
                                  "phone": "13800138000", "card_number": "6217000010012345677",
                                  "household_type": "低保户", "household_size": 4, "people_in_need": 3,
                                  "address": "响水镇东园居委会 12 号", "causes": ["倒房"], "needs": ["口粮", "取暖"],
                              }]))

    programme: Programme
    period: str = Period
    village: str = Field(min_length=12, max_length=12, description="12-digit village (村/社区) code")
    head_name: str = Field(min_length=1, max_length=50, description="户主姓名")
    id_number: str = Field(min_length=1, max_length=30, description="户主身份证号 (GB 11643)")
    phone: str = Field(min_length=1, max_length=30, description="户主联系方式")
    card_number: str = Field(default="", max_length=40,
                             description="一卡通 account; empty when the household has none (then paid in cash "
                                         "with three-party signatures)")
    household_type: str = Field(min_length=1, max_length=50, description="家庭类型 (e.g. 低保户, 特困户, 一般户)")
    household_size: int = Field(ge=1, le=50, description="家庭人口")
    people_in_need: int = Field(ge=1, le=50, description="需救助人口")
    address: str = Field(min_length=1, max_length=200, description="家庭住址")
    causes: list[str] = Field(default_factory=list, max_length=10, description="倒房 / 减产绝收 / 伤病 …")
    needs: list[str] = Field(default_factory=list, max_length=10, description="口粮 / 衣被 / 取暖 / 住房 / 医疗 …")
    applied_on: date | None = None
    members: list[MemberIn] = Field(default_factory=list, max_length=49,
                                    description="家庭成员 besides the head; when given, household_size and "
                                                "people_in_need must match them")
    disaster_id: UUID | None = Field(default=None, description="the disaster process the case answers "
                                                               "(应急期: relief timeliness)")


class AssessmentIn(StrictModel):
    model_config = _example({"minutes_ref": "东园居委会村民代表会议记录 2025-10-08", "approved": True,
                             "held_on": "2025-10-08"})

    minutes_ref: str = Field(min_length=1, max_length=200)
    approved: bool
    held_on: date


class PostingIn(StrictModel):
    model_config = _example({"start": "2025-10-09", "end": "2025-10-15", "place": "东园居委会村务公开栏"})

    start: date = Field(description="not before the 村评, not in the future; more than the configured days "
                                    "(2) before today only with a `reason`")
    end: date
    place: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000,
                               description="why the posting is recorded late (listed in the accountability report)")


class ObjectionIn(StrictModel):
    model_config = _example({"summary": "村民反映该户家庭收入较高", "raised_on": "2025-10-11"})

    summary: str = Field(min_length=1, max_length=2000)
    raised_on: date


class ObjectionResolutionIn(StrictModel):
    model_config = _example({"resolution": "经入户核实，家庭收入情况属实，异议不成立", "upheld": False})

    resolution: str = Field(min_length=1, max_length=2000)
    upheld: bool


class ApprovalIn(StrictModel):
    model_config = _example({"amount_fen": 90000, "reason": None})

    amount_fen: Fen = Field(gt=0, lt=10**11)
    reason: str | None = Field(default=None, max_length=2000, description="required above the standard")


class ReasonIn(StrictModel):
    model_config = _example({"reason": "户主申请撤回"})

    reason: str = Field(min_length=1, max_length=2000)


class PaymentIn(StrictModel):
    model_config = _example({"amount_fen": 90000, "batch_id": "2026-01-批次03", "bank_ref": "NX20260112000123"})

    amount_fen: Fen = Field(gt=0, lt=10**11)
    batch_id: str = Field(min_length=1, max_length=100)
    bank_ref: str = Field(min_length=1, max_length=100)
    payment_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    method: Literal["card", "cash"] = Field(default="card", description="card (一卡通); cash only for a household "
                                                                        "without a card, with three signatures")
    signatures: list[SignatureIn] = Field(default_factory=list, max_length=3)


class GoodsIn(StrictModel):
    model_config = _example({
        "item": "棉被", "quantity": 2, "value_fen": 30000, "delivered_at": "2026-01-05T10:30:00+08:00",
        "evidence": [{"ref": "sha256:" + "0" * 64, "type": "image/jpeg", "name": "发放照片.jpg"}],
    })

    item: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, lt=10**6)
    value_fen: Fen = Field(ge=0, lt=10**11)
    delivered_at: datetime | None = Field(default=None, description="when it reached the household (default now)")
    evidence: list[EvidenceIn] = Field(min_length=1, max_length=20, description="photos / signed receipt (C45)")
    signatures: list[SignatureIn] = Field(default_factory=list, max_length=3,
                                          description="required for a household without a card")
    disaster_id: UUID | None = Field(default=None, description="the disaster process the delivery answers")


class FundOut(BaseModel):
    id: str
    version: int
    county: str
    programme: str
    period: str
    allocated_fen: dict[str, int]
    given_back_fen: int
    paid_fen: int
    returned_fen: int
    balance_fen: int
    documents: list[str]


class CaseOut(BaseModel):
    id: str
    version: int
    programme: str
    period: str
    county: str
    township: str
    village: str
    stage: str
    head_name: str
    id_number: str
    phone: str
    card_number: str
    masked: bool = Field(description="true when personal data is masked for this caller")
    household_type: str
    household_size: int
    people_in_need: int
    address: str
    members: list[dict[str, Any]]
    disaster_id: str | None
    causes: list[str]
    needs: list[str]
    review_flags: list[str]
    assessment: dict[str, Any] | None
    posting: dict[str, Any] | None
    objections: dict[str, Any]
    approved_fen: int
    paid_fen: int
    goods_fen: int
    payments: dict[str, Any]
    goods: list[dict[str, Any]]
    closing_reason: str | None


class NeedsFilingIn(StrictModel):
    """受灾人员冬春生活需救助情况: the season's figures filed upward by a county, city or province."""

    model_config = _example({"area": "320921", "households": 412, "people": 986,
                             "by_need": {"口粮": 640, "衣被": 310, "取暖": 520}, "note": "9月下旬摸底，10月12日汇总"})

    area: str = Field(pattern=r"^\d{2}(\d{2}(\d{2})?)?$",
                      description="the filing level's code: county (6 digits), city (4) or province (2)")
    households: int | None = Field(default=None, description="需救助户数; omitted: the roster's 需救助户数 now")
    people: int | None = Field(default=None, description="需救助人口 (人); omitted: the roster's 需救助人口 now")
    by_need: dict[str, int] = Field(default_factory=dict, description="其中 by need (口粮, 衣被, 取暖 …), each ≤ people")
    note: str = Field(default="", max_length=2000)


class NeedsCorrectionIn(StrictModel):
    model_config = _example({"households": 415, "people": 990, "by_need": {"口粮": 642}, "reason": "补录两户漏报"})

    households: int
    people: int
    by_need: dict[str, int] = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=2000)


class NeedsFilingOut(BaseModel):
    id: str
    version: int
    period: str
    level: str
    area: str
    households: int
    people: int
    by_need: dict[str, int]
    roster_households: int | None = Field(description="what the roster held for the area at the (last) filing")
    roster_people: int | None
    note: str
    filed_at: str
    filed_by: str
    corrections: int
    due_on: str
    status: str = Field(description="on_time | late (迟报)")
    days_late: int | None
