"""The ledger put together: the one event store, the reference data and rules, and each concept's use cases.

`LedgerRuntime` is what the API, the CLI, the projections worker and the
tests hold: `runtime.app` is the one `Ledger` application (`ledger.store`),
`runtime.areas`, `.hazards`, `.indicators` the reference data, `.rules`,
`.deadlines`, `.relief_rules`, `.accident_rules`, `.response_plans`, `.target_plans` the configured rules, and
`.disasters`, `.relief`, `.accounts`, `.audit`, `.accidents`, `.incidents`, `.targets` the use cases of each concept.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from ledger.accidents.rules import AccidentRules
from ledger.accidents.service import AccidentService
from ledger.accounts.service import AccountService
from ledger.audit.replay import AuditService
from ledger.disasters.casualties import CasualtyService
from ledger.disasters.deadlines import DeadlineRules
from ledger.disasters.rules import Rules
from ledger.disasters.service import DisasterService
from ledger.disasters.upward import UpwardReportService
from ledger.housing.rules import HousingRules
from ledger.housing.service import HousingService
from ledger.incidents.plans import ResponsePlans
from ledger.incidents.service import IncidentService
from ledger.personal.keys import PersonalDataKey
from ledger.reference.areas import AreaTable
from ledger.reference.hazards import HazardCatalogue
from ledger.reference.indicators import IndicatorSet
from ledger.relief.rules import ReliefRules
from ledger.relief.service import ReliefService
from ledger.store.application import Ledger
from ledger.store.blobs import BlobStore
from ledger.store.config import LedgerConfig
from ledger.targets.plans import TargetPlans
from ledger.targets.service import TargetService


class LedgerRuntime:
    """The application plus the reference data and the use-case services (a `LedgerContext`)."""

    def __init__(self, config: LedgerConfig, areas: AreaTable | None = None) -> None:
        self.config = config
        self.app = Ledger(env=dict(config.persistence))
        self.areas = areas if areas is not None else AreaTable.load(config.data_dir)
        self.hazards = HazardCatalogue.load(config.hazards_file)
        self.indicators = IndicatorSet.load(config.indicators_file)
        self.rules = Rules.load(config.rules_file)
        self.deadlines = DeadlineRules.load(config.deadlines_file)
        self.relief_rules = ReliefRules.load(config.relief_rules_file)
        self.accident_rules = AccidentRules.load(config.accidents_file)
        self.response_plans = ResponsePlans.load(config.response_plans_file)
        self.target_plans = TargetPlans.load(config.targets_file)
        self.housing_rules = HousingRules.load(config.housing_rules_file)
        self.pii = PersonalDataKey(config.pii_key or hashlib.sha256(b"pii:" + config.token_pepper).digest())
        self.accounts = AccountService(self)
        self.disasters = DisasterService(self)
        self.relief = ReliefService(self)
        self.housing = HousingService(self)
        self.audit = AuditService(self)
        self.accidents = AccidentService(self)
        self.incidents = IncidentService(self)
        self.targets = TargetService(self)
        self.upward_reports = UpwardReportService(self)
        self.casualties = CasualtyService(self)
        self.blobs = BlobStore(config.blob_dir or (config.data_dir or Path("var")) / "blobs", self.pii.key,
                               config.max_attachment_bytes)

    def now(self) -> datetime:
        return self.config.clock()

    def position(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> LedgerRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
