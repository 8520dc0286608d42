"""Report deadlines: when each report was due, when it arrived, and who was late (迟报 / 未报).

The rules are configuration (`data/deadlines.toml`, or a configured file);
each flag names the rule and the rules' version that produced it. The
evaluation is a pure function of a process's recorded facts — report,
review, response-level and stabilisation times, as the read side keeps them
(`ledger.disasters.state`) — and of "now", because a report that has
not arrived is missing only once its deadline has passed.

Interpretation (where the regulations leave room):
- a report phoned or faxed in while the system was down (`phoned_at`)
  arrived then; its later entry is a 补报, not a 迟报;
- the level above "reports upward" when it reviews (accepts or returns) the
  report: the city's or province's review is its handling within 2 h;
- a daily report (24 h 零报告) for day D is any report the county records on
  D (due 09:00) and its review by the level above on D (due 10:00), for each
  day after a response level started, until it ended or the 核报 was filed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


UPPER_LEVELS = ("city", "province")


LEVELS = ("county", "city", "province")


@dataclass(frozen=True)
class DeadlineRules:
    version: str
    county_initial_hours: float
    upper_level_hours: float
    severe_dead_or_missing: int
    severe_hours: float
    daily_county: time
    daily_city: time
    daily_province: time
    drought_follow_up_days: int
    final_county_days: int

    @classmethod
    def load(cls, path: Path | None = None) -> DeadlineRules:
        if path is None:
            text = (resources.files("ledger") / "data" / "deadlines.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        try:
            return cls(
                version=str(raw["version"]),
                county_initial_hours=float(raw["initial"]["county_hours"]),
                upper_level_hours=float(raw["initial"]["upper_level_hours"]),
                severe_dead_or_missing=int(raw["severe"]["dead_or_missing"]),
                severe_hours=float(raw["severe"]["hours"]),
                daily_county=time.fromisoformat(raw["daily"]["county"]),
                daily_city=time.fromisoformat(raw["daily"]["city"]),
                daily_province=time.fromisoformat(raw["daily"]["province"]),
                drought_follow_up_days=int(raw["drought"]["follow_up_days"]),
                final_county_days=int(raw["final"]["county_days"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"deadline rules {path or 'default'} are incomplete or invalid: {exc!r}") from exc


@dataclass(frozen=True)
class Flag:
    """One report that was due: on time, late (迟报), missing (未报) or not yet due (pending)."""

    disaster_id: str
    rule: str
    level: str  # county | city | province
    unit: str  # the responsible unit's area code (12 digits)
    due_at: datetime
    arrived_at: datetime | None
    status: str  # on_time | late | missing | pending
    report_number: int | None
    rules_version: str
    delay_seconds: int | None = None
    """How late it arrived (迟报), or how long overdue it is at evaluation (未报)."""


RULE_NAMES = {
    "initial.county": "县级初报 (2 小时内)",
    "initial.upper": "上一级审核上报初报 (收到后 2 小时内)",
    "severe.province": "死亡失踪 10 人以上同时报省 (2 小时内)",
    "daily.county": "日报：县级 09:00 前",
    "daily.upper": "日报：市级 10:00 前审核",
    "drought.follow_up": "旱灾每 10 日续报",
    "final.county": "灾情稳定后核报",
}


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)  # civil time is Beijing time


def _arrival(report: dict[str, Any]) -> datetime:
    """A report arrived when it was recorded — or earlier, when it was phoned in (补报)."""
    recorded = _dt(report["recorded_at"])
    phoned = _dt(report.get("phoned_at"))
    assert recorded is not None
    return min(recorded, phoned) if phoned else recorded


def _unit(code: str, digits: int) -> str:
    return code[:digits].ljust(12, "0")


def evaluate(state: dict[str, Any], rules: DeadlineRules, now: datetime) -> list[Flag]:
    """Every deadline a process was subject to, with its status as of `now`."""
    end = _dt(state.get("retracted_at")) or now
    county = state["county"]
    flags: list[Flag] = []

    def flag(rule: str, level: str, unit: str, due: datetime, arrived: datetime | None,
             number: int | None) -> None:
        delay = None
        if arrived is not None:
            status = "on_time" if arrived <= due else "late"
            if status == "late":
                delay = int((arrived - due).total_seconds())
        else:
            status = "missing" if due < end else "pending"
            if status == "missing":
                delay = int((end - due).total_seconds())
        if status == "pending" and state.get("retracted"):
            return  # nothing falls due in a retracted process
        flags.append(Flag(state["id"], rule, level, unit, due, arrived, status, number, rules.version, delay))

    reports = state["reports"]
    occurred = _dt(state["occurred_at"])
    assert occurred is not None and reports
    first = reports[0]
    flag("initial.county", "county", _unit(county, 6), occurred + timedelta(hours=rules.county_initial_hours),
         _arrival(first), 1)
    # The level above the filer handles the 初报 within 2 h of receipt: the county for a
    # township's report, the city for the county's.
    by_township = (first.get("filed_by") or {}).get("role") == "township"
    flag("initial.upper", "county" if by_township else "city", _unit(county, 6 if by_township else 4),
         _arrival(first) + timedelta(hours=rules.upper_level_hours),
         _review_above(first, LEVELS[:1] if by_township else UPPER_LEVELS), 1)
    _severe(state, rules, flag)
    _daily(state, rules, now, end, flag)
    if state["hazard"] == "drought":
        _drought(state, rules, flag)
    stabilised = _dt(state.get("stabilised_at"))
    if stabilised is not None:
        final = next((r for r in reports if r["kind"] == "final" and r["review"] != "returned"), None)
        flag("final.county", "county", _unit(county, 6), stabilised + timedelta(days=rules.final_county_days),
             _arrival(final) if final else None, final["number"] if final else None)
    return flags


def _upper_review(report: dict[str, Any]) -> datetime | None:
    return _review_above(report, UPPER_LEVELS)


def _review_above(report: dict[str, Any], roles: tuple[str, ...]) -> datetime | None:
    """When a reviewer of one of `roles` handled the report (accepted or returned it)."""
    reviewer = report.get("reviewed_by") or {}
    return _dt(report.get("reviewed_at")) if reviewer.get("role") in roles else None


def _severe(state: dict[str, Any], rules: DeadlineRules, flag: Any) -> None:
    """The first report whose figures reach >= 10 dead or missing is due at the province within 2 h."""
    known: dict[str, dict[str, str]] = {}
    for report in state["reports"]:
        if report["review"] == "returned":
            continue  # a returned report's figures count nowhere
        for township, figures in report["figures"].items():
            known.setdefault(township, {}).update(figures)
        dead_missing = sum(int(f.get("deaths", 0)) + int(f.get("missing", 0)) for f in known.values())
        if dead_missing >= rules.severe_dead_or_missing:
            as_of = _dt(report["as_of"])
            assert as_of is not None
            flag("severe.province", "county", _unit(state["county"], 6),
                 as_of + timedelta(hours=rules.severe_hours), _arrival(report), report["number"])
            return


def _response_days(state: dict[str, Any], until: datetime) -> list[date]:
    """Days after a response level started and before it ended, the 核报, or `until`."""
    final = next((r for r in state["reports"] if r["kind"] == "final" and r["review"] != "returned"), None)
    stop = min(until, _arrival(final)) if final else until
    days: set[date] = set()
    start: datetime | None = None
    for change in state.get("responses", []):
        decided = _dt(change["decided_at"])
        assert decided is not None
        if change["action"] == "start":
            start = decided
        elif change["action"] == "end" and start is not None:
            days |= _days_between(start, min(decided, stop))
            start = None
    if start is not None:
        days |= _days_between(start, stop)
    return sorted(days)


def _days_between(start: datetime, stop: datetime) -> set[date]:
    first = start.astimezone(CHINA).date() + timedelta(days=1)
    last = stop.astimezone(CHINA).date()
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def _daily(state: dict[str, Any], rules: DeadlineRules, now: datetime, end: datetime, flag: Any) -> None:
    county = state["county"]
    by_day: dict[date, dict[str, Any]] = {}
    for report in state["reports"]:
        by_day.setdefault(_arrival(report).astimezone(CHINA).date(), report)
    for day in _response_days(state, end):
        report = by_day.get(day)
        county_due = datetime.combine(day, rules.daily_county, CHINA)
        city_due = datetime.combine(day, rules.daily_city, CHINA)
        if county_due > now:
            continue
        flag("daily.county", "county", _unit(county, 6), county_due, _arrival(report) if report else None,
             report["number"] if report else None)
        reviewed = _upper_review(report) if report else None
        same_day = reviewed if reviewed and reviewed.astimezone(CHINA).date() == day else None
        flag("daily.upper", "city", _unit(county, 4), city_due, same_day, report["number"] if report else None)


def _drought(state: dict[str, Any], rules: DeadlineRules, flag: Any) -> None:
    """Drought: a 续报 every N days after the previous report until the 核报."""
    reports = state["reports"]
    every = timedelta(days=rules.drought_follow_up_days)
    for previous, following in zip(reports, [*reports[1:], None], strict=True):
        if previous["kind"] == "final":
            return
        due = _arrival(previous) + every
        flag("drought.follow_up", "county", _unit(state["county"], 6), due,
             _arrival(following) if following else None, following["number"] if following else None)
