"""The Disaster aggregate: one 灾害过程 in one county.

A process is opened by its 初报 and then grows by 续报 until the county's 核报 closes it. Every report
carries, for the townships it names, their totals to date; townships it does not name keep their figures,
and indicators a report leaves out keep their value. For each township the figures that count are those of
the reports naming it that were not returned (驳回). The upper level reviews each report (accept / return),
corrects the date, type or text (勘误), changes the response level, or retracts the whole process (核销).
Nothing is edited: each of those is an event carrying the acting account, its unit and, where it describes
the world, when it happened. A refiled 初报 is listed as a 初报 again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.disasters.keys import disaster_id
from ledger.disasters.reports import (
    ProcessRetracted,
    ReportClosed,
    ReportKind,
    ReportPolicy,
    Review,
    Stage,
    check_consistency,
    check_report,
    find_report,
    new_report,
    refiled_kind,
    require_text,
    require_unreviewed,
    stage_of,
)
from ledger.disasters.responses import ResponseAction, check_response_change
from ledger.reference.indicators import (
    Figures,
    add_figures,
    figures_from_json,
    figures_to_json,
)
from ledger.store.errors import FieldProblem, InvalidInput

SUBTYPE_GIVEN = "县级填报亚灾种 / the county gives the sub-type (亚灾种)"


class Disaster(Aggregate):
    """灾害过程."""

    @classmethod
    def create_id(cls, county: str, disaster_date: date, hazard: str, process_number: int = 1, **_: Any) -> UUID:
        return disaster_id(county, disaster_date, hazard, process_number)

    # --- 初报 ------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        county: str,
        disaster_date: date,
        hazard: str,
        subtype: str | None,
        occurred_at: datetime,
        figures: dict[str, Figures],
        text: str,
        explanation: str | None,
        phoned_at: datetime | None,
        actor: dict[str, Any],
        policy: ReportPolicy,
        area_edition: str,
        process_number: int = 1,
        attachments: list[dict[str, str]] | None = None,
    ) -> Disaster:
        """初报 of the `process_number`-th process of its key (the first keeps the key's own id)."""
        check_consistency(policy.indicators, figures)
        return cls(
            county=county, disaster_date=disaster_date, hazard=hazard, subtype=subtype, occurred_at=occurred_at,
            figures={t: figures_to_json(f) for t, f in figures.items()}, text=text, explanation=explanation,
            phoned_at=phoned_at, actor=actor, rules_version=policy.rules_version, area_edition=area_edition,
            process_number=process_number, attachments=attachments or None,
        )

    @event("InitialReportFiled")
    def __init__(
        self,
        county: str,
        disaster_date: date,
        hazard: str,
        subtype: str | None,
        occurred_at: datetime,
        figures: dict[str, dict[str, str]],
        text: str,
        explanation: str | None,
        phoned_at: datetime | None,
        actor: dict[str, Any],
        rules_version: str,
        area_edition: str,
        process_number: int = 1,
        attachments: list[dict[str, str]] | None = None,
    ) -> None:
        self.county = county
        self.disaster_date = disaster_date
        self.hazard = hazard
        self.subtype = subtype
        self.occurred_at = occurred_at
        self.text = text
        self.stage = Stage.INITIAL
        self.response: dict[str, Any] | None = None
        self.retraction: dict[str, Any] | None = None
        self.stabilised_at: datetime | None = None
        self.reports: list[dict[str, Any]] = []
        self._add_report(ReportKind.INITIAL, figures, occurred_at, explanation, [], None, phoned_at, actor)

    # --- 续报 / 核报 / refiling ---------------------------------------------------

    def file_follow_up(
        self,
        *,
        figures: dict[str, Figures],
        as_of: datetime,
        explanation: str | None,
        phoned_at: datetime | None,
        actor: dict[str, Any],
        policy: ReportPolicy,
        refiles: int | None = None,
        attachments: list[dict[str, str]] | None = None,
    ) -> int:
        """续报: returns the new report's number."""
        self._require_open()
        if self.stage is Stage.FINAL:
            raise ReportClosed(
                "该灾害过程已核报，只能勘误", "the final report (核报) has been filed; only corrections are possible"
            )
        jumps = check_report(self, figures, as_of, explanation, policy, refiles)
        self._follow_up_filed(
            number=len(self.reports) + 1,
            figures={t: figures_to_json(f) for t, f in figures.items()},
            as_of=as_of,
            explanation=explanation,
            jumps=[j.as_dict() for j in jumps],
            refiles=refiles,
            phoned_at=phoned_at,
            actor=actor,
            rules_version=policy.rules_version,
            attachments=attachments or None,
        )
        return len(self.reports)

    @event("FollowUpReportFiled")
    def _follow_up_filed(
        self,
        number: int,
        figures: dict[str, dict[str, str]],
        as_of: datetime,
        explanation: str | None,
        jumps: list[dict[str, str]],
        refiles: int | None,
        phoned_at: datetime | None,
        actor: dict[str, Any],
        rules_version: str,
        attachments: list[dict[str, str]] | None = None,
    ) -> None:
        self._add_report(ReportKind.FOLLOW_UP, figures, as_of, explanation, jumps, refiles, phoned_at, actor)

    def file_final(
        self,
        *,
        figures: dict[str, Figures],
        as_of: datetime,
        explanation: str | None,
        actor: dict[str, Any],
        policy: ReportPolicy,
        refiles: int | None = None,
        attachments: list[dict[str, str]] | None = None,
    ) -> int:
        """核报: after it, figures change only by the upper level returning it."""
        self._require_open()
        if self.stage is Stage.FINAL:
            raise ReportClosed("该灾害过程已核报", "the final report (核报) has already been filed")
        jumps = check_report(self, figures, as_of, explanation, policy, refiles)
        self._final_filed(
            number=len(self.reports) + 1,
            figures={t: figures_to_json(f) for t, f in figures.items()},
            as_of=as_of,
            explanation=explanation,
            jumps=[j.as_dict() for j in jumps],
            refiles=refiles,
            actor=actor,
            rules_version=policy.rules_version,
            attachments=attachments or None,
        )
        return len(self.reports)

    @event("FinalReportFiled")
    def _final_filed(
        self,
        number: int,
        figures: dict[str, dict[str, str]],
        as_of: datetime,
        explanation: str | None,
        jumps: list[dict[str, str]],
        refiles: int | None,
        actor: dict[str, Any],
        rules_version: str,
        attachments: list[dict[str, str]] | None = None,
    ) -> None:
        self._add_report(ReportKind.FINAL, figures, as_of, explanation, jumps, refiles, None, actor)

    # --- review by the upper level ---------------------------------------------------

    def report(self, number: int) -> dict[str, Any]:
        return find_report(self.reports, number)

    def accept(self, number: int, actor: dict[str, Any]) -> None:
        self._require_open()
        self._require_unreviewed(number)
        self._accepted(number=number, actor=actor)

    @event("ReportAccepted")
    def _accepted(self, number: int, actor: dict[str, Any]) -> None:
        self.reports[number - 1]["review"] = Review.ACCEPTED
        self.reports[number - 1]["reviewed_by"] = actor

    def return_report(self, number: int, reason: str, actor: dict[str, Any]) -> None:
        """驳回: the report's figures stop counting until it is refiled."""
        self._require_open()
        self._require_unreviewed(number)
        require_text(reason, "reason")
        self._returned(number=number, reason=reason, actor=actor)

    @event("ReportReturned")
    def _returned(self, number: int, reason: str, actor: dict[str, Any]) -> None:
        report = self.reports[number - 1]
        report["review"] = Review.RETURNED
        report["reviewed_by"] = actor
        report["return_reason"] = reason
        self._restage()

    # --- 勘误, stabilisation, response level, 核销 ------------------------------------

    def correct(
        self,
        *,
        disaster_date: date | None,
        hazard: str | None,
        subtype: str | None,
        text: str | None,
        reason: str,
        actor: dict[str, Any],
        occurred_at: datetime | None = None,
    ) -> None:
        """勘误: changes the date (and time), type or text — never another level's figures. The id stays."""
        self._require_open()
        require_text(reason, "reason")
        changes: dict[str, Any] = {}
        if disaster_date is not None and disaster_date != self.disaster_date:
            changes["disaster_date"] = disaster_date
        if occurred_at is not None and occurred_at != self.occurred_at:
            changes["occurred_at"] = occurred_at
        if hazard is not None and hazard != self.hazard:
            changes["hazard"] = hazard
        if subtype is not None and (subtype != self.subtype or "hazard" in changes):
            changes["subtype"] = subtype
        if text is not None and text != self.text:
            changes["text"] = text
        if not changes:
            raise InvalidInput("勘误没有改变任何内容", "the correction changes nothing", code="nothing_to_correct")
        self._corrected(
            disaster_date=changes.get("disaster_date"),
            hazard=changes.get("hazard"),
            subtype=changes.get("subtype"),
            text=changes.get("text"),
            reason=reason,
            actor=actor,
            occurred_at=changes.get("occurred_at"),
        )

    @event("Corrected")
    def _corrected(
        self,
        disaster_date: date | None,
        hazard: str | None,
        subtype: str | None,
        text: str | None,
        reason: str,
        actor: dict[str, Any],
        occurred_at: datetime | None = None,
    ) -> None:
        if disaster_date is not None:
            self.disaster_date = disaster_date
        if occurred_at is not None:
            self.occurred_at = occurred_at
        if hazard is not None:
            self.hazard = hazard
            self.subtype = subtype
        elif subtype is not None:
            self.subtype = subtype
        if text is not None:
            self.text = text

    def give_subtype(self, subtype: str, actor: dict[str, Any]) -> None:
        """The county gives the 亚灾种 a township's filing left out (自然灾害情况统计调查制度: the county
        fills the 亚灾种). Recorded as a 勘误 of the 亚灾种 with who and why, so every reader follows it."""
        self._require_open()
        if subtype == self.subtype:
            return
        self._corrected(disaster_date=None, hazard=None, subtype=subtype, text=None,
                        reason=SUBTYPE_GIVEN, actor=actor)

    def declare_stable(self, stabilised_at: datetime, actor: dict[str, Any]) -> None:
        """灾情稳定: starts the 核报 clock."""
        self._require_open()
        if stabilised_at < self.occurred_at:
            raise InvalidInput(
                "稳定时间早于灾害发生时间", "stabilised_at is before the disaster occurred",
                fields=[FieldProblem("stabilised_at", "before_occurrence", "must not precede occurred_at")],
            )
        self._declared_stable(stabilised_at=stabilised_at, actor=actor)

    @event("DeclaredStable")
    def _declared_stable(self, stabilised_at: datetime, actor: dict[str, Any]) -> None:
        self.stabilised_at = stabilised_at

    def change_response(
        self,
        *,
        action: ResponseAction,
        level: int | None,
        plan: str,
        plan_version: str,
        government_level: str,
        decided_at: datetime,
        reason: str,
        actor: dict[str, Any],
    ) -> None:
        """启动 / 调整 / 终止 a response level (Ⅰ–Ⅳ) under a named plan."""
        self._require_open()
        require_text(reason, "reason")
        level = check_response_change(self.response, action, level, decided_at, self.occurred_at)
        self._response_changed(
            action=action.value, level=level, plan=plan, plan_version=plan_version,
            government_level=government_level, decided_at=decided_at, reason=reason, actor=actor,
        )

    @event("ResponseLevelChanged")
    def _response_changed(
        self,
        action: str,
        level: int | None,
        plan: str,
        plan_version: str,
        government_level: str,
        decided_at: datetime,
        reason: str,
        actor: dict[str, Any],
    ) -> None:
        self.response = {
            "action": action, "level": level, "plan": plan, "plan_version": plan_version,
            "government_level": government_level, "decided_at": decided_at, "reason": reason,
        }

    def retract(self, reason: str, actor: dict[str, Any]) -> None:
        """核销: the process no longer counts anywhere; its key is free for a new process (the service
        releases it in the same save)."""
        self._require_open()
        require_text(reason, "reason")
        self._retracted(reason=reason, actor=actor)

    @event("Retracted")
    def _retracted(self, reason: str, actor: dict[str, Any]) -> None:
        self.retraction = {"reason": reason, "actor": actor}
        self.stage = Stage.RETRACTED

    # --- derived state ------------------------------------------------------------------

    def township_figures(self) -> dict[str, Figures]:
        """For each township, the figures of the reports naming it that were not returned."""
        current: dict[str, Figures] = {}
        for report in self.reports:
            if report["review"] is Review.RETURNED:
                continue
            for township, figures in report["figures"].items():
                current.setdefault(township, {}).update(figures_from_json(figures))
        return current

    def county_totals(self) -> Figures:
        totals: Figures = {}
        for figures in self.township_figures().values():
            add_figures(totals, figures)
        return totals

    # --- rules ------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.stage is Stage.RETRACTED:
            raise ProcessRetracted("该灾害过程已核销", "this disaster process has been retracted (核销)")

    def _require_unreviewed(self, number: int) -> None:
        require_unreviewed(self.report(number), number)

    def _add_report(
        self,
        kind: ReportKind,
        figures: dict[str, dict[str, str]],
        as_of: datetime,
        explanation: str | None,
        jumps: list[dict[str, str]],
        refiles: int | None,
        phoned_at: datetime | None,
        actor: dict[str, Any],
    ) -> None:
        self.reports.append(new_report(len(self.reports) + 1, refiled_kind(self.reports, kind, refiles), figures,
                                       as_of, explanation, jumps, refiles, phoned_at, actor))
        self._restage()

    def _restage(self) -> None:
        """The stage follows the latest report that still counts."""
        if self.stage is not Stage.RETRACTED:
            self.stage = stage_of(self.reports)
