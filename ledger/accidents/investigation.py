"""The investigation of an accident (事故调查): opened by the level the grade requires (or a higher one,
提级调查), its report submitted for 批复, the 批复 within 15 days (30 for 特别重大), extendable once with
a reason, then the close (493号令 第十九条, 第二十条, 第三十二条).

Who records the steps: a regulator covering the accident at the leading level or above; a 国务院
investigation is recorded by the province (the chain's top account).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.accidents.findings import ROLE_LEVEL
from ledger.accidents.inputs import AccidentInputs, InvestigationStep
from ledger.accidents.rules import LEVELS
from ledger.store.actors import Actor, refuse, require_writer
from ledger.store.commands import CommandResult, IdempotencyKey

if TYPE_CHECKING:
    from ledger.accidents.aggregate import Accident
    from ledger.store.context import LedgerContext


def require_lead(actor: Actor, county: str, lead_level: str) -> None:
    """The leading level (a 国务院 investigation: the province records it) or above, covering the county."""
    require_writer(actor)
    level = ROLE_LEVEL.get(actor.role)
    needed = min(LEVELS.index(lead_level), LEVELS.index("province"))
    if level is None or not actor.covers(county) or LEVELS.index(level) < needed:
        raise refuse(f"调查由{lead_level}级牵头，本账号不能记录", f"the investigation is led at {lead_level} level; "
                     "record its steps from that level or above, within scope")


class InvestigationSteps:
    """The investigation's use cases (mixed into `AccidentService`)."""

    rt: LedgerContext
    rules: Any

    def _update(self, accident_id_: UUID, decide: Callable[[Accident], None], expected_version: int | None,
                idempotency: IdempotencyKey | None, status: int = 200) -> CommandResult:
        raise NotImplementedError

    def _step_time(self, when: datetime, name: str) -> datetime:
        check = AccidentInputs(self.rt)
        at = check.time(when, name)
        check.raise_if_any("时间有误", "invalid time")
        return at

    def open_investigation(self, actor: Actor, accident_id_: UUID, step: InvestigationStep,
                           expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                           ) -> CommandResult:
        """调查 opened by the level the grade requires, or a higher one (提级); `lead_level` defaults to the acting level."""
        opened_at = self._step_time(step.at, "opened_at")

        def decide(a: Accident) -> None:
            required = self.rules.lead[a.grade]
            lead = step.lead_level or ROLE_LEVEL.get(actor.role) or required
            if lead not in LEVELS:
                lead = required
            require_lead(actor, a.county, lead)
            a.open_investigation(lead_level=lead, required_level=required, opened_at=opened_at, team=step.team,
                                 rules_version=self.rules.version, actor=actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency, status=201)

    def submit_investigation_report(self, actor: Actor, accident_id_: UUID, step: InvestigationStep,
                                    expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                                    ) -> CommandResult:
        submitted_at = self._step_time(step.at, "submitted_at")

        def decide(a: Accident) -> None:
            require_lead(actor, a.county, self._lead(a))
            a.submit_report(submitted_at, step.document, actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency)

    def extend_approval(self, actor: Actor, accident_id_: UUID, step: InvestigationStep,
                        expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                        ) -> CommandResult:
        def decide(a: Accident) -> None:
            require_lead(actor, a.county, self._lead(a))
            a.extend_approval(step.days, self.rules.extension_max_days, step.reason, actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency)

    def approve_investigation(self, actor: Actor, accident_id_: UUID, step: InvestigationStep,
                              expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                              ) -> CommandResult:
        """批复 of the investigation report."""
        approved_at = self._step_time(step.at, "approved_at")

        def decide(a: Accident) -> None:
            require_lead(actor, a.county, self._lead(a))
            a.approve(approved_at, step.document, actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency)

    def close(self, actor: Actor, accident_id_: UUID, step: InvestigationStep,
              expected_version: int | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """结案 after the 批复."""
        closed_at = self._step_time(step.at, "closed_at")

        def decide(a: Accident) -> None:
            require_lead(actor, a.county, self._lead(a))
            a.close(closed_at, actor.as_dict())

        return self._update(accident_id_, decide, expected_version, idempotency)

    @staticmethod
    def _lead(a: Accident) -> str:
        return str((a.investigation or {}).get("lead_level") or "county")
