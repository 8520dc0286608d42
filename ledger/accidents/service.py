"""Use cases of production-safety accidents (生产安全事故): record the unit's report, 续报 / 补报, the
chain upward, the end of the rescue, the investigation, findings, withdrawal; and strongly
consistent reads of one accident.

Who may act: the regulators — county, city and province accounts covering the accident's county
(companies have no accounts; township staff do not record accidents). A report upward is
recorded by the level that made it; investigation steps by the leading level or above (a 国务院
investigation is recorded by the province); findings as `findings.require_finder` says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.accidents.aggregate import Accident
from ledger.accidents.findings import ROLE_LEVEL, Finding, against, parse_evidence, require_finder
from ledger.accidents.grading import grade_of
from ledger.accidents.inputs import CHANNELS, SOURCES, AccidentInputs, AccidentReport, FollowUp, UpwardReport
from ledger.accidents.investigation import InvestigationSteps
from ledger.accidents.keys import accident_id, unit_key
from ledger.accidents.rules import LEVELS
from ledger.disasters.inputs import ReportInputs
from ledger.store.actors import REVIEWERS, Actor, refuse, require_reader, require_writer
from ledger.store.commands import CommandResult, IdempotencyKey, check_version, run
from ledger.store.errors import Conflict, FieldProblem, InvalidInput, NotFound

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


def require_regulator(actor: Actor, county: str) -> None:
    """County, city or province accounts covering the county (the 安全生产监督管理部门 of the chain)."""
    require_writer(actor)
    if actor.role not in REVIEWERS:
        raise refuse("只有县级及以上应急管理（安全监管）部门账号可以记录生产安全事故",
                     "only county, city and province regulators record production-safety accidents")
    if not actor.covers(county):
        raise refuse(f"县 {county} 不在本账号的管辖范围内", f"county {county} is outside this account's scope")


class AccidentService(InvestigationSteps):
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    @property
    def rules(self) -> Any:
        return self.rt.accident_rules

    # --- the unit's first report ------------------------------------------------------------------

    def record(self, actor: Actor, report: AccidentReport, idempotency: IdempotencyKey | None = None
               ) -> CommandResult:
        """The unit's first report as the county regulator records it (with the unit's stated time)."""
        require_writer(actor)
        check = AccidentInputs(self.rt)
        county = ReportInputs(self.rt).county(report.county, check.problems)
        township = check.township(county, report.township) if county else None
        occurred_at = check.time(report.occurred_at, "occurred_at")
        unit_reported_at = check.optional_time(report.unit_reported_at, "unit_reported_at")
        if unit_reported_at is not None and unit_reported_at < occurred_at:
            check.problems.add("unit_reported_at", "before_occurrence", "the unit cannot report before the accident")
        credit_code = check.credit_code(report.credit_code)
        casualties = check.casualties(report.casualties)
        check.money(report.direct_loss_fen, "direct_loss_fen")
        check.one_of(report.source, SOURCES, "source")
        if report.source == "unit" and unit_reported_at is None:
            check.problems.add("unit_reported_at", "required", "the time the unit reported (its stated time)")
        check.text(report.unit_name, "unit_name", required=True)
        check.text(report.summary, "summary", required=True)
        check.text(report.place, "place", required=True)
        check.text(report.measures, "measures")
        if report.sector not in self.rules.sectors:
            check.problems.add("sector", "unknown_sector", "one of: " + ", ".join(self.rules.sectors))
        check.raise_if_any("事故报告有误", "the accident report is invalid")
        assert county is not None and township is not None and casualties is not None
        require_regulator(actor, county)
        sector = self.rules.sector(report.sector)
        key = unit_key(report.unit_name, credit_code)
        grading = grade_of(casualties, report.direct_loss_fen, self.rules)

        def attempt() -> tuple[Accident, list[Any], int]:
            existing = accident_id(county, occurred_at, key)
            if existing in self.app.repository:
                raise Conflict("该事故已记录", "this accident has already been recorded",
                               details={"existing_id": str(existing)}, code="duplicate_accident")
            accident = Accident(
                county=county, township=township, park=(report.park or "").strip() or None,
                unit={"name": report.unit_name.strip(), "credit_code": credit_code}, unit_key=key,
                sector=sector.code, occurred_at=occurred_at, place=report.place, summary=report.summary,
                measures=report.measures, casualties=casualties.as_dict(), direct_loss_fen=report.direct_loss_fen,
                source=report.source, unit_reported_at=unit_reported_at, grade=grading.grade,
                grade_basis=list(grading.basis),
                supplement_days=sector.supplement_days or self.rules.clocks_for(county).supplement_days,
                rules_version=self.rules.version, area_edition=self.rt.areas.edition, actor=actor.as_dict(),
            )
            return accident, [], 201

        return run(self.app, attempt, idempotency)

    # --- 续报 / 补报, the chain upward, the end of the rescue, withdrawal ------------------------------------

    def file_follow_up(self, actor: Actor, accident_id_: UUID, report: FollowUp,
                       expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                       ) -> CommandResult:
        require_writer(actor)
        check = AccidentInputs(self.rt)
        as_of = check.time(report.as_of, "as_of")
        reported_at = check.optional_time(report.reported_at, "reported_at")
        parsed = check.casualties(report.casualties) if report.casualties is not None else None
        casualties = ({k: v for k, v in parsed.as_dict().items() if k in (report.casualties or {})}
                      if parsed is not None else None)
        check.money(report.direct_loss_fen, "direct_loss_fen")
        check.text(report.text, "text")
        check.text(report.explanation, "explanation")
        check.raise_if_any("续报有误", "the follow-up report is invalid")

        def decide(a: Accident) -> None:
            require_regulator(actor, a.county)
            a.file_follow_up(as_of=as_of, reported_at=reported_at, casualties=casualties,
                             direct_loss_fen=report.direct_loss_fen, text=report.text,
                             explanation=report.explanation, rules=self.rules, actor=actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency, status=201)

    def report_upward(self, actor: Actor, accident_id_: UUID, report: UpwardReport,
                      expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                      ) -> CommandResult:
        """The acting level's report to a higher level, with its stated time."""
        require_writer(actor)
        check = AccidentInputs(self.rt)
        reported_at = check.time(report.reported_at, "reported_at")
        check.one_of(report.to_level, LEVELS[1:], "to_level")
        check.one_of(report.channel, CHANNELS, "channel")
        check.raise_if_any("上报有误", "the report upward is invalid")
        level = ROLE_LEVEL.get(actor.role)
        if report.from_level is not None and report.from_level != level:
            raise InvalidInput("只能记录本级的上报", "record your own level's report upward",
                               fields=[FieldProblem("from_level", "not_own_level", f"your level is {level}")])

        def decide(a: Accident) -> None:
            require_regulator(actor, a.county)
            assert level is not None
            a.report_upward(from_level=level, to_level=report.to_level, reported_at=reported_at,
                            channel=report.channel, actor=actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency)

    def conclude_rescue(self, actor: Actor, accident_id_: UUID, concluded_at: Any,
                        expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                        ) -> CommandResult:
        require_writer(actor)
        check = AccidentInputs(self.rt)
        when = check.time(concluded_at, "concluded_at")
        check.raise_if_any("时间有误", "invalid time")

        def decide(a: Accident) -> None:
            require_regulator(actor, a.county)
            a.conclude_rescue(when, actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency)

    def withdraw(self, actor: Actor, accident_id_: UUID, reason: str, expected_version: int | None = None,
                 idempotency: IdempotencyKey | None = None) -> CommandResult:
        """不属于生产安全事故: withdrawn with a reason; it then counts nowhere."""
        require_writer(actor)

        def decide(a: Accident) -> None:
            require_regulator(actor, a.county)
            a.withdraw(reason, actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency)

    # --- findings ------------------------------------------------------------------------------------

    def record_finding(self, actor: Actor, accident_id_: UUID, finding: Finding,
                       expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                       ) -> CommandResult:
        """迟报 / 漏报 / 谎报 / 瞒报 found, with the definition applied and the evidence; the reports stay."""
        require_writer(actor)
        definition = self.rules.definition(finding.kind)
        check = AccidentInputs(self.rt)
        evidence = parse_evidence(finding.evidence, check.problems)
        check.text(finding.text, "text", required=True)
        current = self._load(accident_id_)
        party = against(finding, current.county, check.problems)
        check.raise_if_any("认定有误", "the finding is invalid")

        def decide(a: Accident) -> None:
            require_finder(actor, a.county, party)
            a.record_finding(
                kind=finding.kind, against=party, evidence=evidence, text=finding.text,
                definition={"kind": definition.kind, "name": definition.name, "source": definition.source,
                            "definition": definition.definition},
                rules_version=self.rules.version, actor=actor.as_dict(),
            )

        return self._update(accident_id_, decide, expected_version, idempotency, status=201)

    def withdraw_finding(self, actor: Actor, accident_id_: UUID, finding_id: str, reason: str,
                         expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                         ) -> CommandResult:
        require_writer(actor)

        def decide(a: Accident) -> None:
            require_finder(actor, a.county, a.finding(finding_id)["against"])
            a.withdraw_finding(finding_id, reason, actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency)

    def finding_of(self, result: CommandResult) -> str | None:
        """The id of the finding a `record_finding` result recorded (also for a replayed request)."""
        for e in self.app.events.get(result.id, gt=result.version - 1, lte=result.version):
            if isinstance(e, Accident.FindingRecorded):
                return str(e.finding_id)
        return None

    # --- reads -----------------------------------------------------------------------------------------

    def get(self, actor: Actor, accident_id_: UUID) -> Accident:
        accident = self._load(accident_id_)
        require_reader(actor, accident.county)
        return accident

    def history(self, actor: Actor, accident_id_: UUID) -> list[Any]:
        self.get(actor, accident_id_)
        return list(self.app.events.get(accident_id_))

    # --- parts -------------------------------------------------------------------------------------------

    def _update(self, accident_id_: UUID, decide: Callable[[Accident], None], expected_version: int | None,
                idempotency: IdempotencyKey | None, status: int = 200) -> CommandResult:
        def attempt() -> tuple[Accident, list[Any], int]:
            accident = self._load(accident_id_)
            check_version(accident, expected_version)
            decide(accident)
            return accident, [], status

        return run(self.app, attempt, idempotency)

    def _load(self, accident_id_: UUID) -> Accident:
        try:
            found: Any = self.app.repository.get(accident_id_)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Accident):
            raise NotFound(f"事故 {accident_id_} 不存在", f"accident {accident_id_} not found")
        return found
