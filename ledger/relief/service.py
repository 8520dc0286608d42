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
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger.personal.access import PersonalDataExported, PersonalDataViewed
from ledger.personal.identifiers import validate_card, validate_id_number, validate_phone
from ledger.reference.codes import AreaCode, Level
from ledger.relief.applications import Application, CheckedApplication, check_period, collect
from ledger.relief.case import CaseClaim, ReliefCase, Stage
from ledger.relief.fund import FundSource, ReliefFund, fund_id
from ledger.relief.programmes import Programme
from ledger.store import actors
from ledger.store.actors import Actor, Role
from ledger.store.commands import CommandResult, IdempotencyKey, check_version, run
from ledger.store.dates import require_civil_date, require_past_date
from ledger.store.errors import Conflict, FieldProblem, InvalidInput, NotFound, NotPermitted, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


CHINA = ZoneInfo("Asia/Shanghai")


VILLAGE_ROLES = (Role.TOWNSHIP, Role.COUNTY, Role.RELIEF_OFFICER)


COUNTY_ROLES = (Role.COUNTY, Role.RELIEF_OFFICER)


ALLOCATING_ROLES = (Role.COUNTY, Role.RELIEF_OFFICER, Role.CITY, Role.PROVINCE)


FULL_VIEW_ROLES = (Role.COUNTY, Role.RELIEF_OFFICER)


class ReliefService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    # --- funds ---------------------------------------------------------------------

    def allocate(self, actor: Actor, county: str, programme: str, period: str, source: str, amount_fen: int,
                 document: str, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """下达资金 (or a top-up) to a county for one programme and period."""
        self._require(actor, ALLOCATING_ROLES, county)
        problems = Problems()
        county = self._county(county, problems)
        self._programme(programme, problems)
        check_period(period, problems)
        if source not in FundSource.__members__.values():
            problems.add("source", "bad_source", "central, provincial, city or county")
        if not document.strip():
            problems.add("document", "required", "the allocating document number (文号)")
        problems.raise_if_any("资金下达有误", "invalid allocation")

        def attempt() -> tuple[ReliefFund, list[Any], int]:
            fid = fund_id(county, programme, period)
            try:
                fund: ReliefFund = self.app.repository.get(fid)
                status = 200
            except AggregateNotFoundError:
                fund = ReliefFund(county=county, programme=programme, period=period, actor=actor.as_dict())
                status = 201
            fund.allocate(source, amount_fen, document, actor.as_dict())
            return fund, [], status

        return run(self.app, attempt, idempotency)

    def give_back(self, actor: Actor, fund: UUID, amount_fen: int, document: str, reason: str,
                  idempotency: IdempotencyKey | None = None) -> CommandResult:
        def attempt() -> tuple[ReliefFund, list[Any], int]:
            f = self.fund(actor, fund)
            self._require(actor, ALLOCATING_ROLES, f.county)
            f.give_back(amount_fen, document, reason, actor.as_dict())
            return f, [], 200

        return run(self.app, attempt, idempotency)

    def fund(self, actor: Actor, fund: UUID) -> ReliefFund:
        found = self._get(fund, ReliefFund, "资金", "fund")
        actors.require_reader(actor, found.county)
        return found

    # --- cases -----------------------------------------------------------------------

    def apply(self, actor: Actor, a: Application, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """户报. One open case per (programme, period, household head); the same head in another
        programme of the period is flagged for review."""
        checked = self.check_application(actor, a)

        def attempt() -> tuple[ReliefCase, list[Any], int]:
            case, claim = self._new_case(actor, checked)
            return case, [claim], 201

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
            for c in checked:
                in_file = [o.programme for o in checked
                           if o.id_hash == c.id_hash and o.period == c.period and o.programme != c.programme]
                case, claim = self._new_case(actor, c, also_in=in_file)
                aggregates += [case, claim]
                ids.append(case.id)
            try:
                self.app.save(*aggregates)
            except IntegrityError:
                continue  # a concurrent application took a claim first: check again
            return ids
        raise Conflict("并发冲突过多，请稍后重试", "too many concurrent changes; please retry", code="contention")

    def check_application(self, actor: Actor, a: Application) -> CheckedApplication:
        """Validate an application and the actor's right to file it, without saving anything."""
        problems = Problems()
        village = self._village(a.village, problems)
        self._programme(a.programme, problems)
        check_period(a.period, problems)
        id_number = collect(problems, validate_id_number, a.id_number, "id_number", self.rt.now().date())
        phone = collect(problems, validate_phone, a.phone, "phone")
        card = collect(problems, validate_card, a.card_number, "card_number")
        if not a.head_name.strip() or len(a.head_name) > 50:
            problems.add("head_name", "required", "the household head's name")
        if a.household_size < 1 or a.household_size > 50:
            problems.add("household_size", "out_of_range", "1–50 people")
        if a.people_in_need < 1 or a.people_in_need > a.household_size:
            problems.add("people_in_need", "out_of_range", "1 … household_size")
        if a.applied_on is not None:
            collect(problems, self._past, a.applied_on, "applied_on")
        problems.raise_if_any("户报有误", "the application is invalid")
        assert village is not None and id_number is not None
        self._require(actor, VILLAGE_ROLES, village.value)
        return CheckedApplication(
            application=a, village=village, id_number=id_number, phone=phone or "", card=card or "",
            id_hash=self.rt.pii.hash("id_number", id_number),
        )

    def _new_case(self, actor: Actor, checked: CheckedApplication, also_in: list[str] | None = None
                  ) -> tuple[ReliefCase, CaseClaim]:
        """The case and its claim (taken, or refused with the open case's id)."""
        a, village, id_hash = checked.application, checked.village, checked.id_hash
        today = self.rt.now().astimezone(CHINA).date()
        others = sorted(set(self._other_open_programmes(a.programme, a.period, id_hash)) | set(also_in or []))
        flags = [f"also_in:{p}" for p in others]
        case = ReliefCase(
            programme=a.programme, period=a.period, county=village.county, township=village.value[:9],
            village=village.value, head_name=a.head_name.strip(), id_number=checked.id_number,
            id_hash=id_hash, phone=checked.phone, card_number=checked.card, household_type=a.household_type,
            household_size=a.household_size, people_in_need=a.people_in_need, address=a.address,
            causes=list(a.causes), needs=list(a.needs), applied_on=a.applied_on or today,
            review_flags=flags, actor=actor.as_dict(),
        )
        claim_id = CaseClaim.create_id(a.programme, a.period, id_hash)
        try:
            claim: CaseClaim = self.app.repository.get(claim_id)
            claim.take(case.id)
        except AggregateNotFoundError:
            claim = CaseClaim(programme=a.programme, period=a.period, id_hash=id_hash, case_id=case.id)
        return case, claim

    def assess(self, actor: Actor, case: UUID, minutes_ref: str, approved: bool, held_on: date,
               expected: int | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        return self._step(actor, case, VILLAGE_ROLES, expected, idempotency,
                          lambda c: c.assess(minutes_ref, approved, self._past(held_on, "held_on"), actor.as_dict()),
                          release_when_closed=True)

    def post(self, actor: Actor, case: UUID, start: date, end: date, place: str,
             expected: int | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        days = self.rt.relief_rules.posting_min_days
        return self._step(actor, case, VILLAGE_ROLES, expected, idempotency,
                          lambda c: c.post(self._past(start, "start"), require_civil_date(end, "end"), place, days,
                                           actor.as_dict()))

    def raise_objection(self, actor: Actor, case: UUID, summary: str, raised_on: date,
                        idempotency: IdempotencyKey | None = None) -> CommandResult:
        objection_id = uuid.uuid4().hex[:12]
        return self._step(actor, case, VILLAGE_ROLES, None, idempotency,
                          lambda c: c.raise_objection(objection_id, summary, self._past(raised_on, "raised_on"),
                                                      actor.as_dict()))

    def resolve_objection(self, actor: Actor, case: UUID, objection_id: str, resolution: str, upheld: bool,
                          idempotency: IdempotencyKey | None = None) -> CommandResult:
        return self._step(actor, case, VILLAGE_ROLES, None, idempotency,
                          lambda c: c.resolve_objection(objection_id, resolution, upheld, actor.as_dict()),
                          release_when_closed=True)

    def township_review(self, actor: Actor, case: UUID, expected: int | None = None,
                        idempotency: IdempotencyKey | None = None) -> CommandResult:
        today = self.rt.now().astimezone(CHINA).date()
        return self._step(actor, case, (Role.TOWNSHIP,), expected, idempotency,
                          lambda c: c.review(today, actor.as_dict()))

    def approve(self, actor: Actor, case: UUID, amount_fen: int, reason: str | None,
                expected: int | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """县定 with the approved amount; above the configured cap only with a written reason."""
        rules = self.rt.relief_rules
        today = self.rt.now().astimezone(CHINA).date()

        def decide(c: ReliefCase) -> None:
            cap = rules.caps[c.programme].for_household(c.people_in_need)
            c.approve(amount_fen, cap, reason, today, rules.version, actor.as_dict())

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
            payment_id: str | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """发放 to the 一卡通 account from the county's fund for the case's programme and period."""
        pid = payment_id or uuid.uuid4().hex

        def attempt() -> tuple[ReliefCase, list[Any], int]:
            c = self._case(case)
            self._require(actor, COUNTY_ROLES, c.village)
            fund = self._fund_for(c)
            c.pay(pid, amount_fen, batch_id, bank_ref, fund.id, actor.as_dict())
            fund.debit(c.id, pid, amount_fen, actor.as_dict())
            return c, [fund], 201

        return run(self.app, attempt, idempotency)

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

    def issue_goods(self, actor: Actor, case: UUID, item: str, quantity: int, value_fen: int, issued_on: date,
                    idempotency: IdempotencyKey | None = None) -> CommandResult:
        return self._step(actor, case, COUNTY_ROLES, None, idempotency,
                          lambda c: c.issue_goods(item, quantity, value_fen, self._past(issued_on, "issued_on"),
                                                  actor.as_dict()))

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

    def _past(self, value: date, field: str) -> date:
        return require_past_date(value, field, self.rt.now())

    def _step(self, actor: Actor, case: UUID, roles: tuple[Role, ...], expected: int | None,
              idempotency: IdempotencyKey | None, decide: Any, release_when_closed: bool = False) -> CommandResult:
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

        return run(self.app, attempt, idempotency)

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

    def _fund_for(self, c: ReliefCase) -> ReliefFund:
        try:
            return self.app.repository.get(fund_id(c.county, c.programme, c.period))
        except AggregateNotFoundError:
            raise InvalidInput(
                "该县本项目本期尚无资金", "no fund has been allocated to this county for this programme and period",
                code="no_fund",
            ) from None

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

    def _village(self, raw: str, problems: Problems) -> AreaCode | None:
        try:
            code = AreaCode.parse(raw, "village")
        except InvalidInput as exc:
            problems.items.extend(exc.fields)
            return None
        if code.level is not Level.VILLAGE:
            problems.add("village", "not_a_village", "a 12-digit village (村/社区) code")
            return None
        if code not in self.rt.areas:
            problems.add("village", "unknown_area", f"unknown village code {raw}")
            return None
        return code

    def _county(self, raw: str, problems: Problems) -> str:
        try:
            code = AreaCode.parse(raw, "county")
        except InvalidInput as exc:
            problems.items.extend(exc.fields)
            return raw
        if code.level is not Level.COUNTY or code not in self.rt.areas:
            problems.add("county", "not_a_county", "a known county code")
        return code.county

    @staticmethod
    def _programme(programme: str, problems: Problems) -> None:
        if programme not in Programme.__members__.values():
            problems.add("programme", "bad_programme", ", ".join(p.value for p in Programme))
