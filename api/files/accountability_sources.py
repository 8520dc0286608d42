"""Sections of the accountability report whose rows come from read models (relief; housing later).

Each is queried by the report's area and period from the caught-up projections
(the server's, or opened and brought up to date here): postings recorded late
(公示补录), people / cards / phones in two open households, township reviews and
county decisions past the configured days (河南 C58), the 冬春 season's clocks,
relief later than the target after the disaster, and villages where every
household got the same amount. Rows are plain JSON values; no personal data.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from api.files.relief import projection_view
from ledger.audit.accountability_scan import iso, yuan
from ledger.audit.accountability_sections import STATUS_NAMES
from projections.housing.reconcile import reconciliation_of
from projections.relief.season import season_flags
from projections.relief.timeliness import timeliness_of

if TYPE_CHECKING:
    from ledger.runtime import LedgerRuntime


CHINA = ZoneInfo("Asia/Shanghai")


LATE_STEPS = {"township_review_late": "乡镇审核超时", "county_decision_late": "县级审批超时"}


BREACH_NAMES = {"late": "超时救助", "not_yet_relieved": "尚未救助"}


def projection_sections(runtime: LedgerRuntime, host: Any, prefix: str, start: datetime, end: datetime
                        ) -> dict[str, list[dict[str, Any]]]:
    with ExitStack() as stack:
        roster = stack.enter_context(projection_view(runtime, "roster", host))
        board = stack.enter_context(projection_view(runtime, "board", host))
        housing = stack.enter_context(projection_view(runtime, "housing", host))
        return {**relief_sections(runtime, roster, board, prefix, start, end),
                **housing_sections(runtime, housing, board, prefix, start, end)}


def housing_sections(runtime: LedgerRuntime, housing: Any, board: Any, prefix: str, start: datetime, end: datetime
                     ) -> dict[str, list[dict[str, Any]]]:
    first, last = start.astimezone(CHINA).date(), (end - timedelta(seconds=1)).astimezone(CHINA).date()

    def name(code: str | None) -> str | None:
        area = runtime.areas.get(code) if code else None
        return area.name if area else None

    above = [{
        "case_id": r["case_id"], "disaster_id": r["disaster_id"], "county": r["county"], "village": r["village"],
        "village_name": name(r["village"]), "damage": r["damage"], "rooms": int(r["rooms"]), "mode": r["mode"],
        "subsidy_fen": int(r["subsidy_fen"]), "subsidy_yuan": yuan(int(r["subsidy_fen"])),
        "standard_fen": int(r["standard_fen"]), "standard_yuan": yuan(int(r["standard_fen"])),
        "reason": r["approval_reason"], "standard_row": r["standard_row"], "table_version": r["table_version"],
        "approved_at": iso(r["approved_at"]),
    } for r in housing.above_standard(prefix, start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat())]
    dates = {did: row["disaster_date"] for did, row in board.get(housing.disasters(prefix)).items()}
    differences = [{
        "disaster_id": did, "disaster_date": dates[did], **d.as_dict(), "township_name": name(d.township),
    } for did, d in reconciliation_of(housing, board, prefix)
        if did in dates and first.isoformat() <= dates[did] <= last.isoformat()]
    return {"housing_above_standard": above, "housing_reconciliation": differences}


def relief_sections(runtime: LedgerRuntime, roster: Any, board: Any, prefix: str, start: datetime, end: datetime
                    ) -> dict[str, list[dict[str, Any]]]:
    first, last = start.astimezone(CHINA).date(), (end - timedelta(seconds=1)).astimezone(CHINA).date()
    rules = runtime.relief_rules
    today = runtime.now().astimezone(CHINA).date()

    def name(code: str | None) -> str | None:
        area = runtime.areas.get(code) if code else None
        return area.name if area else None

    backdated = [{
        "case_id": r["case_id"], "county": r["county"], "village": r["village"], "village_name": name(r["village"]),
        "programme": r["programme"], "period": r["period"], "assessed_on": r["assessed_on"],
        "posting_start": r["posting_start"], "posting_end": r["posting_end"],
        "recorded_at": iso(r["posting_recorded_at"]), "backdated_days": int(r["posting_backdated_days"]),
        "reason": r["posting_reason"],
    } for r in roster.backdated_postings(prefix, start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat())]
    matches = [{k: r[k] for k in ("kind", "kind_name", "programme", "period", "case_a", "village_a", "role_a",
                                  "case_b", "village_b", "role_b")} | {"applied_b": max(r["applied_a"], r["applied_b"])}
               for r in roster.matches(prefix, applied_from=first.isoformat(), applied_to=last.isoformat())]
    late = [{
        "kind": r["kind"], "kind_name": LATE_STEPS[r["kind"]], "case_id": r["case_id"], "village": r["village"],
        "village_name": name(r["village"]), "programme": r["programme"], "period": r["period"],
        "since": _day(r["since"]), "days_overdue": r["days_overdue"], "rules_version": rules.version,
    } for r in roster.overdue(prefix, today, rules, list(LATE_STEPS)) if r["since"] and first <= r["since"] <= last]
    seasons = sorted({f"{y}-{y + 1}" for y in range(first.year - 1, last.year + 1)})
    clocks = [{
        "rule": f.rule, "rule_name": f.rule_name, "level": f.level, "area": f.area, "period": f.period,
        "due_on": f.due_on.isoformat(), "arrived_at": iso(f.arrived_at), "status": f.status,
        "status_name": STATUS_NAMES.get(f.status, f.status), "days_late": f.days_late, "rules_version": rules.version,
    } for period in seasons
        for f in season_flags(roster, rules, period, prefix, today, runtime.season_filings.filed_at(period))
        if f.status in ("late", "missing") and first <= f.due_on <= last]
    timely = [{
        "disaster_id": t.disaster_id, "occurred_at": iso(t.occurred_at), "case_id": i.case_id, "village": i.village,
        "first_relief_at": iso(i.first_relief_at), "hours": None if i.hours is None else str(i.hours),
        "target_hours": t.target_hours, "breach": i.breach, "breach_name": BREACH_NAMES[i.breach or "late"],
    } for t in timeliness_of(roster, board, prefix, None, rules.timeliness_target_hours, runtime.now()) if first <= t.occurred_at.astimezone(CHINA).date()
        <= last for i in t.breaches]
    equal = [{
        "village": r["village"], "village_name": name(r["village"]), "programme": r["programme"],
        "period": r["period"], "households": r["households"], "amount_fen": r["amount_fen"],
        "amount_yuan": yuan(r["amount_fen"]),
    } for r in roster.equal_amounts(prefix, rules.equal_amount_min_households)
        if r["last_approved_at"] and start.astimezone(UTC).isoformat() <= r["last_approved_at"]
        < end.astimezone(UTC).isoformat()]
    return {"backdated_postings": backdated, "household_matches": matches, "relief_late_steps": late,
            "season_deadlines": clocks, "relief_timeliness": timely, "equal_amounts": equal}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None

