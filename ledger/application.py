"""The one event store (one `Application`, one notification log) and what runs over it.

Every aggregate type lives in the one `Ledger` application, so the
notification log gives one global order, and one `save` can write a
disaster, a key claim and an idempotency record together. Use cases are
grouped by family in thin service classes over it (`DisasterService`,
`AccountService`), which the API, the CLI and the tests share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.areas import AreaTable
from ledger.deadlines import DeadlineRules
from ledger.hazards import HazardCatalogue
from ledger.personal import PersonalDataKey
from ledger.relief_rules import ReliefRules
from ledger.indicators import IndicatorSet
from ledger.rules import Rules


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Ledger(Application):
    """The event store of every aggregate in the system."""

    name = "Ledger"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.after_save: list[Callable[[], None]] = []

    def save(self, *args: Any, **kwargs: Any) -> Any:
        """Save, then tell followers (projections) that the log has grown."""
        recordings = super().save(*args, **kwargs)
        for listener in self.after_save:
            listener()
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class LedgerConfig:
    """Everything the domain needs from the outside, resolved by the settings layer."""

    persistence: dict[str, str]  # the eventsourcing env: PERSISTENCE_MODULE, SQLITE_DBNAME / POSTGRES_*, CIPHER_*
    token_pepper: bytes
    data_dir: Path | None = None
    rules_file: Path | None = None
    hazards_file: Path | None = None
    indicators_file: Path | None = None
    deadlines_file: Path | None = None
    relief_rules_file: Path | None = None
    seal_interval: int = 1000
    """A seal checkpoint every this many sealed events."""
    pii_key: bytes = b""
    """32 bytes for keyed hashes and field encryption of personal data (derived from the pepper if empty)."""
    clock: Callable[[], datetime] = field(default=utc_now)


class LedgerRuntime:
    """The application plus the reference data and the use-case services."""

    def __init__(self, config: LedgerConfig, areas: AreaTable | None = None) -> None:
        from ledger.accounts import AccountService
        from ledger.audit import AuditService
        from ledger.disasters import DisasterService
        from ledger.relief_service import ReliefService

        self.config = config
        self.app = Ledger(env=dict(config.persistence))
        self.areas = areas if areas is not None else AreaTable.load(config.data_dir)
        self.hazards = HazardCatalogue.load(config.hazards_file)
        self.indicators = IndicatorSet.load(config.indicators_file)
        self.rules = Rules.load(config.rules_file)
        self.deadlines = DeadlineRules.load(config.deadlines_file)
        self.relief_rules = ReliefRules.load(config.relief_rules_file)
        self.pii = PersonalDataKey(config.pii_key or hashlib.sha256(b"pii:" + config.token_pepper).digest())
        self.accounts = AccountService(self)
        self.disasters = DisasterService(self)
        self.relief = ReliefService(self)
        self.audit = AuditService(self)

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
