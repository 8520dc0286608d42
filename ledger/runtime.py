"""The ledger put together: the one event store, the reference data and rules, and each concept's use cases.

`LedgerRuntime` is what the API, the CLI, the projections worker and the
tests hold: `runtime.app` is the one `Ledger` application (`ledger.store`),
`runtime.areas`, `.hazards`, `.indicators` the reference data, `.rules`,
`.deadlines`, `.relief_rules`, `.accident_rules`, `.response_plans`, `.target_plans` the configured rules, and
`.disasters`, `.relief`, `.accounts`, `.audit`, `.accidents`, `.incidents`, `.targets` the use cases of each concept.
"""

from __future__ import annotations

import hashlib
import threading
import time
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
from ledger.reference.areas import AreaTable, imported_editions
from ledger.reference.hazards import HazardCatalogue
from ledger.reference.indicators import IndicatorSet
from ledger.relief.rules import ReliefRules
from ledger.relief.season_filing import SeasonFilingUseCases
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
        self._own_areas = areas is None  # loaded from the data directory: kept up with `areas import`
        self._areas_seen = imported_editions(config.data_dir) if self._own_areas else ()
        self._areas_checked = time.monotonic()
        self._areas_lock = threading.Lock()
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
        self.season_filings = SeasonFilingUseCases(self)
        self.housing = HousingService(self)
        self.audit = AuditService(self)
        self.accidents = AccidentService(self)
        self.incidents = IncidentService(self)
        self.targets = TargetService(self)
        self.upward_reports = UpwardReportService(self)
        self.casualties = CasualtyService(self)
        self.blobs = BlobStore(config.blob_dir or (config.data_dir or Path("var")) / "blobs", self.pii.key,
                               config.max_attachment_bytes)

    areas_refresh_seconds = 2.0

    def areas_check_due(self) -> bool:
        return self._own_areas and time.monotonic() - self._areas_checked >= self.areas_refresh_seconds

    def refresh_areas(self) -> bool:
        """Reload the area table when `relief-ledger areas import` stored an edition since it was loaded (looked
        at most every `areas_refresh_seconds`), so a running server uses it without a restart. True if reloaded."""
        if not self.areas_check_due():
            return False
        with self._areas_lock:
            self._areas_checked = time.monotonic()
            seen = imported_editions(self.config.data_dir)
            if seen == self._areas_seen:
                return False
            self.areas = AreaTable.load(self.config.data_dir)
            self._areas_seen = seen
            return True

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
