"""Which incident a disaster process or an accident belongs to: one claim per linked object.

A `LinkClaim` is saved in the same save as the link, so one disaster or accident is never linked
to two incidents, even by two officers at once; its id is derived from the linked object's.
An incident opened through a disaster's response endpoint has an id derived from the disaster's.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

LINK_KINDS = ("disaster", "accident")


def link_id(kind: str, target_id: str | UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"/incident-links/{kind}/{target_id}")


def incident_of_disaster_id(disaster_id: str | UUID) -> UUID:
    """The id of the incident the response façade opens for a disaster that has none."""
    return uuid5(NAMESPACE_URL, f"/incidents/disaster/{disaster_id}")


class LinkClaim(Aggregate):
    """Holds a disaster or an accident for the incident it was linked to."""

    @classmethod
    def create_id(cls, kind: str, target_id: str, **_: Any) -> UUID:
        return link_id(kind, target_id)

    @event("Claimed")
    def __init__(self, kind: str, target_id: str, incident_id: UUID) -> None:
        self.incident_id = incident_id
