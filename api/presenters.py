"""Domain objects → response shapes (the one conversion at the outgoing edge)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from ledger.audit.replay import scrub
from ledger.disasters.aggregate import Disaster
from ledger.disasters.history import report_history
from ledger.disasters.permissions import visible_to
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from ledger.store.commands import CommandResult

# Event attributes that describe the world's time, by event type.
OCCURRED_AT = {
    "InitialReportFiled": "occurred_at",
    "FollowUpReportFiled": "as_of",
    "FinalReportFiled": "as_of",
    "DeclaredStable": "stabilised_at",
    "ResponseLevelChanged": "decided_at",
}
# Exact decimals travel as strings ("850.50"), never as binary floats.
EXACT = {Decimal: str}
BOOKKEEPING = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def command_response(result: CommandResult) -> JSONResponse:
    return JSONResponse(
        result.as_dict(),
        status_code=result.status,
        headers={"ETag": f'"{result.version}"', "Location": f"/v1/disasters/{result.id}"},
    )


def disaster_out(runtime: LedgerRuntime, actor: Actor, disaster: Disaster) -> dict[str, Any]:
    reports = report_history(runtime.app.events.get(disaster.id, lte=disaster.version))
    visible = runtime.disasters.visible_township_figures(actor, disaster)
    county = runtime.areas.get(disaster.county)
    hazard = runtime.hazards.hazards.get(disaster.hazard)
    totals: dict[str, Any] = {}
    for figures in visible.values():
        for key, value in figures.items():
            totals[key] = totals.get(key, 0) + value
    return jsonable_encoder(
        {
            "id": str(disaster.id),
            "version": disaster.version,
            "county": disaster.county,
            "county_name": county.name if county else None,
            "disaster_date": disaster.disaster_date,
            "hazard": disaster.hazard,
            "hazard_name": hazard.name if hazard else disaster.hazard,
            "subtype": disaster.subtype,
            "occurred_at": disaster.occurred_at,
            "stage": _plain(disaster.stage),
            "text": disaster.text,
            "response": disaster.response,
            "stabilised_at": disaster.stabilised_at,
            "retraction": disaster.retraction,
            "totals": totals,
            "townships": [
                {"code": code, "name": _area_name(runtime, code), "figures": figures}
                for code, figures in sorted(visible.items())
            ],
            "reports": [_report_out(actor, r, r["recorded_at"]) for r in reports],
        },
        custom_encoder=EXACT,
    )


def history_out(actor: Actor, events: list[Any]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        name = type(e).__name__
        payload = scrub({k: v for k, v in e.__dict__.items() if k not in BOOKKEEPING})
        if isinstance(payload.get("figures"), dict):
            payload["figures"] = visible_to(actor, payload["figures"])
        if isinstance(payload.get("jumps"), list):
            payload["jumps"] = _visible_jumps(actor, payload["jumps"])
        event_actor = payload.get("actor")
        occurred = payload.get(OCCURRED_AT.get(name, ""))
        out.append(
            {
                "version": e.originator_version,
                "type": name,
                "recorded_at": e.timestamp,
                "actor": event_actor,
                "unit": event_actor.get("unit") if isinstance(event_actor, dict) else None,
                "occurred_at": occurred if isinstance(occurred, datetime) else None,
                "payload": payload,
            }
        )
    return jsonable_encoder(out, custom_encoder={**EXACT, UUID: str})


def _visible_jumps(actor: Actor, jumps: list[dict[str, str]]) -> list[dict[str, str]]:
    shown = visible_to(actor, {j["township"]: j for j in jumps})
    return [j for j in jumps if j["township"] in shown]


def _report_out(actor: Actor, report: dict[str, Any], recorded_at: datetime | None) -> dict[str, Any]:
    return {
        "number": report["number"],
        "kind": _plain(report["kind"]),
        "review": _plain(report["review"]),
        "as_of": report["as_of"],
        "filed_by": report["filed_by"],
        "recorded_at": recorded_at,
        "townships": sorted(report["figures"]),
        "explanation": report["explanation"],
        "jumps": _visible_jumps(actor, report["jumps"]),
        "refiles": report["refiles"],
        "phoned_at": report["phoned_at"],
        "reviewed_by": report["reviewed_by"],
        "return_reason": report["return_reason"],
    }


def _area_name(runtime: LedgerRuntime, code: str) -> str | None:
    area = runtime.areas.get(code)
    return area.name if area else None


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value
