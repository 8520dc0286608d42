"""A report's raw values, checked at the edge of the domain: the county, the townships and their figures, times, text.

Each check collects its problems (every bad field named at once) instead of
stopping at the first; the use cases raise them together. Times without an
offset are Beijing time; no time may lie in the future beyond the configured
clock skew, and nothing in this ledger happened before 1949.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ledger.reference.codes import AreaCode, Level
from ledger.reference.indicators import Figures
from ledger.store.errors import InvalidInput, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext

CHINA = ZoneInfo("Asia/Shanghai")
SHA256_REF = re.compile(r"^sha256:[0-9a-f]{64}$")
ATTACHMENT_KINDS = ("photo", "disaster_text", "relief_text", "other")  # 照片, 灾情文字说明, 救灾工作文字说明
EARLIEST_YEAR = 1949  # no report in this system describes an earlier disaster


@dataclass(frozen=True)
class InitialReport:
    """初报."""

    county: str
    hazard: str
    occurred_at: datetime
    figures: dict[str, dict[str, Any]]
    subtype: str | None = None
    text: str = ""
    explanation: str | None = None
    phoned_at: datetime | None = None
    attachments: tuple[dict[str, str], ...] = ()
    """附件: {sha256, type, name, kind} of files in the blob store (photos, 文字说明)."""


@dataclass(frozen=True)
class FiguresReport:
    """续报 or 核报: totals to date for the townships named."""

    figures: dict[str, dict[str, Any]]
    as_of: datetime
    explanation: str | None = None
    phoned_at: datetime | None = None
    subtype: str | None = None
    """亚灾种, when the county files for a process a township opened without one."""
    attachments: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Correction:
    """勘误."""

    reason: str
    disaster_date: date | None = None
    occurred_at: datetime | None = None
    hazard: str | None = None
    subtype: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class ResponseChange:
    action: str
    plan: str
    plan_version: str
    government_level: str
    decided_at: datetime
    reason: str
    level: int | None = None


class ReportInputs:
    """The checks of a report's raw values against the reference data and rules in force."""

    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime

    def county(self, raw: str, problems: Problems) -> str | None:
        try:
            code = AreaCode.parse(raw, "county")
        except InvalidInput as exc:
            problems.items.extend(exc.fields)
            return None
        if code.level is not Level.COUNTY:
            problems.add("county", "not_a_county", f"{raw} is a {code.level.value} code, not a county")
            return None
        if code not in self.rt.areas:
            problems.add("county", "unknown_area", f"unknown county code {raw}")
            return None
        return code.county

    def figures(self, county: str, raw: dict[str, dict[str, Any]], problems: Problems) -> dict[str, Figures]:
        if not raw:
            problems.add("figures", "required", "name at least one township with its figures")
        parsed: dict[str, Figures] = {}
        for township_raw, values in raw.items():
            where = f"figures.{township_raw}"
            try:
                code = AreaCode.parse(township_raw, where)
            except InvalidInput as exc:
                problems.items.extend(exc.fields)
                continue
            if code.level is not Level.TOWNSHIP:
                problems.add(where, "not_a_township", f"{township_raw} is not a township (乡镇) code")
                continue
            if not code.is_within(county):
                problems.add(where, "outside_county", f"township {township_raw} is not in county {county}")
                continue
            if code not in self.rt.areas:
                problems.add(where, "unknown_area", f"unknown township code {township_raw}")
                continue
            if not isinstance(values, dict) or not values:
                problems.add(where, "required", "give at least one indicator for this township")
                continue
            if code.prefix in parsed:
                problems.add(where, "duplicate_township", f"township {code.prefix} is named twice")
                continue
            figures, found = self.rt.indicators.parse(values, where)
            problems.items.extend(found)
            parsed[code.prefix] = figures
        return parsed

    def past_time(self, when: datetime, field_name: str, problems: Problems) -> datetime:
        if when.tzinfo is None:
            when = when.replace(tzinfo=CHINA)  # civil time without an offset is Beijing time
        try:
            in_utc: datetime | None = when.astimezone(UTC)
        except OverflowError:
            in_utc = None
        if in_utc is None or in_utc.year < EARLIEST_YEAR:
            problems.add(field_name, "out_of_range", f"{field_name} must not be before {EARLIEST_YEAR}")
            return self.rt.now()
        skew = timedelta(seconds=self.rt.rules.reports.clock_skew_seconds)
        if when > self.rt.now() + skew:
            problems.add(field_name, "in_future", f"{field_name} must not be in the future")
        return when

    def phoned_at(self, phoned_at: datetime | None, not_before: datetime, problems: Problems) -> datetime | None:
        """The time of an earlier phone/fax report (补报), normalised to an aware datetime."""
        if phoned_at is None:
            return None
        when = self.past_time(phoned_at, "phoned_at", problems)
        if when < not_before:
            problems.add("phoned_at", "before_occurrence", "the phone/fax report cannot precede the event")
        return when

    def attachments(self, raw: tuple[dict[str, str], ...] | list[dict[str, str]],
                    problems: Problems) -> list[dict[str, str]]:
        """Attachments name files already in the blob store (uploaded first), by their SHA-256."""
        out = []
        for i, item in enumerate(raw):
            ref = str(item.get("sha256", ""))
            if not SHA256_REF.match(ref):
                problems.add(f"attachments.{i}.sha256", "bad_reference", "sha256: and 64 lowercase hex digits")
            elif not self.rt.blobs.has(ref):
                problems.add(f"attachments.{i}.sha256", "unknown_attachment", "upload the file first")
            if item.get("kind") not in ATTACHMENT_KINDS:
                problems.add(f"attachments.{i}.kind", "bad_kind", f"one of: {', '.join(ATTACHMENT_KINDS)}")
            out.append({"sha256": ref, "type": str(item.get("type", "")), "name": str(item.get("name", "")),
                        "kind": str(item.get("kind", ""))})
        return out

    def text(self, text: str, problems: Problems) -> None:
        limit = self.rt.rules.reports.max_text_chars
        if len(text or "") > limit:
            problems.add("text", "too_long", f"the text report is limited to {limit} characters")
