"""What the domain needs from the outside: storage, secrets, rule files, the clock — resolved by the settings layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.store.application import utc_now


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
    accidents_file: Path | None = None
    response_plans_file: Path | None = None
    targets_file: Path | None = None
    housing_rules_file: Path | None = None
    blob_dir: Path | None = None
    """Where attachments are stored (default: `<data_dir>/blobs`)."""
    max_attachment_bytes: int = 10 * 1024 * 1024
    seal_interval: int = 1000
    """A seal checkpoint every this many sealed events."""
    seal_minutes: float = 10.0
    """…or at the sealed head, every this many minutes (whichever comes first), while events arrive."""
    pii_key: bytes = b""
    """32 bytes for keyed hashes and field encryption of personal data (derived from the pepper if empty)."""
    clock: Callable[[], datetime] = field(default=utc_now)
