"""One household head in one disaster process: its open housing case (at most one) and its relief cases.

A household may get relief (应急期, 过渡期 …) and reconstruction help for the same
disaster: the relief cases that name the process and the housing case of the
same head are linked here, never refused for it. A second open housing case of
the same head and process is refused with the first one's id. Keyed by the
process and the keyed hash of the head's ID number (never the number).
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.store.errors import Conflict


def household_id(disaster_id: UUID, id_hash: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/disaster-households/{disaster_id}/{id_hash}")


class DisasterHousehold(Aggregate):
    @classmethod
    def create_id(cls, disaster_id: UUID, id_hash: str, **_: Any) -> UUID:
        return household_id(disaster_id, id_hash)

    @event("Registered")
    def __init__(self, disaster_id: UUID, id_hash: str) -> None:
        self.disaster_id = disaster_id
        self.housing_case: UUID | None = None
        self.relief_cases: list[UUID] = []

    def take_housing(self, case_id: UUID) -> None:
        if self.housing_case is not None:
            raise Conflict("该户主在本灾害过程已有未销号的重建档案",
                           "this household head already has an open housing case for this disaster",
                           details={"existing_id": str(self.housing_case)}, code="duplicate_case")
        self._housing_opened(case_id=case_id)

    @event("HousingCaseOpened")
    def _housing_opened(self, case_id: UUID) -> None:
        self.housing_case = case_id

    def release_housing(self, case_id: UUID) -> None:
        if self.housing_case == case_id:
            self._housing_released(case_id=case_id)

    @event("HousingCaseReleased")
    def _housing_released(self, case_id: UUID) -> None:
        self.housing_case = None

    def link_relief(self, case_id: UUID) -> None:
        if case_id not in self.relief_cases:
            self._relief_linked(case_id=case_id)

    @event("ReliefCaseLinked")
    def _relief_linked(self, case_id: UUID) -> None:
        self.relief_cases.append(case_id)
