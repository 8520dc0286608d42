"""HousingCase (倒损住房恢复重建 一户一档): one household's file from the damage to moving in.

The chain (自然灾害救助条例 Art 19–20, 应急〔2023〕30号): application with the damage
assessed → village deliberation (四议两公开, minutes) → 公示 (the shared posting
step, objections) → 乡审 → 县批 (the subsidy from the configured table, its
version recorded; above it only with a written reason) → agreement (subsidy,
planned 开工 / 竣工 dates, the tranche schedule) → 开工 → 竣工 → 验收 (passed,
or failed with reasons and re-inspected) → 入住 → 销号. 购房安置 has no 开工 or
竣工; 维修加固 has no 入住. No step is skipped or recorded before the one it
follows; a stated date may not precede the previous step's nor lie in the
future; a 开工 or 竣工 later than the agreement's date is flagged with the delay.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.households import posting as public_posting
from ledger.relief.checks import require_positive, require_reason
from ledger.store.errors import Conflict, FieldProblem, InvalidInput
from ledger.store.snapshots import Snapshotted


class Step(StrEnum):
    APPLIED = "applied"  # 申请, damage assessed
    DELIBERATED = "deliberated"  # 村评议 (四议两公开)
    POSTED = "posted"  # 公示
    TOWNSHIP_REVIEWED = "township_reviewed"  # 乡审
    APPROVED = "approved"  # 县批
    AGREED = "agreed"  # 协议
    STARTED = "started"  # 开工
    COMPLETED = "completed"  # 竣工
    ACCEPTED = "accepted"  # 验收通过
    MOVED_IN = "moved_in"  # 入住
    CLOSED = "closed"  # 销号
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_HEAD = (Step.APPLIED, Step.DELIBERATED, Step.POSTED, Step.TOWNSHIP_REVIEWED, Step.APPROVED, Step.AGREED)
SEQUENCES = {
    "rebuild": (*_HEAD, Step.STARTED, Step.COMPLETED, Step.ACCEPTED, Step.MOVED_IN, Step.CLOSED),
    "purchase": (*_HEAD, Step.ACCEPTED, Step.MOVED_IN, Step.CLOSED),
    "repair": (*_HEAD, Step.STARTED, Step.COMPLETED, Step.ACCEPTED, Step.CLOSED),
}
KIND_OF_MODE = {"in_situ": "rebuild", "relocation": "rebuild", "centralized": "rebuild", "purchase": "purchase",
                "repair": "repair"}
ENDED = (Step.CLOSED, Step.REJECTED, Step.WITHDRAWN)


class HousingCase(Snapshotted, Aggregate):
    """倒损住房 一户一档."""

    @event("Applied")
    def __init__(self, *, disaster_id: UUID, disaster_year: int, county: str, township: str, village: str,
                 head_name: str, id_number: str, id_hash: str, phone: str, card_number: str, address: str,
                 members: list[dict[str, Any]], damage: str, rooms: int, evidence: list[dict[str, str]],
                 assessed_on: date, mode: str, flood_storage: bool, applied_on: date, linked_relief: list[UUID],
                 actor: dict[str, Any]) -> None:
        self.disaster_id, self.disaster_year = disaster_id, disaster_year
        self.county, self.township, self.village = county, township, village
        self.head_name, self.id_number, self.id_hash = head_name, id_number, id_hash
        self.phone, self.card_number, self.address, self.members = phone, card_number, address, members
        self.damage, self.rooms, self.evidence, self.assessed_on = damage, rooms, evidence, assessed_on
        self.mode, self.flood_storage, self.linked_relief = mode, flood_storage, linked_relief
        self.step = Step.APPLIED
        self.stated: dict[str, date] = {Step.APPLIED.value: applied_on}
        self.deliberation: dict[str, Any] | None = None
        self.posting: dict[str, Any] | None = None
        self.objections: dict[str, dict[str, Any]] = {}
        self.subsidy = 0
        self.approval: dict[str, Any] | None = None
        self.agreement: dict[str, Any] | None = None
        self.inspections: list[dict[str, Any]] = []
        self.delays: dict[str, int] = {}
        self.tranches: dict[str, dict[str, Any]] = {}  # payment id → tranche, amount, status
        self.other_money: list[dict[str, Any]] = []
        self.progress: list[date] = []
        self.closing_reason: str | None = None

    @property
    def sequence(self) -> tuple[Step, ...]:
        return SEQUENCES[KIND_OF_MODE[self.mode]]

    def next_step(self) -> Step | None:
        if self.step in ENDED[1:]:
            return None
        at = self.sequence.index(self.step)
        return self.sequence[at + 1] if at + 1 < len(self.sequence) else None

    # --- the chain -----------------------------------------------------------------------------

    def deliberate(self, minutes_ref: str, held_on: date, today: date, actor: dict[str, Any]) -> None:
        """村评议: 四议两公开, with the minutes referenced."""
        self._ready(Step.DELIBERATED, held_on, today)
        if not minutes_ref.strip():
            raise InvalidInput("须注明评议记录", "the deliberation minutes must be referenced",
                               fields=[FieldProblem("minutes_ref", "required", "四议两公开 minutes")])
        self._deliberated(minutes_ref=minutes_ref, held_on=held_on, actor=actor)

    @event("Deliberated")
    def _deliberated(self, minutes_ref: str, held_on: date, actor: dict[str, Any]) -> None:
        self.deliberation = {"minutes_ref": minutes_ref, "held_on": held_on}
        self._moved(Step.DELIBERATED, held_on)

    class Posted(Aggregate.Event):
        start: date
        end: date
        place: str
        reason: str | None
        backdated_days: int
        actor: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.posting = public_posting.posting_state(self.start, self.end, self.place, self.timestamp,
                                                             self.reason, self.backdated_days)
            aggregate._moved(Step.POSTED, self.start)

    def post(self, start: date, end: date, place: str, reason: str | None, today: date,
             rules: public_posting.PostingRules, actor: dict[str, Any]) -> None:
        self._ready(Step.POSTED, None, today)
        assert self.deliberation is not None
        facts = public_posting.check_posting(start, end, place, self.deliberation["held_on"], today, rules, reason)
        self.trigger_event(self.Posted, start=facts.start, end=facts.end, place=facts.place, reason=facts.reason,
                           backdated_days=facts.backdated_days, actor=actor)

    def raise_objection(self, objection_id: str, summary: str, raised_on: date, today: date,
                        actor: dict[str, Any]) -> None:
        if self.step is not Step.POSTED:
            raise _skipped(self.step, "异议", None)
        public_posting.check_objection(self.posting, raised_on, today)
        self._objection_raised(objection_id=objection_id, summary=summary, raised_on=raised_on, actor=actor)

    @event("ObjectionRaised")
    def _objection_raised(self, objection_id: str, summary: str, raised_on: date, actor: dict[str, Any]) -> None:
        self.objections[objection_id] = {"summary": summary, "raised_on": raised_on, "resolution": None}

    def resolve_objection(self, objection_id: str, resolution: str, upheld: bool, actor: dict[str, Any]) -> None:
        found = self.objections.get(objection_id)
        if found is None or found["resolution"] is not None:
            raise Conflict("没有待处理的该异议", "no such open objection", code="no_open_objection")
        require_reason(resolution, "resolution")
        self._objection_resolved(objection_id=objection_id, resolution=resolution, upheld=upheld, actor=actor)

    @event("ObjectionResolved")
    def _objection_resolved(self, objection_id: str, resolution: str, upheld: bool, actor: dict[str, Any]) -> None:
        self.objections[objection_id].update(resolution=resolution, upheld=upheld)
        if upheld:
            self.step = Step.REJECTED
            self.closing_reason = f"异议成立: {resolution}"

    def review(self, stated_on: date, now: Any, today: date, rules: public_posting.PostingRules,
               actor: dict[str, Any]) -> None:
        """乡审 — only once the posting has run its days (stated and recorded) and objections are resolved."""
        self._ready(Step.TOWNSHIP_REVIEWED, stated_on, today)
        assert self.posting is not None
        public_posting.require_posting_done(self.posting, self.objections, now, today, rules)
        self._reviewed(stated_on=stated_on, actor=actor)

    @event("TownshipReviewed")
    def _reviewed(self, stated_on: date, actor: dict[str, Any]) -> None:
        self._moved(Step.TOWNSHIP_REVIEWED, stated_on)

    def approve(self, subsidy: int, standard_fen: int, row: dict[str, Any], table_version: str, reason: str | None,
                stated_on: date, today: date, actor: dict[str, Any]) -> None:
        """县批: the subsidy from the standard table; above it only with a written reason (listed for audit)."""
        self._ready(Step.APPROVED, stated_on, today)
        require_positive(subsidy, "subsidy_fen")
        above = subsidy > standard_fen
        if above and not (reason and reason.strip()):
            raise InvalidInput("补助超过标准，须书面说明", "the subsidy is above the standard; a written reason is required",
                               fields=[FieldProblem("reason", "above_standard", f"the standard is {standard_fen} fen")],
                               details={"standard_fen": standard_fen, "row": row["id"]}, code="above_standard")
        self._approved(subsidy=subsidy, standard_fen=standard_fen, row=row, table_version=table_version,
                       above_standard=above, reason=reason, stated_on=stated_on, actor=actor)

    @event("CountyApproved")
    def _approved(self, subsidy: int, standard_fen: int, row: dict[str, Any], table_version: str,
                  above_standard: bool, reason: str | None, stated_on: date, actor: dict[str, Any]) -> None:
        self.subsidy = subsidy
        self.approval = {"standard_fen": standard_fen, "row": row, "table_version": table_version,
                         "above_standard": above_standard, "reason": reason}
        self._moved(Step.APPROVED, stated_on)

    def agree(self, signed_on: date, planned_start: date | None, planned_completion: date | None,
              tranches: list[dict[str, Any]], today: date, actor: dict[str, Any]) -> None:
        """协议: the subsidy told to the household once, the planned dates, the tranche schedule."""
        self._ready(Step.AGREED, signed_on, today)
        building = Step.STARTED in self.sequence
        if building and (planned_start is None or planned_completion is None):
            raise InvalidInput("须约定开工和竣工日期", "the planned start and completion dates are required",
                               fields=[FieldProblem("planned_start", "required", "开工 and 竣工 dates")])
        if building and not signed_on <= planned_start <= planned_completion:  # type: ignore[operator]
            raise InvalidInput("约定日期有误", "the planned dates must follow the agreement and each other",
                               fields=[FieldProblem("planned_completion", "bad_order", "signed ≤ start ≤ completion")])
        self._agreed(signed_on=signed_on, planned_start=planned_start if building else None,
                     planned_completion=planned_completion if building else None, subsidy=self.subsidy,
                     tranches=tranches, actor=actor)

    @event("AgreementSigned")
    def _agreed(self, signed_on: date, planned_start: date | None, planned_completion: date | None, subsidy: int,
                tranches: list[dict[str, Any]], actor: dict[str, Any]) -> None:
        self.agreement = {"signed_on": signed_on, "planned_start": planned_start,
                          "planned_completion": planned_completion, "subsidy": subsidy, "tranches": tranches}
        self._moved(Step.AGREED, signed_on)

    def record_step(self, step: Step, stated_on: date, today: date, actor: dict[str, Any]) -> None:
        """开工, 竣工, 入住 or 销号, in order; a 开工 / 竣工 after the agreed date is flagged with the delay."""
        if step not in (Step.STARTED, Step.COMPLETED, Step.MOVED_IN, Step.CLOSED):
            raise InvalidInput("未知环节", "unknown step", fields=[FieldProblem("step", "bad_step", step.value)])
        self._ready(step, stated_on, today)
        if step is Step.CLOSED and self.unpaid() > 0:
            raise Conflict("补助未发放完毕，不能销号", "the subsidy is not fully paid; the file cannot be closed",
                           details={"unpaid_fen": self.unpaid()}, code="subsidy_unpaid")
        planned = {Step.STARTED: "planned_start", Step.COMPLETED: "planned_completion"}.get(step)
        due = self.agreement.get(planned) if planned and self.agreement else None
        delay = (stated_on - due).days if due and stated_on > due else 0
        self._step_recorded(step=step.value, stated_on=stated_on, delay_days=delay, actor=actor)

    @event("StepRecorded")
    def _step_recorded(self, step: str, stated_on: date, delay_days: int, actor: dict[str, Any]) -> None:
        if delay_days:
            self.delays[step] = delay_days
        self._moved(Step(step), stated_on)

    def inspect(self, passed: bool, reasons: str | None, stated_on: date, today: date,
                actor: dict[str, Any]) -> None:
        """验收: passed moves on; failed is recorded with its reasons and the case waits for re-inspection."""
        self._ready(Step.ACCEPTED, stated_on, today)
        if not passed:
            require_reason(reasons, "reasons")
        self._inspected(passed=passed, reasons=reasons, stated_on=stated_on, actor=actor)

    @event("Inspected")
    def _inspected(self, passed: bool, reasons: str | None, stated_on: date, actor: dict[str, Any]) -> None:
        self.inspections.append({"passed": passed, "reasons": reasons, "stated_on": stated_on})
        if passed:
            self._moved(Step.ACCEPTED, stated_on)

    def report_progress(self, stated_on: date, note: str, today: date, actor: dict[str, Any]) -> None:
        """进度报告 (the 20-day rhythm) while the household has not moved in."""
        if self.step in ENDED or self.step in (Step.MOVED_IN,):
            raise _skipped(self.step, "进度报告", None)
        if stated_on > today:
            raise InvalidInput("日期不能晚于今天", "the date cannot be in the future",
                               fields=[FieldProblem("stated_on", "in_future", "not after today")])
        self._progress(stated_on=stated_on, note=note, actor=actor)

    @event("ProgressReported")
    def _progress(self, stated_on: date, note: str, actor: dict[str, Any]) -> None:
        self.progress.append(stated_on)

    def reject(self, reason: str, actor: dict[str, Any]) -> None:
        if self.step in ENDED or self.step not in _HEAD[:5]:
            raise _skipped(self.step, "驳回", None)
        require_reason(reason)
        self._closed_early(step=Step.REJECTED.value, reason=reason, actor=actor)

    def withdraw(self, reason: str, actor: dict[str, Any]) -> None:
        if self.step in ENDED or self.tranches:
            raise _skipped(self.step, "撤回", None)
        require_reason(reason)
        self._closed_early(step=Step.WITHDRAWN.value, reason=reason, actor=actor)

    @event("ClosedEarly")
    def _closed_early(self, step: str, reason: str, actor: dict[str, Any]) -> None:
        self.step = Step(step)
        self.closing_reason = reason

    # --- money -----------------------------------------------------------------------------------

    def paid(self) -> int:
        return sum(t["amount"] for t in self.tranches.values() if t["status"] == "paid")

    def unpaid(self) -> int:
        return self.subsidy - self.paid()

    def tranche_due(self, number: int) -> int:
        """What tranche `number` (1-based) still lacks: its share (the last takes the remainder) less what stands."""
        assert self.agreement is not None
        schedule = self.agreement["tranches"]
        shares = [self.subsidy * t["percent"] // 100 for t in schedule]
        shares[-1] = self.subsidy - sum(shares[:-1])
        standing = sum(t["amount"] for t in self.tranches.values() if t["tranche"] == number and t["status"] == "paid")
        return shares[number - 1] - standing

    def pay_tranche(self, number: int, payment_id: str, fund_id: UUID, bank_ref: str, actor: dict[str, Any]) -> int:
        """A tranche from the fund once its step is reached: never twice, never above the approved subsidy."""
        if self.agreement is None or self.step in (Step.REJECTED, Step.WITHDRAWN):
            raise _skipped(self.step, "拨付补助", Step.AGREED)
        schedule = self.agreement["tranches"]
        if not 1 <= number <= len(schedule):
            raise InvalidInput("没有该批次", "no such tranche",
                               fields=[FieldProblem("tranche", "unknown", f"1 … {len(schedule)}")])
        at = Step(schedule[number - 1]["at"])
        if self.sequence.index(self.step if self.step is not Step.CLOSED else Step.CLOSED) < self.sequence.index(at):
            raise Conflict(f"第 {number} 批补助须在{at.value}后拨付", f"tranche {number} is payable from {at.value}",
                           details={"payable_at": at.value, "step": self.step.value}, code="tranche_not_due")
        amount = self.tranche_due(number)
        if amount <= 0:
            raise Conflict(f"第 {number} 批补助已拨付", f"tranche {number} is already paid",
                           details={"tranche": number}, code="tranche_paid")
        self._tranche_paid(tranche=number, payment_id=payment_id, amount=amount, fund_id=fund_id, bank_ref=bank_ref,
                           actor=actor)
        return amount

    @event("TranchePaid")
    def _tranche_paid(self, tranche: int, payment_id: str, amount: int, fund_id: UUID, bank_ref: str,
                      actor: dict[str, Any]) -> None:
        self.tranches[payment_id] = {"tranche": tranche, "amount": amount, "fund_id": fund_id, "status": "paid",
                                     "bank_ref": bank_ref}

    def tranche_came_back(self, payment_id: str, reason: str, actor: dict[str, Any]) -> int:
        paid = self.tranches.get(payment_id)
        if paid is None or paid["status"] != "paid":
            raise Conflict("没有该笔已拨付的补助", "no such paid tranche", code="no_such_payment")
        require_reason(reason)
        self._tranche_returned(payment_id=payment_id, reason=reason, actor=actor)
        return int(paid["amount"])

    @event("TrancheReturned")
    def _tranche_returned(self, payment_id: str, reason: str, actor: dict[str, Any]) -> None:
        self.tranches[payment_id]["status"] = "returned"

    def record_other_money(self, kind: str, amount: int, stated_on: date, note: str, today: date,
                           actor: dict[str, Any]) -> None:
        """互助, 自筹, 保险, 社会捐赠 — recorded beside the subsidy, never drawn from the fund."""
        if kind not in OTHER_MONEY:
            raise InvalidInput("资金类型无效", "unknown kind of money",
                               fields=[FieldProblem("kind", "bad_kind", ", ".join(OTHER_MONEY))])
        require_positive(amount, "amount_fen")
        if stated_on > today:
            raise InvalidInput("日期不能晚于今天", "the date cannot be in the future",
                               fields=[FieldProblem("stated_on", "in_future", "not after today")])
        self._other_money(kind=kind, amount=amount, stated_on=stated_on, note=note, actor=actor)

    @event("OtherMoneyRecorded")
    def _other_money(self, kind: str, amount: int, stated_on: date, note: str, actor: dict[str, Any]) -> None:
        self.other_money.append({"kind": kind, "amount": amount, "stated_on": stated_on, "note": note})

    # --- rules -----------------------------------------------------------------------------------

    def _ready(self, step: Step, stated_on: date | None, today: date) -> None:
        """`step` must be the next of this mode; its stated date not before the last one's, not after today."""
        expected = self.next_step()
        if step is not expected:
            raise _skipped(self.step, step.value, expected)
        if stated_on is None:
            return
        last = max(self.stated.values())
        problem = None
        if stated_on > today:
            problem = FieldProblem("stated_on", "in_future", "not after today")
        elif stated_on < last:
            problem = FieldProblem("stated_on", "before_previous_step", f"not before the previous step ({last})")
        if problem:
            raise InvalidInput("环节日期有误", "the step's date is invalid", fields=[problem])

    def _moved(self, step: Step, stated_on: date) -> None:
        self.step = step
        self.stated[step.value] = stated_on


OTHER_MONEY = {"mutual_aid": "互助", "self_raised": "自筹", "insurance": "保险", "donation": "社会捐赠"}


def _skipped(step: Step, doing: str, expected: Step | None) -> Conflict:
    return Conflict(
        f"当前环节（{step.value}）不能{doing}" + (f"，下一环节应为 {expected.value}" if expected else ""),
        f"cannot do {doing} at step {step.value}" + (f"; the next step is {expected.value}" if expected else ""),
        details={"step": step.value, "expected": expected.value if expected else None}, code="step_skipped")
