"""The Accident aggregate: one 生产安全事故, from the unit's first report to the investigation's close.

Companies have no accounts: the county regulator records the unit's report with the unit's own
stated time (`unit_reported_at`), and each regulator records its report to the next level with its
stated time. A 续报 may change the casualties or the direct loss; a change of casualties is a 补报,
due the day it is known and within 30 days of the accident (7 for road traffic and fire) — a
change after the window needs a written reason and is marked. The grade is recomputed on every
change and each regrading is its own event. Findings of 迟报 / 漏报 / 谎报 / 瞒报 are recorded
beside the reports, never by changing them. Every event carries the acting account and its unit,
and the rules' version where rules decided something.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.accidents.grading import Casualties, grade_of
from ledger.accidents.keys import accident_id
from ledger.accidents.rules import LEVELS, AccidentRules
from ledger.store.errors import Conflict, FieldProblem, InvalidInput


def _refuse(field_name: str, code: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(zh, en, fields=[FieldProblem(field_name, code, en)])


class AccidentClosed(Conflict):
    code = "accident_closed"


class Accident(Aggregate):
    """生产安全事故."""

    @classmethod
    def create_id(cls, county: str, occurred_at: datetime, unit_key: str, **_: Any) -> UUID:
        return accident_id(county, occurred_at, unit_key)

    @event("Recorded")
    def __init__(
        self, county: str, township: str, park: str | None, unit: dict[str, Any], unit_key: str, sector: str,
        occurred_at: datetime, place: str, summary: str, measures: str, casualties: dict[str, int],
        direct_loss_fen: int, source: str, unit_reported_at: datetime | None, grade: str, grade_basis: list[str],
        supplement_days: int, rules_version: str, area_edition: str, actor: dict[str, Any],
    ) -> None:
        self.county = county
        self.township = township
        self.sector = sector
        self.occurred_at = occurred_at
        self.casualties = casualties
        self.direct_loss_fen = direct_loss_fen
        self.grade = grade
        self.supplement_days = supplement_days
        self.reports = 1
        self.upward: dict[str, str] = {}  # "from>to" → reported_at (ISO)
        self.rescue_concluded_at: datetime | None = None
        self.investigation: dict[str, Any] | None = None
        self.findings: dict[str, dict[str, Any]] = {}  # finding id → kind, party found against, standing
        self.closed = False
        self.withdrawn = False

    # --- 续报 / 补报 ---------------------------------------------------------------------------

    def file_follow_up(
        self, *, as_of: datetime, reported_at: datetime | None, casualties: dict[str, int] | None,
        direct_loss_fen: int | None, text: str, explanation: str | None, rules: AccidentRules,
        actor: dict[str, Any],
    ) -> int:
        """续报; a change of casualties is a 补报 (regraded at once). Casualties it leaves out keep their
        figures. Returns the report's number."""
        rules_version = rules.version
        self._require_open()
        if as_of < self.occurred_at:
            raise _refuse("as_of", "before_occurrence", "统计时间早于事故发生时间", "as_of is before the accident")
        new = {**self.casualties, **(casualties or {})}
        loss = direct_loss_fen if direct_loss_fen is not None else self.direct_loss_fen
        changed = new != self.casualties
        decreased = [k for k, v in new.items() if v < self.casualties.get(k, 0)]
        if direct_loss_fen is not None and direct_loss_fen < self.direct_loss_fen:
            decreased.append("direct_loss_fen")
        window_end = self.occurred_at + timedelta(days=self.supplement_days)
        beyond_window = changed and as_of > window_end
        if (decreased or beyond_window) and not (explanation or "").strip():
            why = ("a decrease of " + ", ".join(decreased)) if decreased else (
                f"a casualty change more than {self.supplement_days} days after the accident")
            raise InvalidInput("伤亡人数减少或超过补报时限的变化须书面说明", f"{why} needs a written explanation",
                               fields=[FieldProblem("explanation", "explanation_required", f"{why} needs one")],
                               code="explanation_required")
        self._follow_up_filed(
            number=self.reports + 1, as_of=as_of, reported_at=reported_at,
            casualties=new if changed else None, direct_loss_fen=direct_loss_fen if loss != self.direct_loss_fen
            else None, text=text, explanation=explanation, supplement=changed, beyond_window=beyond_window,
            window_days=self.supplement_days, rules_version=rules_version, actor=actor,
        )
        result = grade_of(Casualties.of(new), loss, rules)
        if result.grade != self.grade:
            self._regraded(previous=self.grade, grade=result.grade, basis=list(result.basis), as_of=as_of,
                           report_number=self.reports, rules_version=rules_version, actor=actor)
        return self.reports

    @event("FollowUpFiled")
    def _follow_up_filed(
        self, number: int, as_of: datetime, reported_at: datetime | None, casualties: dict[str, int] | None,
        direct_loss_fen: int | None, text: str, explanation: str | None, supplement: bool, beyond_window: bool,
        window_days: int, rules_version: str, actor: dict[str, Any],
    ) -> None:
        self.reports = number
        if casualties is not None:
            self.casualties = casualties
        if direct_loss_fen is not None:
            self.direct_loss_fen = direct_loss_fen

    @event("Regraded")
    def _regraded(self, previous: str, grade: str, basis: list[str], as_of: datetime, report_number: int,
                  rules_version: str, actor: dict[str, Any]) -> None:
        self.grade = grade

    # --- the chain upward ------------------------------------------------------------------------

    def report_upward(self, *, from_level: str, to_level: str, reported_at: datetime, channel: str,
                      actor: dict[str, Any]) -> None:
        """A regulator's report to a higher level (逐级上报, or directly to the province)."""
        self._require_open()
        if LEVELS.index(to_level) <= LEVELS.index(from_level):
            raise _refuse("to_level", "not_above", "只能向上级报告", f"{to_level} is not above {from_level}")
        if reported_at < self.occurred_at:
            raise _refuse("reported_at", "before_occurrence", "上报时间早于事故发生时间",
                          "reported_at is before the accident")
        if f"{from_level}>{to_level}" in self.upward:
            raise Conflict("该级已向此上级报告", f"{from_level} has already reported to {to_level}",
                           code="already_reported")
        self._reported_upward(from_level=from_level, to_level=to_level, reported_at=reported_at, channel=channel,
                              actor=actor)

    @event("ReportedUpward")
    def _reported_upward(self, from_level: str, to_level: str, reported_at: datetime, channel: str,
                         actor: dict[str, Any]) -> None:
        self.upward[f"{from_level}>{to_level}"] = reported_at.isoformat()

    def conclude_rescue(self, concluded_at: datetime, actor: dict[str, Any]) -> None:
        """应急救援结束: no 续报 falls due after it."""
        self._require_open()
        if self.rescue_concluded_at is not None:
            raise Conflict("应急救援结束已记录", "the end of the rescue is already recorded", code="already_concluded")
        if concluded_at < self.occurred_at:
            raise _refuse("concluded_at", "before_occurrence", "结束时间早于事故发生时间",
                          "concluded_at is before the accident")
        self._rescue_concluded(concluded_at=concluded_at, actor=actor)

    @event("RescueConcluded")
    def _rescue_concluded(self, concluded_at: datetime, actor: dict[str, Any]) -> None:
        self.rescue_concluded_at = concluded_at

    # --- investigation (调查) ------------------------------------------------------------------

    def open_investigation(self, *, lead_level: str, required_level: str, opened_at: datetime, team: str,
                           rules_version: str, actor: dict[str, Any]) -> None:
        self._require_open()
        if self.investigation is not None:
            raise Conflict("调查已启动", "the investigation is already open", code="investigation_open")
        if LEVELS.index(lead_level) < LEVELS.index(required_level):
            raise _refuse("lead_level", "below_required", "牵头调查的层级低于该等级事故的要求",
                          f"a {self.grade} accident is investigated by {required_level} or higher")
        if opened_at < self.occurred_at:
            raise _refuse("opened_at", "before_occurrence", "调查启动时间早于事故发生时间",
                          "opened_at is before the accident")
        self._investigation_opened(lead_level=lead_level, required_level=required_level, opened_at=opened_at,
                                   team=team, grade=self.grade, rules_version=rules_version, actor=actor)

    @event("InvestigationOpened")
    def _investigation_opened(self, lead_level: str, required_level: str, opened_at: datetime, team: str,
                              grade: str, rules_version: str, actor: dict[str, Any]) -> None:
        self.investigation = {"lead_level": lead_level, "opened_at": opened_at.isoformat(), "submitted_at": None,
                              "extended": False, "approved_at": None}

    def submit_report(self, submitted_at: datetime, document: str, actor: dict[str, Any]) -> None:
        """The investigation report is submitted to the government for 批复: the approval clock starts."""
        inv = self._investigation()
        if inv["submitted_at"] is not None:
            raise Conflict("调查报告已提交", "the investigation report has already been submitted",
                           code="report_submitted")
        if submitted_at < datetime.fromisoformat(inv["opened_at"]):
            raise _refuse("submitted_at", "before_opening", "提交时间早于调查启动时间",
                          "submitted_at is before the investigation opened")
        self._report_submitted(submitted_at=submitted_at, document=document, actor=actor)

    @event("InvestigationReportSubmitted")
    def _report_submitted(self, submitted_at: datetime, document: str, actor: dict[str, Any]) -> None:
        assert self.investigation is not None
        self.investigation["submitted_at"] = submitted_at.isoformat()

    def extend_approval(self, days: int, max_days: int, reason: str, actor: dict[str, Any]) -> None:
        """批复 deadline extended once, by at most `max_days`, with a reason (493号令 第三十二条)."""
        inv = self._investigation()
        if inv["submitted_at"] is None or inv["approved_at"] is not None:
            raise Conflict("只能在调查报告提交后、批复前延长", "extend between the report's submission and its approval",
                           code="not_awaiting_approval")
        if inv["extended"]:
            raise Conflict("批复期限只能延长一次", "the approval deadline can be extended once only",
                           code="already_extended")
        if not 1 <= days <= max_days:
            raise _refuse("days", "out_of_range", "延长天数超出规定", f"extend by 1 to {max_days} days")
        if not reason.strip():
            raise _refuse("reason", "required", "延长须说明理由", "an extension needs a reason")
        self._approval_extended(days=days, reason=reason, actor=actor)

    @event("ApprovalDeadlineExtended")
    def _approval_extended(self, days: int, reason: str, actor: dict[str, Any]) -> None:
        assert self.investigation is not None
        self.investigation["extended"] = True

    def approve(self, approved_at: datetime, document: str, actor: dict[str, Any]) -> None:
        """批复 of the investigation report."""
        inv = self._investigation()
        if inv["submitted_at"] is None:
            raise Conflict("调查报告尚未提交", "the investigation report has not been submitted", code="no_report")
        if inv["approved_at"] is not None:
            raise Conflict("调查报告已批复", "the investigation report has already been approved", code="approved")
        if approved_at < datetime.fromisoformat(inv["submitted_at"]):
            raise _refuse("approved_at", "before_submission", "批复时间早于报告提交时间",
                          "approved_at is before the report was submitted")
        self._approved(approved_at=approved_at, document=document, actor=actor)

    @event("InvestigationApproved")
    def _approved(self, approved_at: datetime, document: str, actor: dict[str, Any]) -> None:
        assert self.investigation is not None
        self.investigation["approved_at"] = approved_at.isoformat()

    def close(self, closed_at: datetime, actor: dict[str, Any]) -> None:
        """结案, after the 批复."""
        inv = self._investigation()
        self._require_open()
        if inv["approved_at"] is None:
            raise Conflict("调查报告批复后方可结案", "close after the investigation report is approved",
                           code="not_approved")
        self._closed(closed_at=closed_at, actor=actor)

    @event("Closed")
    def _closed(self, closed_at: datetime, actor: dict[str, Any]) -> None:
        self.closed = True

    # --- findings (迟报 / 漏报 / 谎报 / 瞒报) and withdrawal -------------------------------------------

    def record_finding(self, *, kind: str, definition: dict[str, str], against: dict[str, str],
                       evidence: list[dict[str, str]], text: str, rules_version: str, actor: dict[str, Any]) -> str:
        """A finding beside the reports — the definition applied, whom it is against, the evidence —
        recorded at any time, also after the close or a withdrawal (a withdrawal may be what hid it).
        Returns the finding's id."""
        if not evidence:
            raise _refuse("evidence", "required", "认定须附证据", "a finding needs at least one piece of evidence")
        if not text.strip():
            raise _refuse("text", "required", "认定须写明事实", "a finding needs the facts found")
        finding_id = f"F{len(self.findings) + 1}"
        self._finding_recorded(finding_id=finding_id, kind=kind, definition=definition, against=against,
                               evidence=evidence, text=text, rules_version=rules_version, actor=actor)
        return finding_id

    @event("FindingRecorded")
    def _finding_recorded(self, finding_id: str, kind: str, definition: dict[str, str], against: dict[str, str],
                          evidence: list[dict[str, str]], text: str, rules_version: str,
                          actor: dict[str, Any]) -> None:
        self.findings[finding_id] = {"kind": kind, "against": against, "standing": True}

    def finding(self, finding_id: str) -> dict[str, Any]:
        found = self.findings.get(finding_id)
        if found is None or not found["standing"]:
            raise Conflict("没有此项有效认定", f"no standing finding {finding_id}", code="no_finding")
        return found

    def withdraw_finding(self, finding_id: str, reason: str, actor: dict[str, Any]) -> None:
        self.finding(finding_id)
        if not reason.strip():
            raise _refuse("reason", "required", "撤销认定须说明理由", "withdrawing a finding needs a reason")
        self._finding_withdrawn(finding_id=finding_id, reason=reason, actor=actor)

    @event("FindingWithdrawn")
    def _finding_withdrawn(self, finding_id: str, reason: str, actor: dict[str, Any]) -> None:
        self.findings[finding_id]["standing"] = False

    def withdraw(self, reason: str, actor: dict[str, Any]) -> None:
        """不属于生产安全事故: the record stays, but it counts nowhere and no clock runs."""
        self._require_open()
        if not reason.strip():
            raise _refuse("reason", "required", "撤销须说明理由", "a withdrawal needs a reason")
        self._withdrawn(reason=reason, actor=actor)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, actor: dict[str, Any]) -> None:
        self.withdrawn = True

    # --- rules ------------------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.withdrawn:
            raise AccidentClosed("该事故记录已撤销", "this accident record has been withdrawn")
        if self.closed:
            raise AccidentClosed("该事故已结案", "this accident has been closed")

    def _investigation(self) -> dict[str, Any]:
        if self.investigation is None:
            raise Conflict("调查尚未启动", "no investigation has been opened", code="no_investigation")
        return self.investigation
