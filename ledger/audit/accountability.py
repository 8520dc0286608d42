"""The accountability report (问责报告) of an area and a period, from the event log itself.

One pass over the notification log (in order, up to one position) collects,
for the aggregates that lie in the area and the events recorded in the
period (Beijing civil dates, inclusive):

- `late_and_missing` — 迟报 / 未报: the deadline flags of the processes whose
  disaster date lies in the period, each process rebuilt by replaying its
  events with `ledger.disasters.state.apply` and evaluated at "now" with
  the deadline rules in force (`ledger.disasters.deadlines.evaluate`);
- `corrections` — 勘误: what changed (old → new), who, which unit, when, why;
- `retractions` — 核销 with the reason;
- `returns` — 驳回 of a report with the reason;
- `jumps` — 激增激减: each jump a 续报 / 核报 recorded, with its written explanation;
- `above_standard` — 县定 above the configured standard, with the written reason;
- `returned_or_reversed` — 退回 / 冲正 of payments, with the reason;
- `access_log` — every read of unmasked personal data (查看) and every roster
  exported with it (导出): who, which case (id and village — never the
  household's personal data), when, why;
- `actions_per_account` — how many events of each type each account recorded.

Where an aggregate lies: a disaster process by its county, a relief case by
its village, a fund by its county, a personal-data read by the village of the
case read, a roster export by its area (when it overlaps the report's area),
an account by its scope. The report covers a province, a city or a county
(2, 4 or 6 digits). Events without an acting account (key claims, token
index, idempotency records) count nowhere.

Rows are plain JSON values (str, int, None): times in Beijing time (ISO 8601
with +08:00), money as integer fen and as exact 元 text. Free text typed by
users (reasons, explanations, purposes, 灾情文字) passes through `scrub`, which
masks any run of ten or more digits (an ID, phone or card number typed into a
reason) to its last four. Nothing is written: building a report only reads.

Who may ask for it: auditors, and county, city and province accounts, for an
area within their scope (`require_report_reader`). Township staff, relief
officers and administrators may not: the report is about their own actions,
and it carries the log of reads of personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ledger.audit.accountability_scan import CHINA, AccountabilityScan, iso
from ledger.audit.accountability_sections import SECTION_KEYS
from ledger.reference.codes import AreaCode, Level
from ledger.store.actors import Actor, Role
from ledger.store.errors import FieldProblem, InvalidInput, NotPermitted

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


BATCH = 1000


REPORT_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY)


READER_ROLES = (Role.AUDITOR, Role.COUNTY, Role.CITY, Role.PROVINCE)


@dataclass
class AccountabilityReport:
    area: str  # the area-code prefix (2, 4 or 6 digits)
    area_name: str
    date_from: date
    date_to: date
    generated_at: datetime
    position: int
    """The last notification read: the report describes the log up to and including it."""
    rules_versions: dict[str, str]
    sections: dict[str, list[dict[str, Any]]]
    seal: list[str] = field(default_factory=list)
    """Digest lines of the seal checkpoint(s) the report was produced under (filled by the exporter)."""

    def counts(self) -> dict[str, int]:
        return {key: len(self.sections.get(key, [])) for key in SECTION_KEYS}

    def metadata(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "area_name": self.area_name,
            "period": {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()},
            "generated_at": iso(self.generated_at),
            "position": self.position,
            "rules_versions": dict(self.rules_versions),
            "counts": self.counts(),
            "seal": list(self.seal),
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.metadata(), "sections": {key: self.sections.get(key, []) for key in SECTION_KEYS}}


def report_area(runtime: LedgerContext, area: str) -> AreaCode:
    """The report's area: a known province, city or county (422 otherwise)."""
    code = AreaCode.parse(area, "area")
    runtime.areas.require(code, "area")
    if code.level not in REPORT_LEVELS:
        raise InvalidInput(
            "问责报告按省、市或县出具", "the report covers a province, a city or a county",
            fields=[FieldProblem("area", "bad_level", "a province (2), city (4) or county (6 digits) code")],
        )
    return code


EARLIEST_YEAR = 1949  # as for disaster dates: nothing in the ledger was recorded earlier


LATEST_YEAR = 9998  # keeps the period's end (the day after date_to, in Beijing) representable


def check_period(date_from: date, date_to: date) -> None:
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise InvalidInput(
                "日期超出范围", "the date is out of range",
                fields=[FieldProblem(name, "out_of_range", f"a date in the years {EARLIEST_YEAR}–{LATEST_YEAR}")],
            )
    if date_from > date_to:
        raise InvalidInput(
            "起始日期晚于截止日期", "date_from is after date_to",
            fields=[FieldProblem("date_from", "after_date_to", "date_from must not be after date_to")],
        )


def require_report_reader(actor: Actor, area: str) -> None:
    """Auditors, county, city and province accounts, for an area within their scope."""
    if actor.role not in READER_ROLES:
        raise NotPermitted(
            f"角色 {actor.role.value} 不能查看问责报告",
            f"role {actor.role.value} may not read the accountability report (auditors, county, city, province)",
        )
    prefix = AreaCode.parse(area, "area").prefix
    if not prefix.startswith(actor.scope):
        raise NotPermitted(f"{prefix} 不在本账号的管辖范围内", f"{prefix} is outside this account's scope")


def period_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start, end) of Beijing civil dates date_from … date_to inclusive."""
    return (datetime.combine(date_from, time(0), CHINA),
            datetime.combine(date_to + timedelta(days=1), time(0), CHINA))


class SectionSource(Protocol):
    """Rows of further sections (registered in SECTIONS) from a read model, by area and period, up to a position."""

    def rows(self, prefix: str, date_from: date, date_to: date, start: datetime, end: datetime, upto: int,
             now: datetime) -> dict[str, list[dict[str, Any]]]: ...


def build_report(runtime: LedgerContext, area: str, date_from: date, date_to: date, *,
                 upto: int | None = None, now: datetime | None = None,
                 sources: Sequence[SectionSource] = ()) -> AccountabilityReport:
    """The accountability report of `area` (province, city or county) for recorded dates
    `date_from` … `date_to` (Beijing, inclusive), from the log up to position `upto` (default:
    the head now), deadlines evaluated at `now` (default: the runtime's clock). Reads only.
    `sources` fill the sections that come from read models (accidents, relief checks, housing)."""
    code = report_area(runtime, area)
    check_period(date_from, date_to)
    now = now or runtime.now()
    head = runtime.position() if upto is None else upto
    start, end = period_bounds(date_from, date_to)
    scan = AccountabilityScan(runtime, code.prefix, start, end)
    app = runtime.app
    last = 0
    while last < head:
        notifications = app.recorder.select_notifications(last, limit=BATCH, stop=head, inclusive_of_start=False)
        if not notifications:
            break
        for notification in notifications:
            scan.add(app.mapper.to_domain_event(notification))
        last = notifications[-1].id
    scan.compliance(date_from, date_to, now)
    scan.action_rows()
    scan.rights_rows()
    for source in sources:
        scan.rows.update(source.rows(code.prefix, date_from, date_to, start, end, head, now))
    found = runtime.areas.get(code)
    return AccountabilityReport(
        area=code.prefix, area_name=found.name if found else code.prefix, date_from=date_from, date_to=date_to,
        generated_at=now, position=head,
        rules_versions={"deadlines": runtime.deadlines.version, "reports": runtime.rules.version,
                        "relief": runtime.relief_rules.version, "hazards": runtime.hazards.version,
                        "accidents": runtime.accident_rules.version},
        sections=scan.rows,
    )
