"""Relief: funds allocated to a county, household cases, payments to the 一卡通 card.

`ReliefFund` — money for one relief programme and period in one county, by
source (central / provincial / city / county) with the allocating document.
Balance = allocated − paid + returned; a payment that would make it negative
is refused.

`ReliefCase` — one household in one programme (救助对象). The chain of
自然灾害救助条例 Art 20 and the 冬春 procedure: 户报 (application) → 村评
(democratic assessment) → 公示 (public posting, ≥ 7 days, objections
resolved) → 乡审 (township review) → 县定 (county approval with the amount) →
payments to the household's 一卡通 account and goods issued. Rejection at
any step with a reason, or withdrawal, ends the case.

`CaseClaim` — one open case per (programme, period, household head): keyed
by a keyed hash of the ID number (never the number), released when the case
is rejected or withdrawn.

Money is integer fen. Personal data travels in events, which the store
encrypts whole.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.relief.checks import require_positive, require_reason
from ledger.store.errors import Conflict
from ledger.store.snapshots import Snapshotted


class FundSource(StrEnum):
    CENTRAL = "central"
    PROVINCIAL = "provincial"
    CITY = "city"
    COUNTY = "county"


def fund_id(county: str, programme: str, period: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/relief-funds/{county}/{programme}/{period}")


class ReliefFund(Snapshotted, Aggregate):
    """救灾资金: one programme and period in one county."""

    @classmethod
    def create_id(cls, county: str, programme: str, period: str, **_: Any) -> UUID:
        return fund_id(county, programme, period)

    @event("Opened")
    def __init__(self, county: str, programme: str, period: str, actor: dict[str, Any]) -> None:
        self.county = county
        self.programme = programme
        self.period = period
        self.allocated: dict[str, int] = {}  # by source
        self.withdrawn = 0  # returned to the allocating level
        self.paid = 0
        self.returned = 0  # payments that came back (bank returns, reversals)
        self.documents: list[str] = []

    @property
    def balance(self) -> int:
        return sum(self.allocated.values()) - self.withdrawn - self.paid + self.returned

    def allocate(self, source: str, amount: int, document: str, actor: dict[str, Any]) -> None:
        """下达 (or top up) money from a source, by document number."""
        require_positive(amount, "amount_fen")
        if document in self.documents:
            raise Conflict(f"文号 {document} 已登记", f"document {document} is already recorded", code="duplicate_document")
        self._allocated(source=source, amount=amount, document=document, actor=actor)

    @event("Allocated")
    def _allocated(self, source: str, amount: int, document: str, actor: dict[str, Any]) -> None:
        self.allocated[source] = self.allocated.get(source, 0) + amount
        self.documents.append(document)

    def give_back(self, amount: int, document: str, reason: str, actor: dict[str, Any]) -> None:
        """资金收回: money returned to the allocating level."""
        require_positive(amount, "amount_fen")
        require_reason(reason)
        if document in self.documents:
            raise Conflict(f"文号 {document} 已登记", f"document {document} is already recorded", code="duplicate_document")
        if amount > self.balance:
            raise _insufficient(self.balance, amount)
        self._given_back(amount=amount, document=document, reason=reason, actor=actor)

    @event("GivenBack")
    def _given_back(self, amount: int, document: str, reason: str, actor: dict[str, Any]) -> None:
        self.withdrawn += amount
        self.documents.append(document)

    def debit(self, case_id: UUID, payment_id: str, amount: int, actor: dict[str, Any]) -> None:
        if amount > self.balance:
            raise _insufficient(self.balance, amount)
        self._debited(case_id=case_id, payment_id=payment_id, amount=amount, actor=actor)

    @event("Debited")
    def _debited(self, case_id: UUID, payment_id: str, amount: int, actor: dict[str, Any]) -> None:
        self.paid += amount

    def credit(self, case_id: UUID, payment_id: str, amount: int, reason: str, actor: dict[str, Any]) -> None:
        self._credited(case_id=case_id, payment_id=payment_id, amount=amount, reason=reason, actor=actor)

    @event("Credited")
    def _credited(self, case_id: UUID, payment_id: str, amount: int, reason: str, actor: dict[str, Any]) -> None:
        self.returned += amount


def _insufficient(balance: int, amount: int) -> Conflict:
    return Conflict("资金余额不足", "the fund's balance is insufficient",
                    details={"balance_fen": balance, "requested_fen": amount}, code="insufficient_funds")
