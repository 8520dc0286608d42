"""The read side's fold of one incident, and the questions it answers: who held command at a moment,
and which 镇呼区应 calls waited longer than N minutes without an answer.

`fold(entries)` rebuilds the incident from its events as plain JSON (entries as made by
`ledger.accidents.state.entry`): links, every response per government with its changes, the
command periods (each commander from when until when), the support calls with their answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledger.incidents.aggregate import Incident

CHINA = ZoneInfo("Asia/Shanghai")


INCIDENT_EVENTS = (
    Incident.Opened, Incident.Linked, Incident.ResponseStarted, Incident.ResponseAdjusted, Incident.ResponseEnded,
    Incident.CommandTaken, Incident.CommandTransferred, Incident.SupportRequested, Incident.SupportAnswered,
    Incident.Closed,
)


def _at(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _who(e: dict[str, Any]) -> dict[str, Any]:
    return {"actor": e.get("actor"), "recorded_at": e["recorded_at"]}


def _change(e: dict[str, Any], action: str) -> dict[str, Any]:
    return {"action": action, "level": e.get("level"), "decided_at": e["decided_at"], "reason": e["reason"],
            "suggestion": e.get("suggestion"), "outside_suggestion": e.get("outside_suggestion", False),
            "via": e.get("via"), **_who(e)}


def fold(entries: list[dict[str, Any]]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    for e in entries:
        kind = e["type"]
        if kind == "Opened":
            s.update(id=e["id"], title=e["title"], category=e["category"], area=e["area"],
                     occurred_at=e["occurred_at"], origin=e.get("origin"), opened_by=e["actor"], links=[],
                     responses=[], command=[], calls=[], closed=None)
        elif kind == "Linked":
            s["links"].append({"kind": e["kind"], "id": e["target_id"], **_who(e)})
        elif kind == "ResponseStarted":
            key = f"{e['government_level']}|{e['area']}|{e['plan']}"
            s["responses"].append({"key": key, "government_level": e["government_level"], "area": e["area"],
                                   "plan": e["plan"], "plan_version": e["plan_version"], "level": e["level"],
                                   "started_at": e["decided_at"], "ended_at": None,
                                   "changes": [_change(e, "start")]})
        elif kind in ("ResponseAdjusted", "ResponseEnded"):
            response = active_response(s, e["key"])
            if response is not None:
                if kind == "ResponseAdjusted":
                    response.update(level=e["level"], plan_version=e["plan_version"])
                    response["changes"].append(_change(e, "adjust"))
                else:
                    response.update(level=None, ended_at=e["decided_at"])
                    response["changes"].append(_change(e, "end"))
        elif kind in ("CommandTaken", "CommandTransferred"):
            if s["command"]:
                s["command"][-1]["until"] = e["since"]
            s["command"].append({"commander": e["commander"], "since": e["since"], "until": None,
                                 "reason": e["reason"], "handed_over_by": e.get("previous"), **_who(e)})
        elif kind == "SupportRequested":
            s["calls"].append({"request_id": e["request_id"], "township": e["township"], "what": e["what"],
                               "categories": e["categories"], "requested_at": e["requested_at"],
                               "requested_by": e["actor"], "answered_at": None, "outcome": None, "answer": None,
                               "answered_by": None})
        elif kind == "SupportAnswered":
            for call in s["calls"]:
                if call["request_id"] == e["request_id"]:
                    call.update(answered_at=e["answered_at"], outcome=e["outcome"], answer=e["what"],
                                answered_by=e["actor"])
        elif kind == "Closed":
            s["closed"] = {"at": e["closed_at"], "reason": e["reason"], **_who(e)}
            if s["command"] and s["command"][-1]["until"] is None:
                s["command"][-1]["until"] = e["closed_at"]
        s["version"] = e["version"]
        s["updated_at"] = e["recorded_at"]
    return s


def active_response(state: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((r for r in reversed(state["responses"]) if r["key"] == key and r["ended_at"] is None), None)


def commander_at(state: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The command period containing `moment` (since ≤ moment < until), or None."""
    for period in state.get("command", []):
        since, until = _at(period["since"]), _at(period["until"])
        assert since is not None
        if since <= moment and (until is None or moment < until):
            return period
    return None


def waiting_calls(state: dict[str, Any], minutes: int, now: datetime) -> list[dict[str, Any]]:
    """Calls not answered within `minutes` of the request: answered later, or still waiting at `now`."""
    out = []
    for call in state.get("calls", []):
        requested = _at(call["requested_at"])
        answered = _at(call["answered_at"])
        assert requested is not None
        waited = (answered or now) - requested
        if waited > timedelta(minutes=minutes):
            out.append({**call, "waited_minutes": int(waited.total_seconds() // 60),
                        "still_waiting": answered is None})
    return out


def active_levels(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The responses active now, one per government and plan."""
    return [r for r in state.get("responses", []) if r["ended_at"] is None]
