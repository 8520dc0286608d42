"""The read side's fold of one disaster process, from its events, as plain JSON.

Projections keep this state per process (as JSON in their own tables) so
that each event is applied with one read and one write. It follows the
aggregate's rules: for each township the figures that count are those of
the reports naming it that were not returned; a retracted process counts
nowhere.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledger.disasters.aggregate import Disaster

REPORT_EVENTS = (Disaster.InitialReportFiled, Disaster.FollowUpReportFiled, Disaster.FinalReportFiled)


KIND = {
    Disaster.InitialReportFiled: "initial",
    Disaster.FollowUpReportFiled: "follow_up",
    Disaster.FinalReportFiled: "final",
}


STAGE_OF_KIND = {"initial": "initial", "follow_up": "follow_up", "final": "final"}


DISASTER_EVENTS = (
    *REPORT_EVENTS,
    Disaster.ReportAccepted,
    Disaster.ReportReturned,
    Disaster.Corrected,
    Disaster.DeclaredStable,
    Disaster.ResponseLevelChanged,
    Disaster.Retracted,
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def apply(state: dict[str, Any] | None, event: Any) -> dict[str, Any]:
    """The state after `event` (a `Disaster` event); `state` is None before the 初报."""
    if isinstance(event, Disaster.InitialReportFiled):
        state = {
            "id": str(event.originator_id),
            "county": event.county,
            "disaster_date": event.disaster_date.isoformat(),
            "hazard": event.hazard,
            "subtype": event.subtype,
            "occurred_at": _iso(event.occurred_at),
            "text": event.text,
            "retracted": False,
            "response_level": None,
            "responses": [],
            "stabilised_at": None,
            "reports": [],
        }
    assert state is not None, "a disaster's first event is its 初报"
    if isinstance(event, REPORT_EVENTS):
        kind = KIND[type(event)]
        refiles = getattr(event, "refiles", None)
        if refiles and kind == "follow_up" and 0 < refiles <= len(state["reports"]) \
                and state["reports"][refiles - 1]["kind"] == "initial":
            kind = "initial"  # a refiled 初报 is shown as a 初报
        state["reports"].append({
            "number": len(state["reports"]) + 1,
            "kind": kind,
            "refiles": refiles,
            "review": "submitted",
            "figures": event.figures,
            "as_of": _iso(getattr(event, "as_of", None) or getattr(event, "occurred_at", None)),
            "recorded_at": _iso(event.timestamp),
            "filed_by": event.actor,
            "phoned_at": _iso(getattr(event, "phoned_at", None)),
        })
        # The figures that count, kept up to date as reports arrive (a return recomputes them),
        # so a long process is not folded from its first report on every read.
        current = state.setdefault("current", {})
        for township, figures in event.figures.items():
            current.setdefault(township, {}).update(figures)
        state["counted_kind"] = kind
    elif isinstance(event, (Disaster.ReportAccepted, Disaster.ReportReturned)):
        report = state["reports"][event.number - 1]
        report["review"] = "accepted" if isinstance(event, Disaster.ReportAccepted) else "returned"
        report["reviewed_at"] = _iso(event.timestamp)
        report["reviewed_by"] = event.actor
        if report["review"] == "returned":
            _recount(state)
    elif isinstance(event, Disaster.Corrected):
        for name in ("disaster_date", "hazard", "subtype", "text", "occurred_at"):
            value = getattr(event, name, None)
            if value is not None:
                state[name] = value.isoformat() if isinstance(value, (date, datetime)) else value
        if event.hazard is not None:
            state["subtype"] = event.subtype  # a new 一级灾种 takes the 亚灾种 given with it, or none
    elif isinstance(event, Disaster.DeclaredStable):
        state["stabilised_at"] = _iso(event.stabilised_at)
    elif isinstance(event, Disaster.ResponseLevelChanged):
        state["response_level"] = event.level
        state.setdefault("responses", []).append({
            "action": event.action, "level": event.level, "decided_at": _iso(event.decided_at),
            "recorded_at": _iso(event.timestamp), "plan": event.plan,
            "government_level": event.government_level,  # which responses start the daily 零报告
        })
    elif isinstance(event, Disaster.Retracted):
        state["retracted"] = True
        state["retracted_at"] = _iso(event.timestamp)
    state["version"] = event.originator_version
    state["updated_at"] = _iso(event.timestamp)
    return state


def counted_reports(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in state["reports"] if r["review"] != "returned"]


def _recount(state: dict[str, Any]) -> None:
    """Fold the reports that still count (after a return)."""
    current: dict[str, dict[str, str]] = {}
    counted = counted_reports(state)
    for report in counted:
        for township, figures in report["figures"].items():
            current.setdefault(township, {}).update(figures)
    state["current"] = current
    state["counted_kind"] = counted[-1]["kind"] if counted else None


def stage(state: dict[str, Any]) -> str:
    if state["retracted"]:
        return "retracted"
    if "current" not in state:
        _recount(state)  # a state kept before the running fold existed
    kind = state["counted_kind"]
    return STAGE_OF_KIND[kind] if kind else "initial"


def township_figures(state: dict[str, Any]) -> dict[str, dict[str, Decimal]]:
    """Per township, the figures that count (empty for a retracted process)."""
    if state["retracted"]:
        return {}
    if "current" not in state:
        _recount(state)
    return {t: {k: Decimal(v) for k, v in f.items()} for t, f in state["current"].items()}


def totals(state: dict[str, Any]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for figures in township_figures(state).values():
        for key, value in figures.items():
            out[key] = out.get(key, Decimal(0)) + value
    return out


def latest_report(state: dict[str, Any]) -> dict[str, Any] | None:
    return state["reports"][-1] if state["reports"] else None
