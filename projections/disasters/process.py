"""The read side's fold of one disaster process, applied event by event with work proportional to the event.

A process is kept as a small header (its keys — county, date, 一级灾种, 亚灾种 —,
stage, response, what each report awaiting review named, the latest report,
the county totals) and, per (township, indicator), a short stack: the value
of the latest accepted report naming it, then the values of the reports
still awaiting review (ledger/disasters/counted.py explains why that is
enough). The top of a stack is the value that counts. Applying an event
reads and writes only the stacks it touches and returns what changed:
`Change(township, indicator, old, new)` for each value that counts, and the
report rows to append or mark reviewed. Views keep the header as JSON and
the stacks as rows; the whole list of reports lives in its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from ledger.disasters.aggregate import Disaster

REPORT_EVENTS = (Disaster.InitialReportFiled, Disaster.FollowUpReportFiled, Disaster.FinalReportFiled)
KIND = {Disaster.InitialReportFiled: "initial", Disaster.FollowUpReportFiled: "follow_up",
        Disaster.FinalReportFiled: "final"}
KEYS = ("county", "disaster_date", "hazard", "subtype")


class Change(NamedTuple):
    township: str
    indicator: str
    old: str | None
    new: str | None


class Stacks(Protocol):
    def get(self, township: str, indicator: str) -> list[list[Any]]: ...

    def put(self, township: str, indicator: str, stack: list[list[Any]]) -> None: ...


@dataclass
class Applied:
    """What one event did: the header after it, the values that changed, the report rows to write, and
    whether the process's keys changed or it stopped counting (then everything it added moves)."""

    header: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    new_reports: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    keys_before: dict[str, Any] | None = None  # set when the keys changed or the process was retracted


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def apply(header: dict[str, Any] | None, event: Any, stacks: Stacks) -> Applied:
    """The header after `event` (a `Disaster` event), touching only the stacks the event names."""
    if isinstance(event, Disaster.InitialReportFiled):
        header = {
            "id": str(event.originator_id), "county": event.county, "disaster_date": event.disaster_date.isoformat(),
            "hazard": event.hazard, "subtype": event.subtype, "occurred_at": _iso(event.occurred_at),
            "text": event.text, "retracted": False, "response_level": None, "responses": [],
            "stabilised_at": None, "report_count": 0, "latest": None, "kinds": [], "pending": {},
            "totals": {}, "townships": {},
        }
    assert header is not None, "a disaster's first event is its 初报"
    out = Applied(header)
    if isinstance(event, REPORT_EVENTS):
        _filed(header, event, stacks, out)
    elif isinstance(event, (Disaster.ReportAccepted, Disaster.ReportReturned)):
        _reviewed(header, event, stacks, out)
    elif isinstance(event, Disaster.Corrected):
        before = {k: header[k] for k in KEYS}
        for name in ("disaster_date", "hazard", "subtype", "text", "occurred_at"):
            value = getattr(event, name, None)
            if value is not None:
                header[name] = value.isoformat() if isinstance(value, (date, datetime)) else value
        if event.hazard is not None:
            header["subtype"] = event.subtype  # a new 一级灾种 takes the 亚灾种 given with it, or none
        if any(header[k] != before[k] for k in KEYS):
            out.keys_before = before
    elif isinstance(event, Disaster.DeclaredStable):
        header["stabilised_at"] = _iso(event.stabilised_at)
    elif isinstance(event, Disaster.ResponseLevelChanged):
        header["response_level"] = event.level
        header["responses"].append({
            "action": event.action, "level": event.level, "decided_at": _iso(event.decided_at),
            "recorded_at": _iso(event.timestamp), "plan": event.plan,
            "government_level": event.government_level,  # which responses start the daily 零报告
        })
    elif isinstance(event, Disaster.Retracted):
        out.keys_before = {k: header[k] for k in KEYS}
        header["retracted"] = True
        header["retracted_at"] = _iso(event.timestamp)
    header["version"] = event.originator_version
    header["updated_at"] = _iso(event.timestamp)
    return out


def _filed(header: dict[str, Any], event: Any, stacks: Stacks, out: Applied) -> None:
    number = header["report_count"] + 1
    kind = KIND[type(event)]
    initials = header.setdefault("initials", [1])  # the numbers of the 初报 (the first, and any refiled 初报)
    if kind == "follow_up" and getattr(event, "refiles", None) in initials:
        kind = "initial"  # a refiled 初报 is a 初报 again
    if kind == "initial" and number not in initials:
        initials.append(number)
    recorded_at = _iso(event.timestamp)
    header["report_count"] = number
    header["latest"] = {"number": number, "kind": kind, "review": "submitted", "recorded_at": recorded_at}
    header["kinds"].append([number, kind])
    header["pending"][str(number)] = {t: list(f) for t, f in event.figures.items()}
    for township, figures in event.figures.items():
        for indicator, value in figures.items():
            stack = stacks.get(township, indicator)
            old = stack[-1][1] if stack else None
            stacks.put(township, indicator, [*stack, [number, value]])
            _changed(header, out, Change(township, indicator, old, value))
    out.new_reports.append({
        "number": number, "kind": kind, "review": "submitted", "figures": event.figures,
        "as_of": _iso(getattr(event, "as_of", None) or getattr(event, "occurred_at", None)),
        "recorded_at": recorded_at, "filed_by": event.actor, "phoned_at": _iso(getattr(event, "phoned_at", None)),
    })


def _reviewed(header: dict[str, Any], event: Any, stacks: Stacks, out: Applied) -> None:
    number = event.number
    accepted = isinstance(event, Disaster.ReportAccepted)
    review = "accepted" if accepted else "returned"
    named = header["pending"].pop(str(number), {})
    for township, indicators in named.items():
        for indicator in indicators:
            stack = stacks.get(township, indicator)
            old = stack[-1][1] if stack else None
            kept = [e for e in stack if e[0] >= number] if accepted else [e for e in stack if e[0] != number]
            if len(kept) != len(stack):  # an accepted report alone on its stack changes nothing
                stacks.put(township, indicator, kept)
                _changed(header, out, Change(township, indicator, old, kept[-1][1] if kept else None))
    kinds = header["kinds"]
    header["kinds"] = [k for k in kinds if k[0] >= number] if accepted else [k for k in kinds if k[0] != number]
    if header["latest"] and header["latest"]["number"] == number:
        header["latest"]["review"] = review
    out.reviews.append({"number": number, "review": review, "reviewed_at": _iso(event.timestamp),
                        "reviewed_by": event.actor})


def _changed(header: dict[str, Any], out: Applied, change: Change) -> None:
    """Keep the county totals and the townships with figures by the change (indicator → [sum, entries])."""
    if change.old == change.new:
        return
    out.changes.append(change)
    totals, townships = header["totals"], header["townships"]
    total = totals.setdefault(change.indicator, ["0", 0])
    total[0] = str(Decimal(total[0]) + Decimal(change.new or 0) - Decimal(change.old or 0))
    total[1] += (change.new is not None) - (change.old is not None)
    if not total[1]:
        del totals[change.indicator]
    count = townships.get(change.township, 0) + (change.new is not None) - (change.old is not None)
    if count:
        townships[change.township] = count
    else:
        townships.pop(change.township, None)


def stage(header: dict[str, Any]) -> str:
    if header["retracted"]:
        return "retracted"
    return header["kinds"][-1][1] if header["kinds"] else "initial"


def totals(header: dict[str, Any]) -> dict[str, Decimal]:
    """The county totals that count (none for a retracted process)."""
    if header["retracted"]:
        return {}
    return {k: Decimal(v[0]) for k, v in header["totals"].items()}


def full_state(header: dict[str, Any], reports: list[dict[str, Any]], current: dict[str, dict[str, str]]
               ) -> dict[str, Any]:
    """The process as readers know it (ledger/disasters/state.py's shape): the header's fields, every
    report (from its rows) and the figures that count."""
    state = {k: v for k, v in header.items()
             if k not in ("report_count", "latest", "kinds", "initials", "pending", "totals", "townships")}
    state["reports"] = reports
    state["current"] = current
    state["counted_kind"] = header["kinds"][-1][1] if header["kinds"] else None
    return state
