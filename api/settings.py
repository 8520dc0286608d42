"""Configuration from the environment or `.env` (prefix `RELIEF_`).

With nothing configured the service runs on an SQLite file under the data
directory; `RELIEF_DATABASE_URL=postgresql://…` switches to PostgreSQL.
Events are encrypted at rest from the first one (AES-GCM); the key and the
token pepper come from configuration, or on a development machine are
generated once and kept (mode 0600) in the data directory.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, unquote, urlparse

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.store.clock import OffsetClock
from ledger.store.files import private_dir, private_file

if TYPE_CHECKING:
    from ledger.store.config import LedgerConfig

CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELIEF_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None
    """Unset: SQLite file `<data_dir>/ledger.sqlite`. `postgresql://user:pass@host:5432/db?schema=ledger`."""
    cipher_key: SecretStr | None = None
    """base64 of 32 random bytes; required in production."""
    token_pepper: SecretStr | None = None
    """Secret mixed into token hashes; required in production."""
    pii_key: SecretStr | None = None
    """base64 of 32 bytes: keyed hashes and field encryption of personal data; required in production."""
    relief_rules_file: Path | None = None
    housing_rules_file: Path | None = None
    blob_dir: Path | None = None
    """Attachments (content-addressed, encrypted): default `<data_dir>/blobs`, included in `backup`."""
    """倒损住房恢复重建: subsidy table, modes, tranches, exclusions, progress rhythm, working-day calendar."""
    seal_interval: int = 1000
    """A seal checkpoint (a digest for publication) every this many sealed events."""
    seal_minutes: float = 10.0
    """…or every this many minutes at the sealed head, whichever comes first (the seal runs continuously)."""
    rules_file: Path | None = None
    hazards_file: Path | None = None
    indicators_file: Path | None = None
    deadlines_file: Path | None = None
    accidents_file: Path | None = None
    response_plans_file: Path | None = None
    targets_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool | None = None
    """Load demo data on first start. Unset: yes on SQLite, no on PostgreSQL."""
    postgres_pool_size: int = 5
    postgres_max_overflow: int = 10
    postgres_connect_timeout: int = 5
    storage_wait_seconds: float = 1.0
    """How long a request waits for a database connection at a time (the library retries); with the database
    unreachable, requests answer 503 within a few seconds, and at once once the outage is known."""
    projections: Literal["worker", "in-process", "off"] | None = None
    """Where `serve` runs the projections and the seal: `worker` (default: a child process it supervises),
    `in-process` (threads in the server), `off` (when `relief-ledger projections run` workers run elsewhere)."""
    projections_in_process: bool | None = None
    """Earlier name: true = `in-process`, false = `off` (RELIEF_PROJECTIONS wins when both are set)."""
    threadpool_size: int = 15
    """Worker threads for the synchronous endpoints; keep it at or under the connection pool."""
    max_body_bytes: int = 1024 * 1024
    """A JSON (or other non-upload) request body larger than this is refused with 413."""
    max_upload_bytes: int = 20 * 1024 * 1024
    """A spreadsheet upload (multipart) larger than this is refused with 413."""
    max_attachment_bytes: int = 10 * 1024 * 1024
    """An attachment upload larger than this is refused with 413."""
    trusted_proxies: list[str] = []
    """Addresses of reverse proxies whose X-Forwarded-For names the client (for failed-auth throttling)."""
    auth_failure_burst: int = 10
    """Failed authentications one client address may make before it is slowed (429)."""
    auth_failures_per_minute: float = 10.0
    """How fast a client address earns back failed attempts."""
    session_idle_minutes: int = 120
    """A web sign-in session ends after this long unused."""
    session_max_hours: int = 12
    """A web sign-in session ends this long after sign-in, however busy."""
    clock_offset_seconds: int = 0
    """Tests only: the rules' clock runs this far ahead of real time (refused in production)."""

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.split(":", 1)[0] in ("postgresql", "postgres")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ledger.sqlite"

    def projections_mode(self) -> str:
        if self.projections is not None:
            return self.projections
        if self.projections_in_process is not None:
            return "in-process" if self.projections_in_process else "off"
        return "worker"

    def load_demo(self) -> bool:
        """Demo accounts and data: never in production; by default on SQLite only."""
        if self.environment == "production":
            if self.demo:
                raise ValueError("RELIEF_DEMO cannot be on in production (demo accounts have known roles and printed tokens)")
            return False
        return self.demo if self.demo is not None else not self.uses_postgres

    def ledger_config(self) -> LedgerConfig:
        # the event store's modules load only when a command needs them
        from ledger.store.config import LedgerConfig

        private_dir(self.data_dir)
        cipher_key, pepper, pii_key = self._secrets()
        if self.clock_offset_seconds and self.environment == "production":
            raise ValueError("RELIEF_CLOCK_OFFSET_SECONDS is for tests only and is refused in production")
        env = {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": cipher_key}
        if self.uses_postgres:
            env.update(postgres_env(self.database_url or "", self))
        elif self.database_url and not self.database_url.startswith("sqlite"):
            raise ValueError(f"RELIEF_DATABASE_URL must start with postgresql:// or sqlite:///, not {self.database_url!r}")
        else:
            path = self.database_url.removeprefix("sqlite:///") if self.database_url else str(self.sqlite_path)
            if path != ":memory:" and "mode=memory" not in path:
                private_file(Path(path))  # its -wal and -shm files take the same mode
            env.update({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path})
        return LedgerConfig(
            persistence=env,
            token_pepper=pepper,
            data_dir=self.data_dir,
            rules_file=self.rules_file,
            hazards_file=self.hazards_file,
            indicators_file=self.indicators_file,
            deadlines_file=self.deadlines_file,
            relief_rules_file=self.relief_rules_file,
            accidents_file=self.accidents_file,
            response_plans_file=self.response_plans_file,
            targets_file=self.targets_file,
            housing_rules_file=self.housing_rules_file,
            blob_dir=self.blob_dir,
            max_attachment_bytes=self.max_attachment_bytes,
            seal_interval=self.seal_interval,
            seal_minutes=self.seal_minutes,
            pii_key=pii_key,
            clock=OffsetClock(timedelta(seconds=self.clock_offset_seconds)),
        )

    def _secrets(self) -> tuple[str, bytes, bytes]:
        if self.cipher_key and self.token_pepper and self.pii_key:
            return (self.cipher_key.get_secret_value(), self.token_pepper.get_secret_value().encode(),
                    base64.b64decode(self.pii_key.get_secret_value()))
        if self.environment == "production":
            raise ValueError("production needs RELIEF_CIPHER_KEY, RELIEF_TOKEN_PEPPER and RELIEF_PII_KEY")
        stored = load_or_create_secrets(self.data_dir / "secrets.json")
        key = self.cipher_key.get_secret_value() if self.cipher_key else stored["cipher_key"]
        pepper = self.token_pepper.get_secret_value() if self.token_pepper else stored["token_pepper"]
        pii = self.pii_key.get_secret_value() if self.pii_key else stored["pii_key"]
        return key, pepper.encode(), base64.b64decode(pii)


def load_or_create_secrets(path: Path) -> dict[str, str]:
    """Development secrets, generated once and kept owner-readable only."""
    values = {
        "cipher_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "token_pepper": secrets.token_urlsafe(32),
        "pii_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        if all(k in stored for k in values):
            return stored
        values.update(stored)  # a secret added in a later version; keep the existing ones
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f)
    return values


def postgres_env(url: str, settings: Settings | None = None) -> dict[str, str]:
    """The eventsourcing PostgreSQL env for a `postgresql://` URL (schema from `?schema=`)."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": (parsed.path or "/").lstrip("/") or "postgres",
        "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": unquote(parsed.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parsed.password or ""),
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    if settings is not None:
        env["POSTGRES_POOL_SIZE"] = str(settings.postgres_pool_size)
        env["POSTGRES_MAX_OVERFLOW"] = str(settings.postgres_max_overflow)
        env["POSTGRES_CONNECT_TIMEOUT"] = str(settings.postgres_connect_timeout)
        env["POSTGRES_PRE_PING"] = "y"  # a connection an outage broke is replaced, not lent
    return env


def prepare_postgres(env: dict[str, str]) -> None:
    """Create the configured schema if missing (the library creates tables, not schemas)."""
    schema = env.get("POSTGRES_SCHEMA")
    if not schema:
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "5")), autocommit=True,
    ) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
