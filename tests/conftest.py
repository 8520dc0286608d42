"""Fixtures shared by every layer of tests.

`backend` runs a storage-dependent test twice: on an SQLite file and on
PostgreSQL (a fresh schema per test in the `relief_test` database). When
PostgreSQL cannot be reached the PostgreSQL half is skipped — except under
CI=true, where that is a failure.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import CIPHER_TOPIC, postgres_env, prepare_postgres
from ledger.accounts.service import local_operator
from ledger.reference.areas import AreaTable
from ledger.runtime import LedgerConfig, LedgerRuntime
from ledger.store.clock import OffsetClock

PG_SERVER_URL = os.environ.get("RELIEF_TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = os.environ.get("RELIEF_TEST_PG_DATABASE", "relief_test")
TEST_CIPHER_KEY = base64.b64encode(b"k" * 32).decode()
TEST_PEPPER = b"test-pepper"

ROLES = {
    "township": "320921100",
    "county": "320921",
    "city": "3209",
    "province": "32",
    "relief_officer": "320921",
    "auditor": "3209",
    "admin": "32",
}


def _pg_url(database: str, schema: str | None = None) -> str:
    base = PG_SERVER_URL.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?schema={schema}" if schema else "")


@pytest.fixture(scope="session")
def postgres_database() -> str:
    """The test database's URL; created on first use."""
    import psycopg

    try:
        with psycopg.connect(PG_SERVER_URL, connect_timeout=5, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone()
            if not exists:
                try:
                    conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
                except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    pass  # another test worker created it first
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL unreachable at {PG_SERVER_URL}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (under CI the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)
    return _pg_url(PG_DATABASE)


@pytest.fixture
def postgres_schema(postgres_database: str) -> Iterator[str]:
    """A fresh, empty schema for one test; dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield _pg_url(PG_DATABASE, schema)
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def persistence_env(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    env = {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": TEST_CIPHER_KEY}
    if kind == "sqlite":
        env.update({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "ledger.sqlite")})
    else:
        url = request.getfixturevalue("postgres_schema")
        pg = postgres_env(url)
        pg.update({"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "8", "POSTGRES_CONNECT_TIMEOUT": "5",
                   # the library's 5 s default ends a test whose own checks (property tests replaying every
                   # aggregate on a busy machine) pause a projection's transaction longer than that
                   "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "60"})
        prepare_postgres(pg)
        env.update(pg)
    return env


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The eventsourcing env of a fresh, empty store on each backend."""
    return persistence_env(request.param, tmp_path, request)


@pytest.fixture(scope="session")
def area_table() -> AreaTable:
    return AreaTable.load(None)


@pytest.fixture
def ledger_clock() -> OffsetClock:
    """The runtime's clock: real time, which a test may move forward (`clock.advance(days=8)`)."""
    return OffsetClock()


@pytest.fixture
def runtime(backend: dict[str, str], area_table: AreaTable, tmp_path: Path, ledger_clock: OffsetClock
            ) -> Iterator[LedgerRuntime]:
    config = LedgerConfig(persistence=backend, token_pepper=TEST_PEPPER, data_dir=tmp_path, clock=ledger_clock)
    rt = LedgerRuntime(config, areas=area_table)
    yield rt
    rt.close()


@pytest.fixture
def tokens(runtime: LedgerRuntime) -> dict[str, str]:
    """One account per role (scoped to 响水县 / 盐城 / 江苏) → its bearer token."""
    operator = local_operator()
    issued = {}
    for role, scope in ROLES.items():
        runtime.accounts.register(operator, f"test-{role}", role, scope)
        issued[role], _ = runtime.accounts.issue_token(operator, f"test-{role}")
    return issued
