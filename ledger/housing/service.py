"""Use cases of housing reconstruction: files per household, the chain, tranches from the fund.

Who may do what (scope = area-code prefix): township staff file applications and record the
deliberation, posting, objections, township review and progress; county and relief officers
approve, sign agreements, record 开工 / 竣工 / 验收 / 入住 / 销号 and pay tranches; auditors read only.
A tranche saves the case and the county's 倒损住房恢复重建 fund (county, housing, year of the
disaster) in one transaction: concurrent payments of one tranche cannot both win, and the fund
is never overdrawn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.households.evidence import Evidence, check_evidence
from ledger.households.household import Household, Member, check_household
from ledger.households.links import DisasterHousehold, household_id
from ledger.housing.case import HousingCase, Step
from ledger.housing.claims import ProcessHousing, register_id
from ledger.housing.rules import DAMAGE, MODES, HousingRules
from ledger.relief.applications import check_disaster, check_village
from ledger.relief.fund import ReliefFund, fund_id
from ledger.relief.programmes import Programme
from ledger.store import actors
from ledger.store.actors import Actor, Role
from ledger.store.commands import CommandResult, IdempotencyKey, check_version, run
from ledger.store.errors import InvalidInput, NotFound, NotPermitted, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


VILLAGE_ROLES = (Role.TOWNSHIP, Role.COUNTY, Role.RELIEF_OFFICER)


COUNTY_ROLES = (Role.COUNTY, Role.RELIEF_OFFICER)


@dataclass(frozen=True)
class HousingApplication:
    """申请: the household, its damaged house as assessed, the mode chosen."""

    disaster_id: UUID
    village: str
    head_name: str
    id_number: str
    phone: str
    address: str
    damage: str  # collapsed | severe | general
    rooms: int
    mode: str
    evidence: list[Evidence]
    assessed_on: date
    card_number: str = ""
    members: list[Member] = field(default_factory=list)
    flood_storage: bool = False
    building: str = "dwelling"  # or an excluded kind: kitchen, livestock_shed …
    circumstances: list[str] = field(default_factory=list)  # long_unoccupied, second_home …
    applied_on: date | None = None


class HousingService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app
        self.rules: HousingRules = runtime.housing_rules

    # --- the file -------------------------------------------------------------------------------

    def check(self, actor: Actor, a: HousingApplication) -> dict[str, Any]:
        """Every problem of an application (each field named), the exclusions by their rule; nothing saved."""
        today = self._today()
        problems = Problems()
        village = check_village(self.rt, a.village, problems)
        if village is not None:
            check_disaster(self.rt, a.disaster_id, village.county, problems)
        household = check_household(Household(a.head_name, a.id_number, a.phone, a.address, a.card_number,
                                               tuple(a.members)), self.rt.pii, today, problems)
        if a.damage not in DAMAGE:
            problems.add("damage", "bad_damage", "collapsed (倒塌), severe (严重损坏) or general (一般损坏)")
        elif a.mode not in self.rules.modes[a.damage]:
            problems.add("mode", "mode_not_allowed", f"{DAMAGE[a.damage]}: {', '.join(self.rules.modes[a.damage])}")
        if a.mode not in MODES:
            problems.add("mode", "bad_mode", ", ".join(MODES))
        if not 1 <= a.rooms <= 50:
            problems.add("rooms", "out_of_range", "1–50 间")
        for key in [a.building, *a.circumstances]:
            if key in self.rules.exclusions:
                problems.add("building" if key == a.building else "circumstances", "excluded",
                             f"{self.rules.exclusions[key]}不属于恢复重建救助范围 (rule {key}, {self.rules.version})")
            elif key != "dwelling" and key not in self.rules.exclusions:
                problems.add("circumstances", "unknown", f"unknown: {key}")
        if a.assessed_on > today:
            problems.add("assessed_on", "in_future", "not after today")
        try:
            evidence = check_evidence(a.evidence)
        except InvalidInput as exc:
            problems.items.extend(exc.fields)
        problems.raise_if_any("重建申请有误", "the housing application is invalid")
        assert village is not None and household is not None
        self._require(actor, VILLAGE_ROLES, village.value)
        try:  # refused here too, so an import names the row
            link: Any = self.app.repository.get(household_id(a.disaster_id, household.id_hash))
            if link.housing_case is not None:
                link.take_housing(link.housing_case)
        except AggregateNotFoundError:
            pass
        disaster: Any = self.app.repository.get(a.disaster_id)
        return {"village": village, "household": household, "evidence": evidence,
                "year": disaster.disaster_date.year, "applied_on": a.applied_on or today}

    def apply(self, actor: Actor, a: HousingApplication, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """One open file per household head and disaster (409 with the existing one); the head's relief cases
        for the same disaster are linked."""
        checked = self.check(actor, a)

        def attempt() -> tuple[HousingCase, list[Any], int]:
            case, others = self._new_case(actor, a, checked)
            return case, others, 201

        return run(self.app, attempt, idempotency)

    def apply_many(self, actor: Actor, applications: list[HousingApplication]) -> list[UUID]:
        """Import: all checked first, then saved in one transaction, or nothing."""
        checked = [self.check(actor, a) for a in applications]
        keys = [(a.disaster_id, c["household"].id_hash) for a, c in zip(applications, checked, strict=True)]
        if len(set(keys)) != len(keys):
            raise InvalidInput("文件中同一户主重复", "the same household head appears twice in the file",
                               code="duplicate_in_file")
        aggregates: list[Any] = []
        ids = []
        registers: dict[UUID, Any] = {}
        for a, c in zip(applications, checked, strict=True):
            case, others = self._new_case(actor, a, c, registers)
            aggregates += [case, *[o for o in others if not isinstance(o, ProcessHousing)]]
            ids.append(case.id)
        self.app.save(*aggregates, *registers.values())
        return ids

    def _new_case(self, actor: Actor, a: HousingApplication, c: dict[str, Any],
                  registers: dict[UUID, Any] | None = None) -> tuple[HousingCase, list[Any]]:
        village, h = c["village"], c["household"]
        link = self._get_or(household_id(a.disaster_id, h.id_hash),
                            lambda: DisasterHousehold(disaster_id=a.disaster_id, id_hash=h.id_hash))
        register = (registers or {}).get(a.disaster_id) or self._get_or(
            register_id(a.disaster_id), lambda: ProcessHousing(disaster_id=a.disaster_id))
        if registers is not None:
            registers[a.disaster_id] = register
        case = HousingCase(
            disaster_id=a.disaster_id, disaster_year=c["year"], county=village.county, township=village.value[:9],
            village=village.value, head_name=h.household.head_name.strip(), id_number=h.id_number,
            id_hash=h.id_hash, phone=h.phone, card_number=h.card, address=a.address.strip(),
            members=h.members_as_dicts(), damage=a.damage, rooms=a.rooms, evidence=c["evidence"],
            assessed_on=a.assessed_on, mode=a.mode, flood_storage=a.flood_storage, applied_on=c["applied_on"],
            linked_relief=list(link.relief_cases), actor=actor.as_dict())
        link.take_housing(case.id)
        register.open_case(case.id)
        return case, [link, register]

    # --- the chain ------------------------------------------------------------------------------

    def deliberate(self, actor: Actor, case: UUID, minutes_ref: str, held_on: date, **kw: Any) -> CommandResult:
        today = self._today()
        return self._step(actor, case, VILLAGE_ROLES, lambda c: c.deliberate(minutes_ref, held_on, today,
                                                                             actor.as_dict()), **kw)

    def post(self, actor: Actor, case: UUID, start: date, end: date, place: str, reason: str | None = None,
             **kw: Any) -> CommandResult:
        today = self._today()
        return self._step(actor, case, VILLAGE_ROLES, lambda c: c.post(start, end, place, reason, today,
                                                                       self.rules.posting, actor.as_dict()), **kw)

    def raise_objection(self, actor: Actor, case: UUID, summary: str, raised_on: date, **kw: Any) -> CommandResult:
        oid, today = uuid.uuid4().hex[:12], self._today()
        return self._step(actor, case, VILLAGE_ROLES, lambda c: c.raise_objection(oid, summary, raised_on, today,
                                                                                  actor.as_dict()),
                          created={"objection_id": oid}, **kw)

    def resolve_objection(self, actor: Actor, case: UUID, objection_id: str, resolution: str, upheld: bool,
                          **kw: Any) -> CommandResult:
        return self._step(actor, case, VILLAGE_ROLES,
                          lambda c: c.resolve_objection(objection_id, resolution, upheld, actor.as_dict()), **kw)

    def township_review(self, actor: Actor, case: UUID, stated_on: date | None = None, **kw: Any) -> CommandResult:
        now, today = self.rt.now(), self._today()
        return self._step(actor, case, (Role.TOWNSHIP,), lambda c: c.review(stated_on or today, now, today,
                                                                            self.rules.posting, actor.as_dict()), **kw)

    def approve(self, actor: Actor, case: UUID, subsidy_fen: int | None = None, reason: str | None = None,
                stated_on: date | None = None, **kw: Any) -> CommandResult:
        """县批 with the subsidy from the table (county, year of the disaster, damage, mode, 蓄滞洪区)."""
        today = self._today()

        def decide(c: HousingCase) -> None:
            row = self.rules.subsidy_for(c.village, c.disaster_year, c.damage, c.mode, c.flood_storage)
            if row is None:
                raise InvalidInput("补助标准表中没有适用的标准", "no subsidy standard applies to this household",
                                   code="no_standard")
            standard = row.amount(c.rooms)
            c.approve(subsidy_fen if subsidy_fen is not None else standard, standard, row.as_dict(),
                      self.rules.version, reason, stated_on or today, today, actor.as_dict())

        return self._step(actor, case, COUNTY_ROLES, decide, **kw)

    def agree(self, actor: Actor, case: UUID, signed_on: date, planned_start: date | None,
              planned_completion: date | None, **kw: Any) -> CommandResult:
        today = self._today()

        def decide(c: HousingCase) -> None:
            schedule = [t.as_dict() for t in self.rules.tranches_for(c.mode)]
            c.agree(signed_on, planned_start, planned_completion, schedule, today, actor.as_dict())

        return self._step(actor, case, COUNTY_ROLES, decide, **kw)

    def record_step(self, actor: Actor, case: UUID, step: str, stated_on: date, **kw: Any) -> CommandResult:
        today = self._today()
        roles = VILLAGE_ROLES if step in ("started", "completed", "moved_in") else COUNTY_ROLES
        try:
            which = Step(step)
        except ValueError:
            raise InvalidInput("未知环节", "unknown step", code="bad_step") from None
        return self._step(actor, case, roles, lambda c: c.record_step(which, stated_on, today, actor.as_dict()),
                          release=which is Step.CLOSED, **kw)

    def inspect(self, actor: Actor, case: UUID, passed: bool, reasons: str | None, stated_on: date,
                **kw: Any) -> CommandResult:
        today = self._today()
        return self._step(actor, case, COUNTY_ROLES,
                          lambda c: c.inspect(passed, reasons, stated_on, today, actor.as_dict()), **kw)

    def report_progress(self, actor: Actor, case: UUID, stated_on: date, note: str, **kw: Any) -> CommandResult:
        today = self._today()
        return self._step(actor, case, VILLAGE_ROLES,
                          lambda c: c.report_progress(stated_on, note, today, actor.as_dict()), **kw)

    def reject(self, actor: Actor, case: UUID, reason: str, **kw: Any) -> CommandResult:
        return self._step(actor, case, VILLAGE_ROLES, lambda c: c.reject(reason, actor.as_dict()), release=True, **kw)

    def withdraw(self, actor: Actor, case: UUID, reason: str, **kw: Any) -> CommandResult:
        return self._step(actor, case, VILLAGE_ROLES, lambda c: c.withdraw(reason, actor.as_dict()), release=True,
                          **kw)

    def record_other_money(self, actor: Actor, case: UUID, kind: str, amount_fen: int, stated_on: date, note: str,
                           **kw: Any) -> CommandResult:
        today = self._today()
        return self._step(actor, case, COUNTY_ROLES, lambda c: c.record_other_money(
            kind, amount_fen, stated_on, note, today, actor.as_dict()), **kw)

    # --- money ------------------------------------------------------------------------------------

    def pay_tranche(self, actor: Actor, case: UUID, tranche: int, bank_ref: str, payment_id: str | None = None,
                    idempotency: IdempotencyKey | None = None) -> CommandResult:
        """拨付 a tranche from the county's housing fund for the disaster's year, atomically with the fund."""
        pid = payment_id or uuid.uuid4().hex

        def attempt() -> tuple[HousingCase, list[Any], int]:
            c = self._case(case)
            self._require(actor, COUNTY_ROLES, c.village)
            fund = self._fund(c)
            amount = c.pay_tranche(tranche, pid, fund.id, bank_ref, actor.as_dict())
            fund.debit(c.id, pid, amount, actor.as_dict())
            return c, [fund], 201

        return run(self.app, attempt, idempotency, created={"payment_id": pid})

    def tranche_came_back(self, actor: Actor, case: UUID, payment_id: str, reason: str,
                          idempotency: IdempotencyKey | None = None) -> CommandResult:
        def attempt() -> tuple[HousingCase, list[Any], int]:
            c = self._case(case)
            self._require(actor, COUNTY_ROLES, c.village)
            if payment_id not in c.tranches:
                raise NotFound("没有该笔补助", "no such tranche payment")
            fund: ReliefFund = self.app.repository.get(c.tranches[payment_id]["fund_id"])
            amount = c.tranche_came_back(payment_id, reason, actor.as_dict())
            fund.credit(c.id, payment_id, amount, reason, actor.as_dict())
            return c, [fund], 200

        return run(self.app, attempt, idempotency)

    # --- reads ------------------------------------------------------------------------------------

    def get(self, actor: Actor, case: UUID) -> HousingCase:
        c = self._case(case)
        actors.require_reader(actor, c.village)
        return c

    # --- parts ------------------------------------------------------------------------------------

    def _step(self, actor: Actor, case: UUID, roles: tuple[Role, ...], decide: Any, expected: int | None = None,
              idempotency: IdempotencyKey | None = None, release: bool = False,
              created: dict[str, str] | None = None) -> CommandResult:
        actors.require_writer(actor)

        def attempt() -> tuple[HousingCase, list[Any], int]:
            c = self._case(case)
            check_version(c, expected)
            self._require(actor, roles, c.village)
            before = c.step
            decide(c)
            others: list[Any] = []
            if c.step is not before and c.step in (Step.REJECTED, Step.WITHDRAWN, Step.CLOSED):
                link: DisasterHousehold = self.app.repository.get(household_id(c.disaster_id, c.id_hash))
                register: ProcessHousing = self.app.repository.get(register_id(c.disaster_id))
                link.release_housing(c.id)
                register.close_case(c.id)
                others += [link, register]
            return c, others, 200

        return run(self.app, attempt, idempotency, created)

    def _fund(self, c: HousingCase) -> ReliefFund:
        try:
            return self.app.repository.get(fund_id(c.county, Programme.HOUSING.value, str(c.disaster_year)))
        except AggregateNotFoundError:
            raise InvalidInput("该县尚无该年度倒损住房恢复重建资金", "no housing fund has been allocated to this county "
                               "for the disaster's year", code="no_fund") from None

    def _case(self, case: UUID) -> HousingCase:
        try:
            found: Any = self.app.repository.get(case)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, HousingCase):
            raise NotFound(f"重建档案 {case} 不存在", f"housing case {case} not found")
        return found

    def _get_or(self, aggregate_id: UUID, make: Any) -> Any:
        try:
            return self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return make()

    def _today(self) -> date:
        from ledger.relief.service import CHINA

        return self.rt.now().astimezone(CHINA).date()

    @staticmethod
    def _require(actor: Actor, roles: tuple[Role, ...], code: str) -> None:
        actors.require_writer(actor)
        if actor.role not in roles:
            raise NotPermitted(f"角色 {actor.role.value} 不能执行此操作", f"role {actor.role.value} cannot do this")
        if not actor.covers(code):
            raise NotPermitted(f"{code} 不在本账号的管辖范围内", f"{code} is outside this account's scope")
