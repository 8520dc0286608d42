"""CaseClaim: one open relief case per (programme, period, household head), keyed by a keyed hash of the ID.

Events stored before this module existed name the class `ledger.relief.case:CaseClaim`; `ledger.relief.case`
re-exports it, so they resolve to this class.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.store.errors import Conflict


class CaseClaim(Aggregate):
    """One open case per (programme, period, household head ID) — keyed by a keyed hash."""

    @classmethod
    def create_id(cls, programme: str, period: str, id_hash: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"/relief-claims/{programme}/{period}/{id_hash}")

    @event("Claimed")
    def __init__(self, programme: str, period: str, id_hash: str, case_id: UUID) -> None:
        self.case_id: UUID | None = case_id

    def take(self, case_id: UUID) -> None:
        if self.case_id is not None:
            raise _duplicate_case(self.case_id)
        self._taken(case_id=case_id)

    @event("Taken")
    def _taken(self, case_id: UUID) -> None:
        self.case_id = case_id

    def release(self, case_id: UUID) -> None:
        if self.case_id == case_id:
            self._released(case_id=case_id)

    @event("Released")
    def _released(self, case_id: UUID) -> None:
        self.case_id = None


def _duplicate_case(case_id: UUID) -> Conflict:
    return Conflict("该户主在本项目本期已有未结案件", "this household head already has an open case in this programme and period",
                    details={"existing_id": str(case_id)}, code="duplicate_case")
