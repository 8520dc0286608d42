"""Use cases of the disaster-report family (初报 / 续报 / 核报, review, 勘误, response, 核销).

Each use case checks the actor's role and scope, turns the command's raw
values into domain values (area codes, exact figures), then runs through
`commands.run`: load, decide in the aggregate, save atomically.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.disasters import permissions
from ledger.disasters.aggregate import Disaster
from ledger.disasters.inputs import (
    CHINA,
    EARLIEST_YEAR,
    Correction,
    FiguresReport,
    InitialReport,
    ReportInputs,
    ResponseChange,
)
from ledger.disasters.keys import KeyState, key_state
from ledger.disasters.reports import ReportKind, ReportPolicy
from ledger.disasters.responses import ResponseAction
from ledger.housing.claims import register_id
from ledger.incidents.facade import record_disaster_response
from ledger.reference.indicators import Figures
from ledger.store import actors
from ledger.store.actors import Actor, Role
from ledger.store.commands import CommandResult, IdempotencyKey, check_version, run
from ledger.store.errors import Conflict, FieldProblem, InvalidInput, NotFound, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext






class DisasterService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app
        self.inputs = ReportInputs(runtime)

    # --- commands ------------------------------------------------------------------

    def file_initial(
        self, actor: Actor, report: InitialReport, idempotency: IdempotencyKey | None = None
    ) -> CommandResult:
        """初报: opens the process; a second 初报 of the same process is refused with its id."""
        actors.require_writer(actor)
        problems = Problems()
        county = self.inputs.county(report.county, problems)
        hazard = report.hazard
        self.rt.hazards.require(hazard, report.subtype)
        self._require_subtype(actor, hazard, report.subtype, problems)
        occurred_at = self.inputs.past_time(report.occurred_at, "occurred_at", problems)
        phoned_at = self.inputs.phoned_at(report.phoned_at, occurred_at, problems)
        self.inputs.text(report.text, problems)
        figures = self.inputs.figures(county, report.figures, problems) if county else {}
        attachments = self.inputs.attachments(report.attachments, problems)
        problems.raise_if_any("初报有误", "the initial report is invalid")
        assert county is not None
        permissions.require_filer(actor, county, list(figures))
        disaster_date = occurred_at.astimezone(CHINA).date()

        def attempt() -> tuple[Disaster, list[Any], int]:
            key = self._key(county, disaster_date, hazard)
            if key.live is not None:
                raise _duplicate(key.live)
            _, number = key.next_id()
            disaster = Disaster.open(
                county=county, disaster_date=disaster_date, hazard=hazard, subtype=report.subtype,
                occurred_at=occurred_at, figures=figures, text=report.text, explanation=report.explanation,
                phoned_at=phoned_at, actor=actor.as_dict(), policy=self._policy(),
                area_edition=self.rt.areas.edition, process_number=number, attachments=attachments,
            )
            record = key.held()
            record.claim(disaster.id, number)
            return disaster, [record], 201

        return run(self.app, attempt, idempotency)

    def file_follow_up(
        self, actor: Actor, disaster_id_: UUID, report: FiguresReport,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
        refiles: int | None = None,
    ) -> CommandResult:
        """续报 (or the refiling of a returned 初报/续报)."""
        return self._file(actor, disaster_id_, report, ReportKind.FOLLOW_UP, expected_version, idempotency, refiles)

    def file_final(
        self, actor: Actor, disaster_id_: UUID, report: FiguresReport,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
        refiles: int | None = None,
    ) -> CommandResult:
        """核报: the county's final, comprehensive figures."""
        return self._file(actor, disaster_id_, report, ReportKind.FINAL, expected_version, idempotency, refiles)

    def refile(
        self, actor: Actor, disaster_id_: UUID, number: int, report: FiguresReport,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
    ) -> CommandResult:
        """重报 after 驳回: a returned 核报 is refiled as a 核报, anything else with a 续报's event — shown as what it
        refiles (a refiled 初报 is listed as a 初报, with `refiles`)."""
        actors.require_writer(actor)
        current = self._load(disaster_id_)
        final = current.report(number)["kind"] is ReportKind.FINAL
        return self._file(
            actor, disaster_id_, report, ReportKind.FINAL if final else ReportKind.FOLLOW_UP,
            expected_version, idempotency, refiles=number, current=current,
        )

    def accept(
        self, actor: Actor, disaster_id_: UUID, number: int,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
        subtype: str | None = None,
    ) -> CommandResult:
        """审核通过; the county accepting a township's report gives the 亚灾种 if the process has none."""
        actors.require_writer(actor)
        if subtype is not None:
            self.rt.hazards.require(self._load(disaster_id_).hazard, subtype)

        def decide(d: Disaster) -> None:
            permissions.require_reviewer_of(actor, d.county, d.report(number)["filed_by"]["role"])
            self._give_subtype(actor, d, subtype)
            d.accept(number, actor.as_dict())

        return self._update(disaster_id_, decide, expected_version, idempotency)

    def return_report(
        self, actor: Actor, disaster_id_: UUID, number: int, reason: str,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
    ) -> CommandResult:
        """驳回 by the upper level, with a reason."""
        actors.require_writer(actor)

        def decide(d: Disaster) -> None:
            permissions.require_reviewer_of(actor, d.county, d.report(number)["filed_by"]["role"])
            d.return_report(number, reason, actor.as_dict())

        return self._update(disaster_id_, decide, expected_version, idempotency)

    def correct(
        self, actor: Actor, disaster_id_: UUID, correction: Correction,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
    ) -> CommandResult:
        """勘误 of date, type or text; the id stays and the corrected key is claimed in the same save."""
        actors.require_writer(actor)
        if correction.hazard is not None or correction.subtype is not None:
            current = self._load(disaster_id_)
            self.rt.hazards.require(correction.hazard or current.hazard, correction.subtype)
        when = correction.disaster_date
        if when is not None and when > self.rt.now().astimezone(CHINA).date():
            raise InvalidInput(
                "灾害日期不能晚于今天", "the disaster date cannot be in the future",
                fields=[FieldProblem("disaster_date", "in_future", "must not be after today")],
            )
        if when is not None and when.year < EARLIEST_YEAR:
            raise InvalidInput(
                "灾害日期超出范围", "the disaster date is out of range",
                fields=[FieldProblem("disaster_date", "out_of_range", f"must not be before {EARLIEST_YEAR}")],
            )
        problems = Problems()
        if correction.text is not None:
            self.inputs.text(correction.text, problems)
        occurred_at = correction.occurred_at
        disaster_date = correction.disaster_date
        if occurred_at is not None:
            occurred_at = self.inputs.past_time(occurred_at, "occurred_at", problems)
            civil = occurred_at.astimezone(CHINA).date()
            if disaster_date is not None and disaster_date != civil:
                problems.add("disaster_date", "date_mismatch", f"occurred_at falls on {civil}, not {disaster_date}")
            disaster_date = civil
        problems.raise_if_any("勘误有误", "the correction is invalid")

        def attempt() -> tuple[Disaster, list[Any], int]:
            d = self._load(disaster_id_)
            check_version(d, expected_version)
            permissions.require_upper_level(actor, d.county)
            moved = occurred_at
            if moved is None and disaster_date is not None and disaster_date != d.disaster_date:
                # A corrected date moves the start time with it (same Beijing time of day), so the
                # deadlines and the date never disagree.
                local = d.occurred_at.astimezone(CHINA)
                moved = datetime.combine(disaster_date, local.timetz())
            old_key = (d.county, d.disaster_date, d.hazard)
            d.correct(
                disaster_date=disaster_date, occurred_at=moved,
                hazard=correction.hazard, subtype=correction.subtype,
                text=correction.text, reason=correction.reason, actor=actor.as_dict(),
            )
            others: list[Any] = []
            if (d.county, d.disaster_date, d.hazard) != old_key:
                # The process moves to the corrected key (refused if a live process holds it) and frees
                # its old key for a new process — both in this save.
                new = self._key(d.county, d.disaster_date, d.hazard)
                if new.live is not None and new.live != d.id:
                    raise _duplicate(new.live)
                old = self._key(*old_key)
                if old.live == d.id:
                    released = old.held()
                    released.release(d.id, "勘误 / corrected")
                    others.append(released)
                claimed = new.held()
                claimed.claim(d.id, None)
                others.append(claimed)
            return d, others, 200

        return run(self.app, attempt, idempotency)

    def declare_stable(
        self, actor: Actor, disaster_id_: UUID, stabilised_at: datetime,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
    ) -> CommandResult:
        actors.require_writer(actor)
        problems = Problems()
        when = self.inputs.past_time(stabilised_at, "stabilised_at", problems)
        problems.raise_if_any("时间有误", "invalid time")

        def decide(d: Disaster) -> None:
            permissions.require_upper_level(actor, d.county)
            d.declare_stable(when, actor.as_dict())

        return self._update(disaster_id_, decide, expected_version, idempotency)

    def change_response(
        self, actor: Actor, disaster_id_: UUID, change: ResponseChange,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
    ) -> CommandResult:
        """启动 / 调整 / 终止 the response level, by an authorised (county-level or higher) account; the
        disaster's incident records it too, in the same save (`ledger.incidents.facade`)."""
        actors.require_writer(actor)
        problems = Problems()
        decided_at = self.inputs.past_time(change.decided_at, "decided_at", problems)
        try:
            action = ResponseAction(change.action)
        except ValueError:
            problems.add("action", "bad_action", "one of: start, adjust, end")
            action = ResponseAction.START
        for name in ("plan", "plan_version", "government_level"):
            if not str(getattr(change, name) or "").strip():
                problems.add(name, "required", f"{name} is required")
        problems.raise_if_any("响应级别变更有误", "the response-level change is invalid")

        def attempt() -> tuple[Disaster, list[Any], int]:
            d = self._load(disaster_id_)
            check_version(d, expected_version)
            permissions.require_upper_level(actor, d.county)
            previous = dict(d.response) if d.response else None
            d.change_response(
                action=action, level=change.level, plan=change.plan, plan_version=change.plan_version,
                government_level=change.government_level, decided_at=decided_at, reason=change.reason,
                actor=actor.as_dict(),
            )
            # A façade over the incident stream: the incident's event is saved with the disaster's.
            others = record_disaster_response(
                self.app, self.rt.response_plans, self.rt.accident_rules, d, previous, change, action.value,
                d.response["level"] if d.response else None, decided_at, actor.as_dict())
            return d, others, 200

        return run(self.app, attempt, idempotency)

    def retract(
        self, actor: Actor, disaster_id_: UUID, reason: str,
        expected_version: int | None = None, idempotency: IdempotencyKey | None = None,
    ) -> CommandResult:
        """核销 with a reason."""
        actors.require_writer(actor)

        def attempt() -> tuple[Disaster, list[Any], int]:
            d = self._load(disaster_id_)
            check_version(d, expected_version)
            permissions.require_upper_level(actor, d.county)
            d.retract(reason, actor.as_dict())
            others: list[Any] = []
            key = self._key(d.county, d.disaster_date, d.hazard)
            if key.live == d.id:  # the key is free again: a new 初报 opens the next process of it
                released = key.held()
                released.release(d.id, "核销 / retracted")
                others.append(released)
            housing = self._get(register_id(disaster_id_))
            if housing is not None:  # housing cases of the process must be closed first (saved together: no race)
                housing.retract()
                others.append(housing)
            return d, others, 200

        return run(self.app, attempt, idempotency)

    # --- reads (strongly consistent: replay one aggregate) ------------------------------

    def get(self, actor: Actor, disaster_id_: UUID) -> Disaster:
        disaster = self._load(disaster_id_)
        actors.require_reader(actor, disaster.county)
        return disaster

    def visible_township_figures(self, actor: Actor, disaster: Disaster) -> dict[str, Figures]:
        """A township account sees its own township's figures only."""
        return visible_to(actor, disaster.township_figures())

    def history(self, actor: Actor, disaster_id_: UUID) -> list[Any]:
        self.get(actor, disaster_id_)
        return list(self.app.events.get(disaster_id_))

    # --- parts ------------------------------------------------------------------------

    def _file(
        self, actor: Actor, disaster_id_: UUID, report: FiguresReport, kind: ReportKind,
        expected_version: int | None, idempotency: IdempotencyKey | None, refiles: int | None,
        current: Disaster | None = None,
    ) -> CommandResult:
        actors.require_writer(actor)
        current = current if current is not None else self._load(disaster_id_)
        actors.require_reader(actor, current.county)
        problems = Problems()
        as_of = self.inputs.past_time(report.as_of, "as_of", problems)
        phoned_at = self.inputs.phoned_at(report.phoned_at, as_of, problems)
        figures = self.inputs.figures(current.county, report.figures, problems)
        attachments = self.inputs.attachments(report.attachments, problems)
        if report.subtype is not None:
            self.rt.hazards.require(current.hazard, report.subtype)
        problems.raise_if_any("报告有误", "the report is invalid")

        def decide(d: Disaster) -> None:
            self._give_subtype(actor, d, report.subtype)
            if kind is ReportKind.FINAL:
                permissions.require_county_filer(actor, d.county)
                self._require_photos(d, attachments)
                d.file_final(figures=figures, as_of=as_of, explanation=report.explanation,
                             actor=actor.as_dict(), policy=self._policy(), refiles=refiles,
                             attachments=attachments)
            else:
                permissions.require_filer(actor, d.county, list(figures))
                d.file_follow_up(figures=figures, as_of=as_of, explanation=report.explanation,
                                 phoned_at=phoned_at, actor=actor.as_dict(), policy=self._policy(),
                                 refiles=refiles, attachments=attachments)

        return self._update(disaster_id_, decide, expected_version, idempotency, status=201, loaded=current)

    def _update(
        self, disaster_id_: UUID, decide: Any, expected_version: int | None,
        idempotency: IdempotencyKey | None, status: int = 200, loaded: Disaster | None = None,
    ) -> CommandResult:
        """Load (or take the process the request already loaded), decide, save; a lost race reloads."""
        first = [loaded] if loaded is not None else []

        def attempt() -> tuple[Disaster, list[Any], int]:
            d = first.pop() if first else self._load(disaster_id_)
            check_version(d, expected_version)
            decide(d)
            return d, [], status

        return run(self.app, attempt, idempotency)

    def _load(self, disaster_id_: UUID) -> Disaster:
        try:
            found: Any = self.app.repository.get(disaster_id_)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Disaster):
            raise NotFound(f"灾害过程 {disaster_id_} 不存在", f"disaster process {disaster_id_} not found")
        return found

    def _require_photos(self, d: Disaster, attachments: list[dict[str, str]]) -> None:
        """When a response level was launched, the process's reports carry at least N photos by the
        核报 (自然灾害情况统计调查制度: ≥ 3 photos with the 快报 when a response was launched; configurable)."""
        needed = self.rt.rules.reports.min_photos_with_response
        if d.response is None or needed <= 0:
            return
        earlier = {a["sha256"] for e in self.app.events.get(d.id) for a in (getattr(e, "attachments", None) or [])
                   if a.get("kind") == "photo"}
        photos = earlier | {a["sha256"] for a in attachments if a["kind"] == "photo"}
        if len(photos) < needed:
            raise InvalidInput(
                f"已启动应急响应，核报前须附至少 {needed} 张照片（现有 {len(photos)} 张）",
                f"a response level was launched: the reports need at least {needed} photos by the final report "
                f"({len(photos)} so far)",
                fields=[FieldProblem("attachments", "photos_required", f"at least {needed} photos (kind photo)")],
                code="photos_required",
            )

    def _require_subtype(self, actor: Actor, hazard: str, subtype: str | None, problems: Problems) -> None:
        """自然灾害情况统计调查制度: the county fills the 亚灾种 where the 一级灾种 has them; a township's
        filing may leave it out (the county gives it when it first acts on the process)."""
        known = self.rt.hazards.hazards.get(hazard)
        if actor.role is not Role.TOWNSHIP and subtype is None and known is not None and known.subtypes:
            problems.add("subtype", "subtype_required",
                         f"the county gives the sub-type (亚灾种) of {hazard}: one of {', '.join(known.subtypes)}")

    def _give_subtype(self, actor: Actor, d: Disaster, subtype: str | None) -> None:
        """The first county action on a process without a 亚灾种 gives it (in the same save); changing
        one already given is a 勘误."""
        problems = Problems()
        if subtype is not None and d.subtype is not None and subtype != d.subtype:
            problems.add("subtype", "subtype_differs",
                         f"the process's sub-type is {d.subtype}; changing it is a correction (勘误)")
        elif subtype is not None and d.subtype is None:
            d.give_subtype(subtype, actor.as_dict())
        self._require_subtype(actor, d.hazard, d.subtype, problems)
        problems.raise_if_any("须填写亚灾种", "the sub-type (亚灾种) is required", SubtypeRequired)

    def _get(self, aggregate_id: UUID) -> Any | None:
        try:
            return self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _key(self, county: str, disaster_date: date, hazard: str) -> KeyState:
        return key_state(self._get, county, disaster_date, hazard)

    def _policy(self) -> ReportPolicy:
        rules = self.rt.rules
        return ReportPolicy(
            indicators=self.rt.indicators,
            jump_ratio=rules.reports.jump_ratio,
            jump_min_delta=rules.reports.jump_min_delta,
            rules_version=rules.version,
        )


def visible_to(actor: Actor, by_township: dict[str, Any]) -> dict[str, Any]:
    """Per-township data an actor may see: a township account sees its own township only."""
    if actor.role is Role.TOWNSHIP:
        return {t: v for t, v in by_township.items() if actor.covers(t)}
    return by_township


class SubtypeRequired(InvalidInput):
    code = "subtype_required"


def _duplicate(existing: UUID) -> Conflict:
    return Conflict(
        f"该灾害过程已有初报（{existing}），请对其报送续报",
        f"a live disaster process already holds this county, date and type ({existing}); file a follow-up to it",
        details={"existing_id": str(existing)}, code="duplicate_process",
    )
