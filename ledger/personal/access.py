"""Reads of unmasked personal data, recorded as events: who, what, when, why."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class PersonalDataViewed(Aggregate):
    """A read of a household's unmasked personal data: who, which case, when, why."""

    @event("Viewed")
    def __init__(self, case_id: UUID, purpose: str, actor: dict[str, Any]) -> None:
        self.case_id = case_id
        self.purpose = purpose


class PersonalDataExported(Aggregate):
    """A roster exported with clear personal data: who, which programme, period and area, why."""

    @event("Exported")
    def __init__(self, programme: str, period: str, area: str, purpose: str, actor: dict[str, Any]) -> None:
        self.programme = programme
        self.period = period
        self.area = area
        self.purpose = purpose
