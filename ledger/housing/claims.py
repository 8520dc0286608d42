"""The open housing cases of one disaster process: a 核销 of the process waits until none is open.

`ProcessHousing` is saved with every housing case that opens or closes and with
the 核销 itself, so a retraction and a new case racing each other cannot both
win (one of the two saves finds the register changed and re-decides).
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.store.errors import Conflict


def register_id(disaster_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"/process-housing/{disaster_id}")


class ProcessHousing(Aggregate):
    @classmethod
    def create_id(cls, disaster_id: UUID, **_: Any) -> UUID:
        return register_id(disaster_id)

    @event("Opened")
    def __init__(self, disaster_id: UUID) -> None:
        self.disaster_id = disaster_id
        self.open_cases: list[UUID] = []
        self.retracted = False

    def open_case(self, case_id: UUID) -> None:
        if self.retracted:
            raise Conflict("该灾害过程已核销", "the disaster process was retracted (核销)", code="process_retracted")
        self._case_opened(case_id=case_id)

    @event("CaseOpened")
    def _case_opened(self, case_id: UUID) -> None:
        self.open_cases.append(case_id)

    def close_case(self, case_id: UUID) -> None:
        if case_id in self.open_cases:
            self._case_closed(case_id=case_id)

    @event("CaseClosed")
    def _case_closed(self, case_id: UUID) -> None:
        self.open_cases.remove(case_id)

    def retract(self) -> None:
        """The process is retracted (核销): refused while housing cases of it are open."""
        if self.open_cases:
            raise Conflict("该灾害过程尚有未销号的倒损住房重建档案，不能核销",
                           "housing cases of this process are still open; close them before the 核销",
                           details={"open_housing_cases": [str(c) for c in self.open_cases]},
                           code="housing_cases_open")
        self._retracted()

    @event("ProcessRetracted")
    def _retracted(self) -> None:
        self.retracted = True
