"""The disaster response endpoint as a façade over the Incident stream.

`POST /v1/disasters/{id}/response-level` keeps recording `Disaster.ResponseLevelChanged` on the
disaster (its deadlines and the board read it) and, in the same save, records the matching event
on the disaster's incident: the incident it is linked to, or — when it has none — one opened for
it (id derived from the disaster's, with its link claim). The response's key on the incident is
(government level, that government's area containing the county, plan): 启动 starts it, 调整
adjusts it (or, when the plan or level of government changed, ends the old one and starts the
new), 终止 ends it. A disaster whose response was started before incidents existed has it carried
over to the new incident, with the original decision's actor, time and reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.incidents.aggregate import Incident, response_key
from ledger.incidents.figures import linked_figures
from ledger.incidents.links import LinkClaim, link_id

AREA_DIGITS = {"township": 9, "county": 6, "city": 4, "province": 2, "national": 0}


def government_area(government_level: str, code: str) -> str:
    """The area-code prefix of the government at `government_level` whose area contains `code`."""
    return code[:AREA_DIGITS.get(government_level, 6)]


def incident_for_disaster(app: Any, disaster: Any, actor: dict[str, Any], previous: dict[str, Any] | None = None
                          ) -> tuple[Incident, list[Aggregate]]:
    """The disaster's incident, or a new one for it with its link claim (both to be saved); a new one takes
    over the disaster's response active before this change (`previous`)."""
    try:
        claim: Any = app.repository.get(link_id("disaster", disaster.id))
    except AggregateNotFoundError:
        claim = None
    if claim is not None:
        return app.repository.get(claim.incident_id), []
    incident = Incident(title=f"{disaster.county} {disaster.disaster_date.isoformat()} {disaster.hazard}",
                        category="natural_disaster", area=disaster.county, occurred_at=disaster.occurred_at,
                        actor=actor, origin={"kind": "disaster", "id": str(disaster.id)})
    incident.link("disaster", str(disaster.id), actor)
    _carry_over(app, incident, disaster, previous)
    return incident, [LinkClaim(kind="disaster", target_id=str(disaster.id), incident_id=incident.id)]


def _carry_over(app: Any, incident: Incident, disaster: Any, response: dict[str, Any] | None) -> None:
    """A response active on the disaster before incidents existed becomes active on the incident."""
    if not response or response.get("level") is None:
        return
    last = None
    for e in app.events.get(disaster.id):  # the stored events: the decision that made `response`
        if type(e).__name__ == "ResponseLevelChanged":
            last = e
    actor = last.actor if last is not None else {}
    incident.start_response(
        government_level=response["government_level"], area=government_area(response["government_level"],
                                                                             disaster.county),
        plan=response["plan"], plan_version=response["plan_version"], level=response["level"],
        decided_at=response["decided_at"], reason=response["reason"], suggestion=None, actor=actor,
        via=f"disaster:{disaster.id}:carried-over",
    )


def record_disaster_response(app: Any, plans: Any, rules: Any, disaster: Any, previous: dict[str, Any] | None,
                             change: Any, action: str, level: int | None, decided_at: datetime,
                             actor: dict[str, Any]) -> list[Aggregate]:
    """The incident's event for a disaster's response change; returns the aggregates to save with the disaster."""
    incident, others = incident_for_disaster(app, disaster, actor, previous)
    via = f"disaster:{disaster.id}"
    area = government_area(change.government_level, disaster.county)
    key = response_key(change.government_level, area, change.plan)
    old_key = None
    if previous and previous.get("level") is not None:
        old_key = response_key(previous["government_level"],
                               government_area(previous["government_level"], disaster.county), previous["plan"])
    if action == "end":
        if old_key in incident.responses:
            incident.end_response(key=old_key, decided_at=decided_at, reason=change.reason, actor=actor, via=via)
        return [incident, *others]
    assert level is not None
    figures = linked_figures(app, incident.links, rules, {str(disaster.id): disaster})
    suggestion = plans.suggest(change.plan, change.plan_version, figures)
    if action == "adjust" and old_key is not None and old_key != key and old_key in incident.responses:
        incident.end_response(key=old_key, decided_at=decided_at, reason=f"改按 {change.plan} 响应：{change.reason}",
                              actor=actor, via=via)
    if action == "adjust" and key in incident.responses:
        incident.adjust_response(key=key, level=level, plan_version=change.plan_version, decided_at=decided_at,
                                 reason=change.reason, suggestion=suggestion, actor=actor, via=via)
    else:
        incident.start_response(government_level=change.government_level, area=area, plan=change.plan,
                                plan_version=change.plan_version, level=level, decided_at=decided_at,
                                reason=change.reason, suggestion=suggestion, actor=actor, via=via)
    return [incident, *others]
