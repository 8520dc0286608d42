"""Use cases of relief: funds, household cases (户报 → 村评 → 公示 → 乡审 → 县定), payments.

Who may do what (scope = area-code prefix):
- township staff file applications and record the village assessment, the
  posting, objections and the township review for villages in their scope;
- county officers and relief officers approve, allocate, pay and record
  returned payments in their county (city and province may allocate);
- auditors read only.
A payment saves the case and the fund in one transaction; a lost race is
retried against the new balance, so concurrent payments never overdraw.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger.households.evidence import Evidence, Signature, check_evidence, check_signatures
from ledger.households.links import DisasterHousehold, household_id
from ledger.personal.access import PersonalDataExported, PersonalDataViewed
from ledger.relief.applications import (
    Application,
    CheckedApplication,
    check_application,
    check_disaster,
)
from ledger.relief.case import CaseClaim, ReliefCase, Stage
from ledger.relief.fund import ReliefFund
from ledger.relief.funding import FundUseCases
from ledger.relief.programmes import Programme
from ledger.store import actors
from ledger.store.actors import Actor, Role
from ledger.store.commands import CommandResult, IdempotencyKey, check_version, run
from ledger.store.dates import EARLIEST
from ledger.store.errors import Conflict, FieldProblem, InvalidInput, NotFound, NotPermitted, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


CHINA = ZoneInfo("Asia/Shanghai")


VILLAGE_ROLES = (Role.TOWNSHIP, Role.COUNTY, Role.RELIEF_OFFICER)


COUNTY_ROLES = (Role.COUNTY, Role.RELIEF_OFFICER)


FULL_VIEW_ROLES = (Role.COUNTY, Role.RELIEF_OFFICER)


class ReliefService(FundUseCases):
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    # --- cases -----------------------------------------------------------------------

    def apply(self, actor: Actor, a: Application, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """户报. One open case per (programme, period, household head); the same head in another
        programme of the period is flagged for review."""
        checked = self.check_application(actor, a)

        def attempt() -> tuple[ReliefCase, list[Any], int]:
            links: dict[UUID, Any] = {}
            case, claim = self._new_case(actor, checked, links=links)
            return case, [claim, *links.values()], 201

        return run(self.app, attempt, idempotency)

    def apply_many(self, actor: Actor, applications: list[Application]) -> list[UUID]:
        """Import: every application is checked first; then all are saved in one transaction, or none."""
        checked = [self.check_application(actor, a) for a in applications]
        hashes = [(c.programme, c.period, c.id_hash) for c in checked]
        if len(set(hashes)) != len(hashes):
            raise InvalidInput("文件中同一户主在同一项目重复申请", "the same household head applies twice in the file",
                               code="duplicate_in_file")
        for _ in range(3):
            aggregates: list[Any] = []
            ids = []
            links: dict[UUID, Any] = {}
            for c in checked:
                in_file = [o.programme for o in checked
                           if o.id_hash == c.id_hash and o.period == c.period and o.programme != c.programme]
                case, claim = self._new_case(actor, c, also_in=in_file, links=links)
                aggregates += [case, claim]
                ids.append(case.id)
            try:
                self.app.save(*aggregates, *links.values())
            except IntegrityError:
                continue  # a concurrent application took a claim first: check again
            return ids
        raise Conflict("并发冲突过多，请稍后重试", "too many concurrent changes; please retry", code="contention")

    def check_application(self, actor: Actor, a: Application) -> CheckedApplication:
        """Validate an application and the actor's right to file it, without saving anything."""
        checked, problems = check_application(self.rt, a, self._today())
        problems.raise_if_any("户报有误", "the application is invalid")
        assert checked is not None
        self._require(actor, VILLAGE_ROLES, checked.village.value)
        return checked

    def _new_case(self, actor: Actor, checked: CheckedApplication, also_in: list[str] | None = None,
                  links: dict[UUID, Any] | None = None) -> tuple[ReliefCase, CaseClaim]:
        """The case and its claim (taken, or refused with the open case's id)."""
        a, village, id_hash, h = checked.application, checked.village, checked.id_hash, checked.household
        others = sorted(set(self._other_open_programmes(a.programme, a.period, id_hash)) | set(also_in or []))
        flags = [f"also_in:{p}" for p in others] + ([] if h.card else ["no_card"])
        case = ReliefCase(
            programme=a.programme, period=a.period, county=village.county, township=village.value[:9],
            village=village.value, head_name=h.household.head_name.strip(), id_number=h.id_number,
            id_hash=id_hash, phone=h.phone, card_number=h.card, household_type=a.household_type,
            household_size=a.household_size, people_in_need=a.people_in_need, address=a.address.strip(),
            causes=list(a.causes), needs=list(a.needs), applied_on=checked.applied_on,
            review_flags=flags, actor=actor.as_dict(), members=h.members_as_dicts(), disaster_id=a.disaster_id,
        )
        claim_id = CaseClaim.create_id(a.programme, a.period, id_hash)
        try:
            claim: CaseClaim = self.app.repository.get(claim_id)
            claim.take(case.id)
        except AggregateNotFoundError:
            claim = CaseClaim(programme=a.programme, period=a.period, id_hash=id_hash, case_id=case.id)
        if a.disaster_id is not None:  # the head's housing file for the same disaster is linked, not refused
            link_id = household_id(a.disaster_id, id_hash)
            links = links if links is not None else {}
            if link_id not in links:
                try:
                    links[link_id] = self.app.repository.get(link_id)
                except AggregateNotFoundError:
                    links[link_id] = DisasterHousehold(disaster_id=a.disaster_id, id_hash=id_hash)
            links[link_id].link_relief(case.id)
        return case, claim

    def assess(self, actor: Actor, case: UUID, minutes_ref: str, approved: bool, held_on: date,
               expected: int | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        today = self._today()
        return self._step(actor, case, VILLAGE_ROLES, expected, idempotency,
                          lambda c: c.assess(minutes_ref, approved, held_on, today, actor.as_dict()),
                          release_when_closed=True)

    def post(self, actor: Actor, case: UUID, start: date, end: date, place: str, reason: str | None = None,
             expected: int | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """公示: never before the 村评, never backdated beyond the tolerance without a written reason."""
        rules, today = self.rt.relief_rules.posting, self._today()
        return self._step(actor, case, VILLAGE_ROLES, expected, idempotency,
                          lambda c: c.post(start, end, place, reason, today, rules, actor.as_dict()))

    def raise_objection(self, actor: Actor, case: UUID, summary: str, raised_on: date,
                        idempotency: IdempotencyKey | None = None) -> CommandResult:
        objection_id = uuid.uuid4().hex[:12]
        today = self._today()
        return self._step(actor, case, VILLAGE_ROLES, None, idempotency,
                          lambda c: c.raise_objection(objection_id, summary, raised_on, today, actor.as_dict()),
                          created={"objection_id": objection_id})

    def resolve_objection(self, actor: Actor, case: UUID, objection_id: str, resolution: str, upheld: bool,
                          idempotency: IdempotencyKey | None = None) -> CommandResult:
        return self._step(actor, case, VILLAGE_ROLES, None, idempotency,
                          lambda c: c.resolve_objection(objection_id, resolution, upheld, actor.as_dict()),
                          release_when_closed=True)

    def township_review(self, actor: Actor, case: UUID, expected: int | None = None,
                        idempotency: IdempotencyKey | None = None) -> CommandResult:
        """乡审: after the posting ended on its dates and `min_days` after it was recorded."""
        now, rules = self.rt.now(), self.rt.relief_rules.posting
        return self._step(actor, case, (Role.TOWNSHIP,), expected, idempotency,
                          lambda c: c.review(now, _china_day(now), rules, actor.as_dict()))

    def approve(self, actor: Actor, case: UUID, amount_fen: int, reason: str | None,
                expected: int | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """县定 with the approved amount, against the standard in force for the village on the day."""
        rules = self.rt.relief_rules
        now = self.rt.now()
        today = _china_day(now)

        def decide(c: ReliefCase) -> None:
            standard = rules.standard_for(c.programme, c.village, today)
            c.approve(amount_fen, standard.floor_for(c.people_in_need), standard.ceiling_for(c.people_in_need),
                      standard.as_dict(), reason, now, today, rules.posting, rules.version, actor.as_dict())

        return self._step(actor, case, COUNTY_ROLES, expected, idempotency, decide)

    def reject(self, actor: Actor, case: UUID, reason: str, expected: int | None = None,
               idempotency: IdempotencyKey | None = None) -> CommandResult:
        return self._step(actor, case, VILLAGE_ROLES, expected, idempotency,
                          lambda c: c.reject(reason, actor.as_dict()), release_when_closed=True)

    def withdraw(self, actor: Actor, case: UUID, reason: str, expected: int | None = None,
                 idempotency: IdempotencyKey | None = None) -> CommandResult:
        return self._step(actor, case, VILLAGE_ROLES, expected, idempotency,
                          lambda c: c.withdraw(reason, actor.as_dict()), release_when_closed=True)

    def pay(self, actor: Actor, case: UUID, amount_fen: int, batch_id: str, bank_ref: str,
            payment_id: str | None = None, idempotency: IdempotencyKey | None = None, method: str = "card",
            signatures: list[Signature] | None = None) -> CommandResult:
        """发放 from the county's fund for the case's programme and period: to the 一卡通 account, or in
        cash with three-party signatures for a household without a card."""
        pid = payment_id or uuid.uuid4().hex
        signed = check_signatures(signatures, self._today()) if signatures else []

        def attempt() -> tuple[ReliefCase, list[Any], int]:
            c = self._case(case)
            self._require(actor, COUNTY_ROLES, c.village)
            fund = self._fund_for(c)
            c.pay(pid, amount_fen, batch_id, bank_ref, fund.id, method, signed, actor.as_dict())
            fund.debit(c.id, pid, amount_fen, actor.as_dict())
            return c, [fund], 201

        return run(self.app, attempt, idempotency, created={"payment_id": pid})

    def payment_came_back(self, actor: Actor, case: UUID, payment_id: str, reason: str, reversal: bool,
                          idempotency: IdempotencyKey | None = None) -> CommandResult:
        """退回 / 冲正: the money returns to the fund; the case may be paid again."""
        def attempt() -> tuple[ReliefCase, list[Any], int]:
            c = self._case(case)
            self._require(actor, COUNTY_ROLES, c.village)
            if payment_id not in c.payments:
                raise NotFound("没有该笔款项", "no such payment")
            fund: ReliefFund = self.app.repository.get(c.payments[payment_id]["fund_id"])
            amount = c.payment_came_back(payment_id, reason, reversal, actor.as_dict())
            fund.credit(c.id, payment_id, amount, reason, actor.as_dict())
            return c, [fund], 200

        return run(self.app, attempt, idempotency)

    def issue_goods(self, actor: Actor, case: UUID, item: str, quantity: int, value_fen: int,
                    delivered_at: datetime | None = None, evidence: list[Evidence] | None = None,
                    signatures: list[Signature] | None = None, disaster_id: UUID | None = None,
                    idempotency: IdempotencyKey | None = None) -> CommandResult:
        """发放物资 with evidence of the delivery; `disaster_id` names the process it answers (timeliness)."""
        now = self.rt.now()
        delivered = delivered_at or now
        problems = Problems()
        if delivered > now + timedelta(minutes=5):
            problems.add("delivered_at", "in_future", "not after now")
        elif delivered.year < EARLIEST.year:
            problems.add("delivered_at", "out_of_range", f"not before {EARLIEST.isoformat()}")
        try:
            proof = check_evidence(evidence or [])
            signed = check_signatures(signatures, _china_day(now)) if signatures else []
        except InvalidInput as exc:
            problems.items.extend(exc.fields)
        problems.raise_if_any("物资发放记录有误", "the delivery is invalid")
        goods_id = uuid.uuid4().hex[:16]

        def decide(c: ReliefCase) -> None:
            named = disaster_id or c.disaster_id
            if disaster_id is not None:
                found = Problems()
                check_disaster(self.rt, disaster_id, c.county, found)
                found.raise_if_any("灾害过程无效", "invalid disaster process")
            c.issue_goods(goods_id, item, quantity, value_fen, delivered, proof, signed, named, actor.as_dict())

        return self._step(actor, case, COUNTY_ROLES, None, idempotency, decide, created={"goods_id": goods_id})

    def get(self, actor: Actor, case: UUID) -> ReliefCase:
        c = self._case(case)
        actors.require_reader(actor, c.village)
        return c

    def reveal(self, actor: Actor, case: UUID, purpose: str) -> ReliefCase:
        """The case with clear personal data, for roles that need it; the read itself is recorded."""
        c = self.get(actor, case)
        if not self.may_see_full(actor):
            raise NotPermitted("本角色不能查看完整个人信息", "this role may not see unmasked personal data")
        if not purpose.strip():
            raise InvalidInput("须说明查看理由", "state why the personal data is needed",
                               fields=[FieldProblem("purpose", "required", "why the unmasked data is needed")])
        self.app.save(PersonalDataViewed(case_id=c.id, purpose=purpose.strip()[:500], actor=actor.as_dict()))
        return c

    def record_view(self, actor: Actor, aggregate_id: UUID, area: str, purpose: str) -> None:
        """A read of a household's clear personal data (any household file, e.g. housing): checked and recorded."""
        self._require(actor, FULL_VIEW_ROLES, area)
        if not purpose.strip():
            raise InvalidInput("须说明查看理由", "state why the personal data is needed",
                               fields=[FieldProblem("purpose", "required", "why the unmasked data is needed")])
        self.app.save(PersonalDataViewed(case_id=aggregate_id, purpose=purpose.strip()[:500], actor=actor.as_dict()))

    def record_export(self, actor: Actor, programme: str, period: str, area: str, purpose: str) -> None:
        """Before a roster is written with clear personal data: check the right, record the read."""
        self._require(actor, FULL_VIEW_ROLES, area)
        if not purpose.strip():
            raise InvalidInput("须说明导出理由", "state why the unmasked roster is needed",
                               fields=[FieldProblem("purpose", "required", "why the unmasked data is needed")])
        self.app.save(PersonalDataExported(programme=programme, period=period, area=area,
                                           purpose=purpose.strip()[:500], actor=actor.as_dict()))

    def may_see_full(self, actor: Actor) -> bool:
        """Roles that need the clear ID, phone and card numbers (to pay and to check them)."""
        return actor.role in FULL_VIEW_ROLES

    # --- parts --------------------------------------------------------------------------

    def _step(self, actor: Actor, case: UUID, roles: tuple[Role, ...], expected: int | None,
              idempotency: IdempotencyKey | None, decide: Any, release_when_closed: bool = False,
              created: dict[str, str] | None = None) -> CommandResult:
        actors.require_writer(actor)

        def attempt() -> tuple[ReliefCase, list[Any], int]:
            c = self._case(case)
            check_version(c, expected)
            self._require(actor, roles, c.village)
            decide(c)
            others: list[Any] = []
            if release_when_closed and c.stage in (Stage.REJECTED, Stage.WITHDRAWN):
                claim: CaseClaim = self.app.repository.get(CaseClaim.create_id(c.programme, c.period, c.id_hash))
                claim.release(c.id)
                others.append(claim)
            return c, others, 200

        return run(self.app, attempt, idempotency, created)

    def _other_open_programmes(self, programme: str, period: str, id_hash: str) -> list[str]:
        found = []
        for other in Programme:
            if other.value == programme:
                continue
            try:
                claim: CaseClaim = self.app.repository.get(CaseClaim.create_id(other.value, period, id_hash))
            except AggregateNotFoundError:
                continue
            if claim.case_id is not None:
                found.append(other.value)
        return found

    def _case(self, case: UUID) -> ReliefCase:
        return self._get(case, ReliefCase, "救助案件", "relief case")

    def _get(self, aggregate_id: UUID, cls: type, zh: str, en: str) -> Any:
        try:
            found = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, cls):
            raise NotFound(f"{zh} {aggregate_id} 不存在", f"{en} {aggregate_id} not found")
        return found

    @staticmethod
    def _require(actor: Actor, roles: tuple[Role, ...], code: str) -> None:
        actors.require_writer(actor)
        if actor.role not in roles:
            raise NotPermitted(f"角色 {actor.role.value} 不能执行此操作", f"role {actor.role.value} cannot do this")
        if not actor.covers(code):
            raise NotPermitted(f"{code} 不在本账号的管辖范围内", f"{code} is outside this account's scope")

    @staticmethod
    def _programme(programme: str, problems: Problems) -> None:
        if programme not in Programme.__members__.values():
            problems.add("programme", "bad_programme", ", ".join(p.value for p in Programme))

    def _today(self) -> date:
        return _china_day(self.rt.now())


def _china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()
