"""An accident command's raw values, checked at the edge of the domain (every bad field named at once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.accidents.grading import Casualties
from ledger.disasters.inputs import ReportInputs
from ledger.reference.codes import AreaCode, Level
from ledger.reference.credit_codes import credit_code_problem
from ledger.store.errors import InvalidInput, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


SOURCES = ("unit", "public_report", "inspection", "media", "other")
"""How the regulator learned of the accident: the unit's report, 举报, 检查, 媒体, other."""


CHANNELS = ("system", "phone", "fax", "document")


MAX_TEXT = 4000


@dataclass(frozen=True)
class AccidentReport:
    """The unit's first report, as the county regulator records it."""

    county: str
    township: str
    unit_name: str
    sector: str
    occurred_at: datetime
    place: str
    summary: str
    casualties: dict[str, Any]
    direct_loss_fen: int
    credit_code: str | None = None
    park: str | None = None
    measures: str = ""
    source: str = "unit"
    unit_reported_at: datetime | None = None


@dataclass(frozen=True)
class FollowUp:
    """续报 (with a casualty change: 补报)."""

    as_of: datetime
    text: str = ""
    casualties: dict[str, Any] | None = None
    direct_loss_fen: int | None = None
    explanation: str | None = None
    reported_at: datetime | None = None


@dataclass(frozen=True)
class UpwardReport:
    to_level: str
    reported_at: datetime
    channel: str = "system"
    from_level: str | None = None


@dataclass(frozen=True)
class InvestigationStep:
    at: datetime
    document: str = ""
    team: str = ""
    lead_level: str | None = None
    days: int = 0
    reason: str = ""


@dataclass
class AccidentInputs:
    runtime: LedgerContext
    problems: Problems = field(default_factory=Problems)

    def time(self, when: datetime, name: str) -> datetime:
        return ReportInputs(self.runtime).past_time(when, name, self.problems)

    def optional_time(self, when: datetime | None, name: str) -> datetime | None:
        return self.time(when, name) if when is not None else None

    def township(self, county: str, raw: str) -> str | None:
        try:
            code = AreaCode.parse(raw, "township")
        except InvalidInput as exc:
            self.problems.items.extend(exc.fields)
            return None
        if code.level is not Level.TOWNSHIP:
            self.problems.add("township", "not_a_township", f"{raw} is not a township (乡镇) code")
        elif not code.is_within(county):
            self.problems.add("township", "outside_county", f"township {raw} is not in county {county}")
        elif code not in self.runtime.areas:
            self.problems.add("township", "unknown_area", f"unknown township code {raw}")
        else:
            return code.prefix
        return None

    def casualties(self, raw: dict[str, Any] | None) -> Casualties | None:
        try:
            return Casualties.parse(raw)
        except InvalidInput as exc:
            self.problems.items.extend(exc.fields)
            return None

    def money(self, value: int | None, name: str) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            self.problems.add(name, "bad_amount", "a whole, non-negative number of fen")

    def text(self, value: str | None, name: str, required: bool = False) -> None:
        if required and not (value or "").strip():
            self.problems.add(name, "required", f"{name} is required")
        if value is not None and len(value) > MAX_TEXT:
            self.problems.add(name, "too_long", f"at most {MAX_TEXT} characters")

    def credit_code(self, raw: str | None) -> str | None:
        if raw is None or not raw.strip():
            return None
        problem = credit_code_problem(raw)
        if problem is not None:
            self.problems.add("credit_code", "bad_credit_code", problem)
            return None
        return raw.strip().upper()

    def one_of(self, value: str, allowed: tuple[str, ...], name: str) -> None:
        if value not in allowed:
            self.problems.add(name, f"bad_{name}", "one of: " + ", ".join(allowed))

    def raise_if_any(self, zh: str, en: str) -> None:
        self.problems.raise_if_any(zh, en)
