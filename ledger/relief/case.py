"""ReliefCase (救助对象): one household in one programme and period, 户报 → 村评 → 公示 → 乡审 → 县定 → 发放."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.households import posting as public_posting
from ledger.relief.checks import check_goods_receipt, check_payment_method, require_positive, require_reason
from ledger.relief.claim import CaseClaim
from ledger.relief.programmes import Programme
from ledger.store.errors import Conflict, FieldProblem, InvalidInput
from ledger.store.snapshots import Snapshotted

__all__ = ["CLOSED", "CaseClaim", "ReliefCase", "Stage"]  # CaseClaim: stored events name it here


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


class ReliefCase(Snapshotted, Aggregate):
    """救助对象: one household (head and members) in one programme and period."""

    class Applied(Aggregate.Created):
        programme: str
        period: str
        county: str
        township: str
        village: str
        head_name: str
        id_number: str
        id_hash: str
        phone: str
        card_number: str  # "" when the household has no 一卡通 card
        household_type: str
        household_size: int
        people_in_need: int
        address: str
        causes: list[str]
        needs: list[str]
        applied_on: date
        review_flags: list[str]
        actor: dict[str, Any]
        members: list[dict[str, Any]]
        disaster_id: UUID | None
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["members"] = []
            state["disaster_id"] = None

    @event(Applied)
    def __init__(
        self, *, programme: str, period: str, county: str, township: str, village: str, head_name: str,
        id_number: str, id_hash: str, phone: str, card_number: str, household_type: str, household_size: int,
        people_in_need: int, address: str, causes: list[str], needs: list[str], applied_on: date,
        review_flags: list[str], actor: dict[str, Any], members: list[dict[str, Any]], disaster_id: UUID | None,
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
        self.applied_on = applied_on
        self.review_flags = review_flags
        self.members = members
        self.disaster_id = disaster_id
        self.stage = Stage.APPLIED
        self.assessment: dict[str, Any] | None = None
        self.posting: dict[str, Any] | None = None
        self.objections: dict[str, dict[str, Any]] = {}
        self.approved_amount = 0
        self.payments: dict[str, dict[str, Any]] = {}
        self.goods: list[dict[str, Any]] = []
        self.closing_reason: str | None = None

    # --- the chain ------------------------------------------------------------------

    def assess(self, minutes_ref: str, approved: bool, held_on: date, today: date, actor: dict[str, Any]) -> None:
        """村评: the villagers' representatives' democratic assessment (minutes referenced)."""
        self._require(Stage.APPLIED, "村评")
        problems = []
        if not minutes_ref.strip():
            problems.append(FieldProblem("minutes_ref", "required", "the minutes' reference"))
        if held_on > today:
            problems.append(FieldProblem("held_on", "in_future", "not after today"))
        elif held_on < self.applied_on:
            problems.append(FieldProblem("held_on", "before_application", f"not before the 户报 ({self.applied_on})"))
        if problems:
            raise InvalidInput("村评记录有误", "the assessment is invalid", fields=problems)
        self._assessed(minutes_ref=minutes_ref, approved=approved, held_on=held_on, actor=actor)

    @event("VillageAssessed")
    def _assessed(self, minutes_ref: str, approved: bool, held_on: date, actor: dict[str, Any]) -> None:
        self.assessment = {"minutes_ref": minutes_ref, "approved": approved, "held_on": held_on}
        if approved:
            self.stage = Stage.ASSESSED
        else:
            self.stage = Stage.REJECTED
            self.closing_reason = f"村评未通过 ({minutes_ref})"

    class Posted(Aggregate.Event):
        start: date
        end: date
        place: str
        actor: dict[str, Any]
        reason: str | None
        backdated_days: int
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = None
            state["backdated_days"] = 0

        def apply(self, aggregate: Any) -> None:
            aggregate.posting = public_posting.posting_state(self.start, self.end, self.place, self.timestamp,
                                                             self.reason, self.backdated_days)
            aggregate.stage = Stage.POSTED

    def post(self, start: date, end: date, place: str, reason: str | None, today: date,
             rules: public_posting.PostingRules, actor: dict[str, Any]) -> None:
        """公示: public posting for at least the configured days; never before the 村评, never backdated
        beyond the tolerance without a written reason."""
        self._require(Stage.ASSESSED, "公示")
        assert self.assessment is not None
        facts = public_posting.check_posting(start, end, place, self.assessment["held_on"], today, rules, reason)
        self.trigger_event(self.Posted, start=facts.start, end=facts.end, place=facts.place, actor=actor,
                           reason=facts.reason, backdated_days=facts.backdated_days)

    def raise_objection(self, objection_id: str, summary: str, raised_on: date, today: date,
                        actor: dict[str, Any]) -> None:
        if self.stage is not Stage.POSTED:
            raise _wrong_stage(self.stage, "异议")
        if objection_id in self.objections:
            raise Conflict("异议编号重复", "duplicate objection id", code="duplicate_objection")
        public_posting.check_objection(self.posting, raised_on, today)
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

    def review(self, now: datetime, today: date, rules: public_posting.PostingRules, actor: dict[str, Any]) -> None:
        """乡审: only after the posting has ended (stated dates and recorded time) and every objection is resolved."""
        self._require(Stage.POSTED, "乡审")
        assert self.posting is not None
        public_posting.require_posting_done(self.posting, self.objections, now, today, rules)
        self._township_reviewed(actor=actor)

    @event("TownshipReviewed")
    def _township_reviewed(self, actor: dict[str, Any]) -> None:
        self.stage = Stage.TOWNSHIP_REVIEWED

    class CountyApproved(Aggregate.Event):
        amount: int
        cap: int
        above_cap: bool
        reason: str | None
        rules_version: str
        actor: dict[str, Any]
        floor: int | None
        standard: dict[str, Any] | None
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["floor"] = None
            state["standard"] = None

        def apply(self, aggregate: Any) -> None:
            aggregate.approved_amount = self.amount
            aggregate.stage = Stage.APPROVED

    def approve(self, amount: int, floor: int | None, cap: int | None, standard: dict[str, Any],
                reason: str | None, now: datetime, today: date, rules: public_posting.PostingRules,
                rules_version: str, actor: dict[str, Any]) -> None:
        """县定: the approved amount; never below the standard's floor, above its ceiling only with a written reason."""
        self._require(Stage.TOWNSHIP_REVIEWED, "县定")
        assert self.posting is not None
        public_posting.require_posting_done(self.posting, self.objections, now, today, rules)
        require_positive(amount, "amount_fen")
        if floor is not None and amount < floor:
            raise InvalidInput(
                "核定金额低于救助标准", "the amount is below the standard's floor",
                fields=[FieldProblem("amount_fen", "below_standard", f"the standard requires at least {floor} fen")],
                details={"floor_fen": floor, "standard": standard["id"]}, code="below_standard",
            )
        above = cap is not None and amount > cap
        if above and not (reason and reason.strip()):
            raise InvalidInput(
                "核定金额超过标准，须书面说明", "the amount is above the standard; a written reason is required",
                fields=[FieldProblem("reason", "above_standard", f"the standard allows {cap} fen")],
                details={"cap_fen": cap, "standard": standard["id"]}, code="above_standard",
            )
        self.trigger_event(self.CountyApproved, amount=amount, cap=cap if cap is not None else 0, above_cap=above,
                           reason=reason, rules_version=rules_version, actor=actor, floor=floor, standard=standard)

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

    # --- money and goods --------------------------------------------------------------

    @property
    def paid_total(self) -> int:
        return sum(p["amount"] for p in self.payments.values() if p["status"] == "paid")

    @property
    def goods_total(self) -> int:
        return sum(g["value"] for g in self.goods)

    class PaymentMade(Aggregate.Event):
        payment_id: str
        amount: int
        batch_id: str
        bank_ref: str
        fund_id: UUID
        actor: dict[str, Any]
        method: str  # card (一卡通) | cash (three-party signatures)
        signatures: list[dict[str, Any]]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["method"] = "card"
            state["signatures"] = []

        def apply(self, aggregate: Any) -> None:
            aggregate.payments[self.payment_id] = {
                "amount": self.amount, "batch_id": self.batch_id, "bank_ref": self.bank_ref, "fund_id": self.fund_id,
                "status": "paid", "method": self.method}
            aggregate._restage()

    def pay(self, payment_id: str, amount: int, batch_id: str, bank_ref: str, fund: UUID, method: str,
            signatures: list[dict[str, Any]], actor: dict[str, Any]) -> None:
        """发放 to the household's 一卡通 account — or, for a household without a card, in cash with
        three-party signatures: never before approval, never above the approved amount."""
        if self.stage not in (Stage.APPROVED, Stage.PAID):
            raise _wrong_stage(self.stage, "发放")
        require_positive(amount, "amount_fen")
        if payment_id in self.payments:
            raise Conflict("支付编号重复", "duplicate payment id", code="duplicate_payment")
        check_payment_method(self.card_number, method, signatures)
        remaining = self.approved_amount - self.paid_total
        if amount > remaining:
            raise InvalidInput(
                "发放金额超过核定未发金额", "the payment exceeds the approved amount still unpaid",
                fields=[FieldProblem("amount_fen", "above_approved", f"at most {remaining} fen remain")],
                details={"remaining_fen": remaining}, code="above_approved",
            )
        self.trigger_event(self.PaymentMade, payment_id=payment_id, amount=amount, batch_id=batch_id,
                           bank_ref=bank_ref, fund_id=fund, actor=actor, method=method, signatures=signatures)

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

    class GoodsIssued(Aggregate.Event):
        item: str
        quantity: int
        value: int
        issued_on: date
        actor: dict[str, Any]
        goods_id: str
        delivered_at: datetime | None
        evidence: list[dict[str, str]]
        signatures: list[dict[str, Any]]
        disaster_id: UUID | None
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(goods_id="", delivered_at=None, evidence=[], signatures=[], disaster_id=None)

        def apply(self, aggregate: Any) -> None:
            aggregate.goods.append({"goods_id": self.goods_id, "item": self.item, "quantity": self.quantity,
                                    "value": self.value, "issued_on": self.issued_on,
                                    "delivered_at": self.delivered_at, "evidence": self.evidence,
                                    "disaster_id": self.disaster_id})

    def issue_goods(self, goods_id: str, item: str, quantity: int, value: int, delivered_at: datetime,
                    evidence: list[dict[str, str]], signatures: list[dict[str, Any]], disaster_id: UUID | None,
                    actor: dict[str, Any]) -> None:
        """救助物资 delivered to the household, valued in fen (物资折款), with evidence of the delivery; a
        household without a card signs with the village and the township. 应急期 goods (food, water,
        bedding: 条例 Art 14) go out from the 户报 on; other programmes' after 县定."""
        early = self.programme == Programme.EMERGENCY.value and self.stage not in CLOSED
        if not early and self.stage not in (Stage.APPROVED, Stage.PAID):
            raise _wrong_stage(self.stage, "发放物资")
        require_positive(quantity, "quantity")
        if value < 0:
            raise InvalidInput("折款不能为负", "the value must not be negative",
                               fields=[FieldProblem("value_fen", "negative", "≥ 0")])
        check_goods_receipt(self.card_number, signatures)
        self.trigger_event(self.GoodsIssued, item=item, quantity=quantity, value=value,
                           issued_on=delivered_at.date(), actor=actor, goods_id=goods_id, delivered_at=delivered_at,
                           evidence=evidence, signatures=signatures, disaster_id=disaster_id)

    # --- rules ------------------------------------------------------------------------

    def _restage(self) -> None:
        if self.stage in (Stage.APPROVED, Stage.PAID):
            self.stage = Stage.PAID if self.paid_total >= self.approved_amount else Stage.APPROVED

    def _require(self, stage: Stage, step: str) -> None:
        if self.stage is not stage:
            raise _wrong_stage(self.stage, step)


def _wrong_stage(stage: Stage, step: str) -> Conflict:
    return Conflict(f"当前环节（{stage.value}）不能{step}", f"cannot do {step} at stage {stage.value}",
                    details={"stage": stage.value}, code="wrong_stage")
