"""Request shapes of the housing-reconstruction endpoints (倒损住房恢复重建)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.common import Fen, StrictModel
from schemas.relief import EvidenceIn, MemberIn, _example

Damage = Literal["collapsed", "severe", "general"]
Mode = Literal["in_situ", "relocation", "centralized", "purchase", "repair"]


class HousingApplicationIn(StrictModel):
    """申请: the household and its damaged house as assessed (一户一档)."""

    model_config = _example({
        "disaster_id": "6f1d2c3a-8b7e-5c4d-9a2b-1e0f3d4c5b6a", "village": "320921100001", "head_name": "李四",
        "id_number": "320921197503151239", "phone": "13800138001", "card_number": "6217000010012345677",
        "address": "响水镇东园居委会 8 号",
        "members": [{"name": "王五", "relation": "配偶", "id_number": "320921197809102464"}],
        "damage": "collapsed", "rooms": 3, "mode": "in_situ",
        "evidence": [{"ref": "sha256:" + "ab" * 32, "type": "image/jpeg", "name": "倒房照片.jpg"}],
        "assessed_on": "2026-07-10",
    })

    disaster_id: UUID = Field(description="the disaster process (not retracted, of the village's county)")
    village: str = Field(min_length=12, max_length=12)
    head_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=30)
    phone: str = Field(min_length=1, max_length=30)
    card_number: str = Field(default="", max_length=40)
    address: str = Field(min_length=1, max_length=200)
    members: list[MemberIn] = Field(default_factory=list, max_length=49)
    damage: Damage = Field(description="倒塌 collapsed | 严重损坏 severe | 一般损坏 general")
    rooms: int = Field(ge=1, le=50, description="间")
    mode: Mode = Field(description="原址重建 in_situ | 异地重建 relocation | 集中统建 centralized | 购房安置 purchase | "
                                   "维修加固 repair")
    evidence: list[EvidenceIn] = Field(min_length=1, max_length=20, description="photos, assessment forms")
    assessed_on: date
    flood_storage: bool = Field(default=False, description="in a 蓄滞洪区 (its own rate)")
    building: str = Field(default="dwelling", max_length=40, description="dwelling, or an excluded kind "
                                                                        "(kitchen, livestock_shed …: refused)")
    circumstances: list[str] = Field(default_factory=list, max_length=10,
                                     description="long_unoccupied, second_home … (refused)")
    applied_on: date | None = None


class DeliberationIn(StrictModel):
    model_config = _example({"minutes_ref": "东园居委会四议两公开会议记录 2026-07-12", "held_on": "2026-07-12"})

    minutes_ref: str = Field(min_length=1, max_length=200, description="四议两公开 minutes")
    held_on: date


class HousingPostingIn(StrictModel):
    model_config = _example({"start": "2026-07-13", "end": "2026-07-20", "place": "东园居委会公示栏"})

    start: date
    end: date
    place: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class StatedIn(StrictModel):
    model_config = _example({"stated_on": "2026-07-21"})

    stated_on: date | None = Field(default=None, description="the day it happened (default today)")


class HousingApprovalIn(StrictModel):
    model_config = _example({"stated_on": "2026-07-22"})

    subsidy_fen: Fen | None = Field(default=None, gt=0, lt=10**11,
                                    description="default: the standard; above it only with a reason")
    reason: str | None = Field(default=None, max_length=2000)
    stated_on: date | None = None


class AgreementIn(StrictModel):
    model_config = _example({"signed_on": "2026-07-23", "planned_start": "2026-08-01",
                              "planned_completion": "2026-11-30"})

    signed_on: date
    planned_start: date | None = Field(default=None, description="开工 (not for 购房安置)")
    planned_completion: date | None = Field(default=None, description="竣工 (not for 购房安置)")


class StepIn(StrictModel):
    model_config = _example({"step": "started", "stated_on": "2026-08-01"})

    step: Literal["started", "completed", "moved_in", "closed"]
    stated_on: date


class InspectionIn(StrictModel):
    model_config = _example({"passed": True, "stated_on": "2026-12-02"})

    passed: bool
    reasons: str | None = Field(default=None, max_length=2000, description="required when failed")
    stated_on: date


class ProgressIn(StrictModel):
    model_config = _example({"stated_on": "2026-08-20", "note": "主体完工"})

    stated_on: date
    note: str = Field(default="", max_length=2000)


class TrancheIn(StrictModel):
    model_config = _example({"tranche": 1, "bank_ref": "响水农商行 20260802-0017"})

    tranche: int = Field(ge=1, le=10)
    bank_ref: str = Field(min_length=1, max_length=100)
    payment_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


class OtherMoneyIn(StrictModel):
    model_config = _example({"kind": "mutual_aid", "amount_fen": 500000, "stated_on": "2026-08-05",
                              "note": "亲友互助"})

    kind: Literal["mutual_aid", "self_raised", "insurance", "donation"]
    amount_fen: Fen = Field(gt=0, lt=10**11)
    stated_on: date
    note: str = Field(default="", max_length=500)
