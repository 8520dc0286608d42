"""ReliefCase (救助对象): one household in one programme and period, 户报 → 村评 → 公示 → 乡审 → 县定 → 发放."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.relief.checks import require_positive, require_reason
from ledger.store.errors import Conflict, FieldProblem, InvalidInput


class Stage(StrEnum):
    APPLIED = "applied"  # 户报
    ASSESSED = "assessed"  # 村评
    POSTED = "posted"  # 公示
    TOWNSHIP_REVIEWED = "township_reviewed"  # 乡审
    APPROVED = "approved"  # 县定
    PAID = "paid"  # approved amount paid in full
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


CLOSED = (Stage.REJECTED, Stage.WITHDRAWN)


class ReliefCase(Aggregate):
    """救助对象: one household in one programme and period."""

    @event("Applied")
    def __init__(
        self, *, programme: str, period: str, county: str, township: str, village: str, head_name: str,
        id_number: str, id_hash: str, phone: str, card_number: str, household_type: str, household_size: int,
        people_in_need: int, address: str, causes: list[str], needs: list[str], applied_on: date,
        review_flags: list[str], actor: dict[str, Any],
    ) -> None:
        self.programme = programme
        self.period = period
        self.county = county
        self.township = township
        self.village = village
        self.head_name = head_name
        self.id_number = id_number
        self.id_hash = id_hash
        self.phone = phone
        self.card_number = card_number
        self.household_type = household_type
        self.household_size = household_size
        self.people_in_need = people_in_need
        self.address = address
        self.causes = causes
        self.needs = needs
        self.review_flags = review_flags
        self.stage = Stage.APPLIED
        self.assessment: dict[str, Any] | None = None
        self.posting: dict[str, Any] | None = None
        self.objections: dict[str, dict[str, Any]] = {}
        self.approved_amount = 0
        self.payments: dict[str, dict[str, Any]] = {}
        self.goods: list[dict[str, Any]] = []
        self.closing_reason: str | None = None

    # --- the chain ------------------------------------------------------------------

    def assess(self, minutes_ref: str, approved: bool, held_on: date, actor: dict[str, Any]) -> None:
        """村评: the villagers' representatives' democratic assessment (minutes referenced)."""
        self._require(Stage.APPLIED, "村评")
        if not minutes_ref.strip():
            raise InvalidInput("须注明评议记录", "the assessment minutes must be referenced",
                               fields=[FieldProblem("minutes_ref", "required", "the minutes' reference")])
        self._assessed(minutes_ref=minutes_ref, approved=approved, held_on=held_on, actor=actor)

    @event("VillageAssessed")
    def _assessed(self, minutes_ref: str, approved: bool, held_on: date, actor: dict[str, Any]) -> None:
        self.assessment = {"minutes_ref": minutes_ref, "approved": approved, "held_on": held_on}
        if approved:
            self.stage = Stage.ASSESSED
        else:
            self.stage = Stage.REJECTED
            self.closing_reason = f"村评未通过 ({minutes_ref})"

    def post(self, start: date, end: date, place: str, min_days: int, actor: dict[str, Any]) -> None:
        """公示: public posting in the village for at least `min_days` days."""
        self._require(Stage.ASSESSED, "公示")
        if (end - start).days + 1 < min_days:
            raise InvalidInput(
                f"公示期不少于 {min_days} 天", f"the posting must last at least {min_days} days",
                fields=[FieldProblem("end", "posting_too_short", f"at least {min_days} days from the start")],
            )
        self._posted(start=start, end=end, place=place, actor=actor)

    @event("Posted")
    def _posted(self, start: date, end: date, place: str, actor: dict[str, Any]) -> None:
        self.posting = {"start": start, "end": end, "place": place}
        self.stage = Stage.POSTED

    def raise_objection(self, objection_id: str, summary: str, raised_on: date, actor: dict[str, Any]) -> None:
        if self.stage is not Stage.POSTED:
            raise _wrong_stage(self.stage, "异议")
        if objection_id in self.objections:
            raise Conflict("异议编号重复", "duplicate objection id", code="duplicate_objection")
        self._objection_raised(objection_id=objection_id, summary=summary, raised_on=raised_on, actor=actor)

    @event("ObjectionRaised")
    def _objection_raised(self, objection_id: str, summary: str, raised_on: date, actor: dict[str, Any]) -> None:
        self.objections[objection_id] = {"summary": summary, "raised_on": raised_on, "resolution": None}

    def resolve_objection(self, objection_id: str, resolution: str, upheld: bool, actor: dict[str, Any]) -> None:
        """An upheld objection rejects the case; a dismissed one lets it go on."""
        objection = self.objections.get(objection_id)
        if objection is None or objection["resolution"] is not None:
            raise Conflict("没有待处理的该异议", "no such open objection", code="no_open_objection")
        require_reason(resolution, "resolution")
        self._objection_resolved(objection_id=objection_id, resolution=resolution, upheld=upheld, actor=actor)

    @event("ObjectionResolved")
    def _objection_resolved(self, objection_id: str, resolution: str, upheld: bool, actor: dict[str, Any]) -> None:
        self.objections[objection_id]["resolution"] = resolution
        self.objections[objection_id]["upheld"] = upheld
        if upheld:
            self.stage = Stage.REJECTED
            self.closing_reason = f"异议成立: {resolution}"

    def review(self, today: date, actor: dict[str, Any]) -> None:
        """乡审: only after the posting has ended and every objection is resolved."""
        self._require(Stage.POSTED, "乡审")
        self._require_posting_done(today)
        self._township_reviewed(actor=actor)

    @event("TownshipReviewed")
    def _township_reviewed(self, actor: dict[str, Any]) -> None:
        self.stage = Stage.TOWNSHIP_REVIEWED

    def approve(self, amount: int, cap: int, reason: str | None, today: date, rules_version: str,
                actor: dict[str, Any]) -> None:
        """县定: the approved amount; above the per-capita (or household) cap only with a written reason."""
        self._require(Stage.TOWNSHIP_REVIEWED, "县定")
        self._require_posting_done(today)
        require_positive(amount, "amount_fen")
        if amount > cap and not (reason and reason.strip()):
            raise InvalidInput(
                "核定金额超过标准，须书面说明", "the amount is above the standard; a written reason is required",
                fields=[FieldProblem("reason", "above_standard", f"the standard allows {cap} fen")],
                details={"cap_fen": cap}, code="above_standard",
            )
        self._approved(amount=amount, cap=cap, above_cap=amount > cap, reason=reason, rules_version=rules_version,
                       actor=actor)

    @event("CountyApproved")
    def _approved(self, amount: int, cap: int, above_cap: bool, reason: str | None, rules_version: str,
                  actor: dict[str, Any]) -> None:
        self.approved_amount = amount
        self.stage = Stage.APPROVED

    def reject(self, reason: str, actor: dict[str, Any]) -> None:
        if self.stage in CLOSED or self.stage in (Stage.APPROVED, Stage.PAID):
            raise _wrong_stage(self.stage, "驳回")
        require_reason(reason)
        self._rejected(at_stage=self.stage.value, reason=reason, actor=actor)

    @event("Rejected")
    def _rejected(self, at_stage: str, reason: str, actor: dict[str, Any]) -> None:
        self.stage = Stage.REJECTED
        self.closing_reason = reason

    def withdraw(self, reason: str, actor: dict[str, Any]) -> None:
        if self.stage in CLOSED or self.payments or self.goods:
            raise _wrong_stage(self.stage, "撤回")  # once money or goods went out, the case stays on record
        require_reason(reason)
        self._withdrawn(at_stage=self.stage.value, reason=reason, actor=actor)

    @event("Withdrawn")
    def _withdrawn(self, at_stage: str, reason: str, actor: dict[str, Any]) -> None:
        self.stage = Stage.WITHDRAWN
        self.closing_reason = reason

    # --- money ------------------------------------------------------------------------

    @property
    def paid_total(self) -> int:
        return sum(p["amount"] for p in self.payments.values() if p["status"] == "paid")

    @property
    def goods_total(self) -> int:
        return sum(g["value"] for g in self.goods)

    def pay(self, payment_id: str, amount: int, batch_id: str, bank_ref: str, fund: UUID,
            actor: dict[str, Any]) -> None:
        """发放 to the household's 一卡通 account: never before approval, never above the approved amount."""
        if self.stage not in (Stage.APPROVED, Stage.PAID):
            raise _wrong_stage(self.stage, "发放")
        require_positive(amount, "amount_fen")
        if payment_id in self.payments:
            raise Conflict("支付编号重复", "duplicate payment id", code="duplicate_payment")
        remaining = self.approved_amount - self.paid_total
        if amount > remaining:
            raise InvalidInput(
                "发放金额超过核定未发金额", "the payment exceeds the approved amount still unpaid",
                fields=[FieldProblem("amount_fen", "above_approved", f"at most {remaining} fen remain")],
                details={"remaining_fen": remaining}, code="above_approved",
            )
        self._paid(payment_id=payment_id, amount=amount, batch_id=batch_id, bank_ref=bank_ref, fund_id=fund,
                   actor=actor)

    @event("PaymentMade")
    def _paid(self, payment_id: str, amount: int, batch_id: str, bank_ref: str, fund_id: UUID,
              actor: dict[str, Any]) -> None:
        self.payments[payment_id] = {"amount": amount, "batch_id": batch_id, "bank_ref": bank_ref,
                                     "fund_id": fund_id, "status": "paid"}
        self._restage()

    def payment_came_back(self, payment_id: str, reason: str, reversal: bool, actor: dict[str, Any]) -> int:
        """退回 (bank return / failed) or 冲正 (reversal): the money goes back to the fund."""
        payment = self.payments.get(payment_id)
        if payment is None or payment["status"] != "paid":
            raise Conflict("没有该笔已发放的款项", "no such paid payment", code="no_such_payment")
        require_reason(reason)
        if reversal:
            self._reversed(payment_id=payment_id, reason=reason, actor=actor)
        else:
            self._returned(payment_id=payment_id, reason=reason, actor=actor)
        return int(payment["amount"])

    @event("PaymentReturned")
    def _returned(self, payment_id: str, reason: str, actor: dict[str, Any]) -> None:
        self.payments[payment_id]["status"] = "returned"
        self._restage()

    @event("PaymentReversed")
    def _reversed(self, payment_id: str, reason: str, actor: dict[str, Any]) -> None:
        self.payments[payment_id]["status"] = "reversed"
        self._restage()

    def issue_goods(self, item: str, quantity: int, value: int, issued_on: date, actor: dict[str, Any]) -> None:
        """救助物资 issued to the household, valued in fen (物资折款)."""
        if self.stage not in (Stage.APPROVED, Stage.PAID):
            raise _wrong_stage(self.stage, "发放物资")
        require_positive(quantity, "quantity")
        if value < 0:
            raise InvalidInput("折款不能为负", "the value must not be negative",
                               fields=[FieldProblem("value_fen", "negative", "≥ 0")])
        self._goods_issued(item=item, quantity=quantity, value=value, issued_on=issued_on, actor=actor)

    @event("GoodsIssued")
    def _goods_issued(self, item: str, quantity: int, value: int, issued_on: date, actor: dict[str, Any]) -> None:
        self.goods.append({"item": item, "quantity": quantity, "value": value, "issued_on": issued_on})

    # --- rules ------------------------------------------------------------------------

    def _restage(self) -> None:
        if self.stage in (Stage.APPROVED, Stage.PAID):
            self.stage = Stage.PAID if self.paid_total >= self.approved_amount else Stage.APPROVED

    def _require(self, stage: Stage, step: str) -> None:
        if self.stage is not stage:
            raise _wrong_stage(self.stage, step)

    def _require_posting_done(self, today: date) -> None:
        assert self.posting is not None
        if today <= self.posting["end"]:
            raise Conflict(
                f"公示期至 {self.posting['end']} 结束后才能审核", f"the posting runs until {self.posting['end']}",
                code="posting_not_ended",
            )
        open_ = [k for k, o in self.objections.items() if o["resolution"] is None]
        if open_:
            raise Conflict("尚有未处理的异议", "objections are still open", details={"objections": open_},
                           code="objections_open")


class CaseClaim(Aggregate):
    """One open case per (programme, period, household head ID) — keyed by a keyed hash."""

    @classmethod
    def create_id(cls, programme: str, period: str, id_hash: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"/relief-claims/{programme}/{period}/{id_hash}")

    @event("Claimed")
    def __init__(self, programme: str, period: str, id_hash: str, case_id: UUID) -> None:
        self.case_id: UUID | None = case_id

    def take(self, case_id: UUID) -> None:
        if self.case_id is not None:
            raise _duplicate_case(self.case_id)
        self._taken(case_id=case_id)

    @event("Taken")
    def _taken(self, case_id: UUID) -> None:
        self.case_id = case_id

    def release(self, case_id: UUID) -> None:
        if self.case_id == case_id:
            self._released(case_id=case_id)

    @event("Released")
    def _released(self, case_id: UUID) -> None:
        self.case_id = None


def _duplicate_case(case_id: UUID) -> Conflict:
    return Conflict("该户主在本项目本期已有未结案件", "this household head already has an open case in this programme and period",
                    details={"existing_id": str(case_id)}, code="duplicate_case")


def _wrong_stage(stage: Stage, step: str) -> Conflict:
    return Conflict(f"当前环节（{stage.value}）不能{step}", f"cannot do {step} at stage {stage.value}",
                    details={"stage": stage.value}, code="wrong_stage")
