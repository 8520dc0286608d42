"""Backup and restore, as the README tells an operator to do them, on SQLite and PostgreSQL.

A store with accounts, reports and a relief fund is sealed and its digest line
published; `relief-ledger backup` copies it while it is open; `relief-ledger
restore` puts it into a fresh store (an empty data directory, a fresh
PostgreSQL database). There the seal verifies against the digest published
before the backup, and every projection rebuilt from the restored log holds
the same rows as the original's.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli.app import cli
from api.cli.common import open_runtime
from api.settings import Settings
from projections.registry import PROJECTIONS
from projections.runner import Follower, open_projection
from tests.conftest import PG_SERVER_URL

pytestmark = pytest.mark.e2e

SECRETS = {"RELIEF_CIPHER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "RELIEF_TOKEN_PEPPER": secrets.token_urlsafe(16),
           "RELIEF_PII_KEY": base64.b64encode(secrets.token_bytes(32)).decode()}


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """The environments of the original store and of the empty one to restore into."""
    base = {"RELIEF_DEMO": "false", **SECRETS}
    if request.param == "sqlite":
        yield ({**base, "RELIEF_DATA_DIR": str(tmp_path / "original")},
               {**base, "RELIEF_DATA_DIR": str(tmp_path / "restored")})
        return
    import psycopg

    request.getfixturevalue("postgres_database")
    names = [f"relief_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    server = PG_SERVER_URL.rsplit("/", 1)[0]
    try:
        yield tuple({**base, "RELIEF_DATA_DIR": str(tmp_path / name),  # type: ignore[misc]
                     "RELIEF_DATABASE_URL": f"{server}/{name}?schema=ledger"} for name in names)
    finally:
        with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
            for name in names:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> Any:
    for key in ("RELIEF_DATABASE_URL", "RELIEF_DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return CliRunner().invoke(cli, list(args))


def rows_of_every_projection(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[str, Any]:
    run(monkeypatch, env, "--help")  # sets the environment
    out = {}
    with open_runtime(Settings()) as rt:
        for name, cls in PROJECTIONS.items():
            follower = Follower(rt.app, open_projection(cls, rt.config.persistence, rt.config.data_dir, rt.pii))
            follower.rebuild()
            view = follower.projection.view
            tables = [t for t in view.view_tables() if not t.endswith("_dead_letters")]
            out[name] = {t.rsplit(".", 1)[-1]: [{k: v for k, v in r.items() if not k.endswith("_cipher")}
                                                for r in view.query(f"SELECT * FROM {t} ORDER BY 1, 2")]
                         for t in tables}
            follower.close()
    return out


def test_a_restored_backup_verifies_against_the_digest_published_before_it(
    stores: tuple[dict[str, str], dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    original, fresh = stores
    assert run(monkeypatch, original, "demo").exit_code == 0  # accounts, two disaster histories, a fund
    sealed = run(monkeypatch, original, "audit", "seal")
    assert sealed.exit_code == 0, sealed.output
    published = next(line for line in sealed.output.splitlines() if line.startswith("relief-ledger seal v1"))

    backed = run(monkeypatch, original, "backup", str(tmp_path / "backup"))
    assert backed.exit_code == 0, backed.output
    assert published in backed.output
    assert run(monkeypatch, original, "backup", str(tmp_path / "backup")).exit_code == 1  # never into a used dir

    restored = run(monkeypatch, fresh, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    assert run(monkeypatch, fresh, "restore", str(tmp_path / "backup")).exit_code == 1  # never over a ledger

    verified = run(monkeypatch, fresh, "audit", "verify", "--digest", published)
    assert verified.exit_code == 0 and "OK" in verified.output, verified.output
    assert rows_of_every_projection(monkeypatch, fresh) == rows_of_every_projection(monkeypatch, original)
