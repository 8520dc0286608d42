"""What a use case sees of the ledger put together: the store, the reference data, the rules, the clock.

Services are built over a `LedgerContext` (in practice `ledger.runtime.LedgerRuntime`,
which builds the services too): typing them against this protocol keeps the
dependency one way, runtime → services.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ledger.accidents.rules import AccidentRules
    from ledger.disasters.deadlines import DeadlineRules
    from ledger.disasters.rules import Rules
    from ledger.housing.rules import HousingRules
    from ledger.incidents.plans import ResponsePlans
    from ledger.personal.keys import PersonalDataKey
    from ledger.reference.areas import AreaTable
    from ledger.reference.hazards import HazardCatalogue
    from ledger.reference.indicators import IndicatorSet
    from ledger.relief.rules import ReliefRules
    from ledger.store.application import Ledger
    from ledger.store.config import LedgerConfig
    from ledger.targets.plans import TargetPlans


class LedgerContext(Protocol):
    config: LedgerConfig
    app: Ledger
    areas: AreaTable
    hazards: HazardCatalogue
    indicators: IndicatorSet
    rules: Rules
    deadlines: DeadlineRules
    relief_rules: ReliefRules
    accident_rules: AccidentRules
    response_plans: ResponsePlans
    target_plans: TargetPlans
    housing_rules: HousingRules
    pii: PersonalDataKey

    def now(self) -> datetime: ...

    def position(self) -> int: ...
