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
- the chain of receipt (§1.4 "each level within 2 h of receipt"): the level
  above the filer handles the 初报 by reviewing it; each level above that
  receives it when the level below handled it and handles it by its own
  upward report (`UpwardReport`, kind `initial`, naming the process) — or by
  reviewing it itself. The province is evaluated too;
- a daily report (24 h 零报告) for day D is any report the county records on
  D (due 09:00), the city's review of it on D or the city's daily upward report
  for D (due 10:00), and the province's daily upward report for D (due 12:00),
  for each day after a *triggering* response started — by default a
  provincial or national Ⅰ/Ⅱ response (a 特别重大/重大 disaster; a county's own
  Ⅰ/Ⅳ is not), or configured figure thresholds — until it ended, the disaster
  was declared stable (or, if so configured, until the 核报);
- 核报 clocks for the city and the province, where configured: the city's
  upward 核报 naming the process within N days of the county's 核报, the
  province's within M days of the city's.

`upward` is the list of upward reports (city / province) naming processes,
as the read side keeps them: `{"level", "kind", "day", "recorded_at",
"disaster_ids"}`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
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
    daily_governments: tuple[str, ...] = ("province", "national")
    daily_levels: tuple[int, ...] = (1, 2)
    daily_figures: tuple[tuple[str, int], ...] = ()
    daily_until: str = "stable"  # "stable" | "final"
    final_city_days: int | None = None
    final_province_days: int | None = None

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
                **_daily_trigger(raw["daily"]),
                final_city_days=_optional_days(raw["final"], "city_days"),
                final_province_days=_optional_days(raw["final"], "province_days"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"deadline rules {path or 'default'} are incomplete or invalid: {exc!r}") from exc


def _daily_trigger(daily: dict[str, Any]) -> dict[str, Any]:
    """Which responses or figures start the daily 零报告, and until when it is due."""
    trigger = daily.get("trigger", {})
    until = str(daily.get("until", "stable"))
    if until not in ("stable", "final"):
        raise ValueError(f"daily.until must be 'stable' or 'final', not {until!r}")
    figures = tuple((str(k), int(v)) for k, v in trigger.get("figures", {}).items())
    return {
        "daily_governments": tuple(str(g) for g in trigger.get("governments", ["province", "national"])),
        "daily_levels": tuple(int(level) for level in trigger.get("levels", [1, 2])),
        "daily_figures": figures,
        "daily_until": until,
    }


def _optional_days(section: dict[str, Any], name: str) -> int | None:
    return int(section[name]) if name in section else None


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
    "initial.city": "市级上报初报 (收到县级审核后 2 小时内)",
    "initial.province": "省级上报初报 (收到市级上报后 2 小时内)",
    "severe.province": "死亡失踪 10 人以上同时报省 (2 小时内)",
    "daily.county": "日报：县级 09:00 前",
    "daily.upper": "日报：市级 10:00 前审核",
    "daily.province": "日报：省级 12:00 前上报",
    "drought.follow_up": "旱灾每 10 日续报",
    "final.county": "灾情稳定后核报",
    "final.city": "市级核报 (县级核报后)",
    "final.province": "省级核报 (市级核报后)",
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


def evaluate(state: dict[str, Any], rules: DeadlineRules, now: datetime,
             upward: list[dict[str, Any]] | tuple[dict[str, Any], ...] = ()) -> list[Flag]:
    """Every deadline a process was subject to, with its status as of `now` (`upward`: the upward
    reports of the city and province, see the module's docstring)."""
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
    mine = [u for u in upward if state["id"] in (u.get("disaster_ids") or ())]
    _initial_chain(state, rules, mine, flag)
    _severe(state, rules, flag)
    _daily(state, rules, now, end, mine, flag)
    if state["hazard"] == "drought":
        _drought(state, rules, flag)
    stabilised = _dt(state.get("stabilised_at"))
    if stabilised is not None:
        final = _final(state)
        flag("final.county", "county", _unit(county, 6), stabilised + timedelta(days=rules.final_county_days),
             _arrival(final) if final else None, final["number"] if final else None)
        _final_chain(state, rules, mine, final, flag)
    return flags


def _final(state: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in state["reports"] if r["kind"] == "final" and r["review"] != "returned"), None)


def _upward_at(upward: list[dict[str, Any]], level: str, kind: str, day: date | None = None) -> datetime | None:
    """When `level` first filed an upward report of `kind` (for `day`) naming the process."""
    times = [_dt(u["recorded_at"]) for u in upward
             if u["level"] == level and u["kind"] == kind and (day is None or u.get("day") == day.isoformat())]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def _earliest(*moments: datetime | None) -> datetime | None:
    found = [m for m in moments if m is not None]
    return min(found) if found else None


def _initial_chain(state: dict[str, Any], rules: DeadlineRules, upward: list[dict[str, Any]], flag: Any) -> None:
    """Each level above the filer handles the 初报 within 2 h of its receipt (收到后 2 小时内)."""
    county, first = state["county"], state["reports"][0]
    hours = timedelta(hours=rules.upper_level_hours)
    by_township = (first.get("filed_by") or {}).get("role") == "township"
    # The level directly above the filer: the county for a township's 初报, the city for the county's.
    handled = _review_above(first, LEVELS[:1] if by_township else UPPER_LEVELS)
    if not by_township:
        handled = _earliest(handled, _upward_at(upward, "city", "initial"))
    flag("initial.upper", "county" if by_township else "city", _unit(county, 6 if by_township else 4),
         _arrival(first) + hours, handled, 1)
    if by_township and handled is not None:
        # The city received it when the county handled it; it reports upward (or the province reviewed it).
        received = handled
        handled = _earliest(_review_above(first, UPPER_LEVELS), _upward_at(upward, "city", "initial"))
        flag("initial.city", "city", _unit(county, 4), received + hours, handled, 1)
    if handled is not None:
        province = _earliest(_review_above(first, ("province",)), _upward_at(upward, "province", "initial"))
        flag("initial.province", "province", _unit(county, 2), handled + hours, province, 1)


def _final_chain(state: dict[str, Any], rules: DeadlineRules, upward: list[dict[str, Any]],
                 final: dict[str, Any] | None, flag: Any) -> None:
    """核报 of the city after the county's, of the province after the city's, where configured
    (a 地市 核报 only after its counties' 核报)."""
    if final is None or rules.final_city_days is None:
        return
    county = state["county"]
    city = _upward_at(upward, "city", "final")
    flag("final.city", "city", _unit(county, 4), _arrival(final) + timedelta(days=rules.final_city_days), city, None)
    if city is not None and rules.final_province_days is not None:
        flag("final.province", "province", _unit(county, 2), city + timedelta(days=rules.final_province_days),
             _upward_at(upward, "province", "final"), None)


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


def _triggers(change: dict[str, Any], rules: DeadlineRules) -> bool:
    """A 特别重大/重大 disaster: a response of a configured government level and Ⅰ–Ⅳ level (by default a
    provincial or national Ⅰ/Ⅱ; a county's own Ⅰ–Ⅳ does not make a disaster 特别重大/重大)."""
    return change.get("government_level") in rules.daily_governments and change.get("level") in rules.daily_levels


def _figures_trigger(state: dict[str, Any], rules: DeadlineRules) -> datetime | None:
    """When the counted figures first reached a configured threshold (e.g. deaths + missing), if ever."""
    if not rules.daily_figures:
        return None
    known: dict[str, dict[str, str]] = {}
    for report in state["reports"]:
        if report["review"] == "returned":
            continue
        for township, figures in report["figures"].items():
            known.setdefault(township, {}).update(figures)
        for keys, threshold in rules.daily_figures:
            total = sum((Decimal(f.get(k, "0")) for f in known.values() for k in keys.split("+")), Decimal(0))
            if total >= threshold:
                return _arrival(report)
    return None


def _response_days(state: dict[str, Any], until: datetime, rules: DeadlineRules) -> list[date]:
    """Days after a triggering response started (or the figures reached a threshold) and before it ended,
    the disaster was declared stable (or the 核报, as configured), or `until`."""
    final = _final(state)
    stop = min(until, _arrival(final)) if final else until
    stabilised = _dt(state.get("stabilised_at"))
    if rules.daily_until == "stable" and stabilised is not None:
        stop = min(stop, stabilised)
    days: set[date] = set()
    start: datetime | None = None
    for change in state.get("responses", []):
        decided = _dt(change["decided_at"])
        assert decided is not None
        if change["action"] in ("start", "adjust") and _triggers(change, rules):
            start = start or decided
        elif start is not None and (change["action"] == "end" or not _triggers(change, rules)):
            days |= _days_between(start, min(decided, stop))
            start = None
    if start is not None:
        days |= _days_between(start, stop)
    reached = _figures_trigger(state, rules)
    if reached is not None:
        days |= _days_between(reached, stop)
    return sorted(days)


def _days_between(start: datetime, stop: datetime) -> set[date]:
    first = start.astimezone(CHINA).date() + timedelta(days=1)
    last = stop.astimezone(CHINA).date()
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def _daily(state: dict[str, Any], rules: DeadlineRules, now: datetime, end: datetime,
           upward: list[dict[str, Any]], flag: Any) -> None:
    county = state["county"]
    by_day: dict[date, dict[str, Any]] = {}
    for report in state["reports"]:
        by_day.setdefault(_arrival(report).astimezone(CHINA).date(), report)
    for day in _response_days(state, end, rules):
        report = by_day.get(day)
        number = report["number"] if report else None
        county_due = datetime.combine(day, rules.daily_county, CHINA)
        city_due = datetime.combine(day, rules.daily_city, CHINA)
        province_due = datetime.combine(day, rules.daily_province, CHINA)
        if county_due > now:
            continue
        flag("daily.county", "county", _unit(county, 6), county_due, _arrival(report) if report else None, number)
        reviewed = _upper_review(report) if report else None
        same_day = reviewed if reviewed and reviewed.astimezone(CHINA).date() == day else None
        city = _earliest(same_day, _upward_at(upward, "city", "daily", day))
        flag("daily.upper", "city", _unit(county, 4), city_due, city, number)
        flag("daily.province", "province", _unit(county, 2), province_due,
             _upward_at(upward, "province", "daily", day), number)


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
