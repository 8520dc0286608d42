"""Use cases of relief funds (救灾资金): 下达 / top-up, 收回, reads — mixed into `ReliefService`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.reference.codes import AreaCode, Level
from ledger.relief.applications import check_period
from ledger.relief.fund import FundSource, ReliefFund, fund_id
from ledger.store import actors
from ledger.store.actors import Actor, Role
from ledger.store.commands import CommandResult, IdempotencyKey, run
from ledger.store.errors import InvalidInput, Problems

if TYPE_CHECKING:
    from ledger.relief.case import ReliefCase
    from ledger.store.context import LedgerContext


ALLOCATING_ROLES = (Role.COUNTY, Role.RELIEF_OFFICER, Role.CITY, Role.PROVINCE)


class FundUseCases:
    """Needs from the service it is mixed into: `rt`, `app`, `_require`, `_get`, `_programme`."""

    rt: LedgerContext
    app: Any
    _require: Any
    _get: Any
    _programme: Any

    # --- funds ---------------------------------------------------------------------

    def allocate(self, actor: Actor, county: str, programme: str, period: str, source: str, amount_fen: int,
                 document: str, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """下达资金 (or a top-up) to a county for one programme and period."""
        self._require(actor, ALLOCATING_ROLES, county)
        problems = Problems()
        county = self._county(county, problems)
        self._programme(programme, problems)
        check_period(period, problems, programme)
        if source not in FundSource.__members__.values():
            problems.add("source", "bad_source", "central, provincial, city or county")
        if not document.strip():
            problems.add("document", "required", "the allocating document number (文号)")
        problems.raise_if_any("资金下达有误", "invalid allocation")

        def attempt() -> tuple[ReliefFund, list[Any], int]:
            fid = fund_id(county, programme, period)
            try:
                fund: ReliefFund = self.app.repository.get(fid)
                status = 200
            except AggregateNotFoundError:
                fund = ReliefFund(county=county, programme=programme, period=period, actor=actor.as_dict())
                status = 201
            fund.allocate(source, amount_fen, document, actor.as_dict())
            return fund, [], status

        return run(self.app, attempt, idempotency)

    def give_back(self, actor: Actor, fund: UUID, amount_fen: int, document: str, reason: str,
                  idempotency: IdempotencyKey | None = None) -> CommandResult:
        def attempt() -> tuple[ReliefFund, list[Any], int]:
            f = self.fund(actor, fund)
            self._require(actor, ALLOCATING_ROLES, f.county)
            f.give_back(amount_fen, document, reason, actor.as_dict())
            return f, [], 200

        return run(self.app, attempt, idempotency)

    def fund(self, actor: Actor, fund: UUID) -> ReliefFund:
        found = self._get(fund, ReliefFund, "资金", "fund")
        actors.require_reader(actor, found.county)
        return found

    def _fund_for(self, c: ReliefCase) -> ReliefFund:
        try:
            return self.app.repository.get(fund_id(c.county, c.programme, c.period))
        except AggregateNotFoundError:
            raise InvalidInput(
                "该县本项目本期尚无资金", "no fund has been allocated to this county for this programme and period",
                code="no_fund",
            ) from None

    def _county(self, raw: str, problems: Problems) -> str:
        try:
            code = AreaCode.parse(raw, "county")
        except InvalidInput as exc:
            problems.items.extend(exc.fields)
            return raw
        if code.level is not Level.COUNTY or code not in self.rt.areas:
            problems.add("county", "not_a_county", "a known county code")
        return code.county

