"""API fixtures: the app over a real store (SQLite and PostgreSQL), and authenticated clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.runtime import LedgerRuntime


@pytest.fixture
def client(runtime: LedgerRuntime) -> Iterator[TestClient]:
    # Tests that try many bad tokens are not slowed here (tests/api/test_limits_api.py is about that).
    with TestClient(create_app(runtime, Settings(auth_failure_burst=100_000)), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def as_role(client: TestClient, tokens: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """Headers for a request made as the test account of a role."""

    def headers(role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}", **extra}

    return headers
