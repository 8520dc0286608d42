"""PostgreSQL goes away and comes back: requests answer 503 with Retry-After (never hang, never 500),
/health says the database is down, and the service recovers without a restart.

The outage is real but confined to this test: a database of its own, whose
connections are terminated and refused (`ALTER DATABASE … ALLOW_CONNECTIONS
false`), then allowed again. No shared cluster is stopped. Bounds are set by
configuration (a 1-second wait for a connection) and checked with a generous
client timeout, not with timed assertions.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import CIPHER_TOPIC, Settings, postgres_env
from ledger.accounts.service import local_operator
from ledger.reference.areas import AreaTable
from ledger.runtime import LedgerConfig, LedgerRuntime
from tests.api.test_idempotency_api import initial_body
from tests.conftest import PG_SERVER_URL, TEST_CIPHER_KEY, TEST_PEPPER


@pytest.fixture
def own_database(postgres_database: str) -> Iterator[str]:
    import psycopg

    name = f"relief_outage_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def cut(name: str, allow: bool) -> None:
    import psycopg

    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allow else "false"}')
        if not allow:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def test_requests_answer_503_while_the_database_is_away_and_recover_without_a_restart(
    own_database: str, tmp_path: Path,
) -> None:
    settings = Settings(storage_wait_seconds=1.0, auth_failure_burst=1000)
    env = {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": TEST_CIPHER_KEY,
           **postgres_env(PG_SERVER_URL.rsplit("/", 1)[0] + f"/{own_database}", settings)}
    runtime = LedgerRuntime(LedgerConfig(persistence=env, token_pepper=TEST_PEPPER, data_dir=tmp_path),
                            areas=AreaTable.load(None))
    runtime.accounts.register(local_operator(), "outage-county", "county", "320921")
    token, _ = runtime.accounts.issue_token(local_operator(), "outage-county")
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(runtime, settings), raise_server_exceptions=False) as client:
            assert client.post("/v1/disasters", json=initial_body(), headers=auth).status_code == 201

            cut(own_database, allow=False)
            answers: list[Any] = []
            for hazard in ("drought", "typhoon", "wind_hail", "earthquake"):
                answers.append(client.post("/v1/disasters", json=initial_body(hazard=hazard), headers=auth))
            assert [a.status_code for a in answers] == [503] * 4, [a.text for a in answers]
            assert all(a.json()["error"]["code"] in ("storage_unreachable", "storage_busy", "storage_error")
                       for a in answers)
            assert all(int(a.headers["Retry-After"]) > 0 for a in answers)
            health = client.get("/health")
            assert health.status_code == 503 and health.json()["database"] == "down"
            assert client.get("/v1/me", headers=auth).status_code == 503

            cut(own_database, allow=True)
            deadline = time.monotonic() + 30
            while (health := client.get("/health")).status_code != 200:
                assert time.monotonic() < deadline, health.text
                time.sleep(0.2)
            assert health.json()["database"] == "up"
            again = client.post("/v1/disasters", json=initial_body(hazard="drought"), headers=auth)
            assert again.status_code == 201, again.text
    finally:
        runtime.close()
