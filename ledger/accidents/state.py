"""The read side's fold of one accident, from its events, as plain JSON.

`entry(event, position)` turns one `Accident` event into a plain dict (times as ISO text); the
projections keep an accident's entries, and `fold(entries, upto)` rebuilds its state from them
— up to a log position when a report must describe the log exactly up to there. The clocks
(`ledger.accidents.clocks`), the GraphQL reads and the accountability sections read this state.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from ledger.accidents.aggregate import Accident
from ledger.accidents.rules import GRADES

ACCIDENT_EVENTS = (
    Accident.Recorded, Accident.FollowUpFiled, Accident.Regraded, Accident.ReportedUpward,
    Accident.RescueConcluded, Accident.InvestigationOpened, Accident.InvestigationReportSubmitted,
    Accident.ApprovalDeadlineExtended, Accident.InvestigationApproved, Accident.Closed,
    Accident.FindingRecorded, Accident.FindingWithdrawn, Accident.Withdrawn,
)


BOOKKEEPING = {"originator_id", "originator_version", "timestamp", "originator_topic"}


CHINA = ZoneInfo("Asia/Shanghai")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(CHINA).isoformat()  # outputs in Beijing time, +08:00
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def entry(event: Any, position: int | None = None) -> dict[str, Any]:
    """One event as plain JSON: its type, version, log position and recorded time, and its data."""
    data = {k: _plain(v) for k, v in event.__dict__.items() if k not in BOOKKEEPING}
    return {"type": type(event).__name__, "id": str(event.originator_id), "version": event.originator_version,
            "position": position, "recorded_at": _plain(event.timestamp), **data}


def fold(entries: list[dict[str, Any]], upto: int | None = None) -> dict[str, Any]:
    """The accident's state from its entries (those at or before log position `upto`, if given)."""
    state: dict[str, Any] = {}
    for e in entries:
        if upto is not None and e.get("position") is not None and e["position"] > upto:
            break
        _apply(state, e)
    return state


def _who(e: dict[str, Any]) -> dict[str, Any]:
    return {"actor": e.get("actor"), "recorded_at": e["recorded_at"], "position": e.get("position")}


def _apply(s: dict[str, Any], e: dict[str, Any]) -> None:
    kind = e["type"]
    if kind == "Recorded":
        s.update({
            "id": e["id"], "county": e["county"], "township": e["township"], "park": e["park"], "unit": e["unit"],
            "sector": e["sector"], "occurred_at": e["occurred_at"], "place": e["place"], "summary": e["summary"],
            "measures": e["measures"], "source": e["source"], "unit_reported_at": e["unit_reported_at"],
            "casualties": e["casualties"], "direct_loss_fen": e["direct_loss_fen"], "grade": e["grade"],
            "grade_basis": e["grade_basis"], "max_grade": e["grade"], "supplement_days": e["supplement_days"],
            "rules_version": e["rules_version"], "recorded_by": e["actor"], "first_recorded_at": e["recorded_at"],
            "grades": [{"grade": e["grade"], "previous": None, "as_of": e["occurred_at"], "basis": e["grade_basis"],
                        "report_number": 1, "rules_version": e["rules_version"], **_who(e)}],
            "reports": [{"number": 1, "kind": "first", "as_of": e["occurred_at"],
                         "arrived_at": e["unit_reported_at"] or e["recorded_at"], "supplement": False,
                         "beyond_window": False, "explanation": None, "text": e["summary"], **_who(e)}],
            "upward": [], "rescue_concluded_at": None, "investigation": None, "findings": [], "withdrawn": None,
            "closed_at": None,
        })
    elif kind == "FollowUpFiled":
        s["reports"].append({
            "number": e["number"], "kind": "follow_up", "as_of": e["as_of"],
            "arrived_at": e["reported_at"] or e["recorded_at"], "supplement": e["supplement"],
            "beyond_window": e["beyond_window"], "window_days": e["window_days"], "casualties": e["casualties"],
            "direct_loss_fen": e["direct_loss_fen"], "explanation": e["explanation"], "text": e["text"], **_who(e),
        })
        if e["casualties"] is not None:
            s["casualties"] = e["casualties"]
        if e["direct_loss_fen"] is not None:
            s["direct_loss_fen"] = e["direct_loss_fen"]
    elif kind == "Regraded":
        s["grade"] = e["grade"]
        s["grade_basis"] = e["basis"]
        if GRADES.index(e["grade"]) > GRADES.index(s["max_grade"]):
            s["max_grade"] = e["grade"]
        s["grades"].append({"grade": e["grade"], "previous": e["previous"], "as_of": e["as_of"], "basis": e["basis"],
                            "report_number": e["report_number"], "rules_version": e["rules_version"], **_who(e)})
    elif kind == "ReportedUpward":
        s["upward"].append({"from_level": e["from_level"], "to_level": e["to_level"], "reported_at": e["reported_at"],
                            "channel": e["channel"], **_who(e)})
    elif kind == "RescueConcluded":
        s["rescue_concluded_at"] = e["concluded_at"]
    elif kind == "InvestigationOpened":
        s["investigation"] = {"lead_level": e["lead_level"], "required_level": e["required_level"],
                              "opened_at": e["opened_at"], "team": e["team"], "grade": e["grade"],
                              "submitted_at": None, "extension_days": 0, "extension_reason": None,
                              "approved_at": None, "document": None, "opened_by": e["actor"]}
    elif kind == "InvestigationReportSubmitted":
        s["investigation"]["submitted_at"] = e["submitted_at"]
    elif kind == "ApprovalDeadlineExtended":
        s["investigation"].update(extension_days=e["days"], extension_reason=e["reason"])
    elif kind == "InvestigationApproved":
        s["investigation"].update(approved_at=e["approved_at"], document=e["document"])
    elif kind == "Closed":
        s["closed_at"] = e["closed_at"]
    elif kind == "FindingRecorded":
        s["findings"].append({"id": e["finding_id"], "kind": e["kind"], "definition": e["definition"],
                              "against": e["against"], "evidence": e["evidence"], "text": e["text"],
                              "rules_version": e["rules_version"], "withdrawn": None, **_who(e)})
    elif kind == "FindingWithdrawn":
        for f in s["findings"]:
            if f["id"] == e["finding_id"]:
                f["withdrawn"] = {"reason": e["reason"], **_who(e)}
    elif kind == "Withdrawn":
        s["withdrawn"] = {"reason": e["reason"], **_who(e)}
    s["version"] = e["version"]
    s["updated_at"] = e["recorded_at"]


def status(state: dict[str, Any]) -> str:
    """open | rescue_concluded | investigating | closed | withdrawn."""
    if state.get("withdrawn"):
        return "withdrawn"
    if state.get("closed_at"):
        return "closed"
    if state.get("investigation"):
        return "investigating"
    if state.get("rescue_concluded_at"):
        return "rescue_concluded"
    return "open"
