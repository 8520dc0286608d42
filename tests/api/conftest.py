"""API fixtures: the app over a real store (SQLite and PostgreSQL), and authenticated clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.runtime import LedgerRuntime


@pytest.fixture
def client(runtime: LedgerRuntime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def as_role(client: TestClient, tokens: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """Headers for a request made as the test account of a role."""

    def headers(role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}", **extra}

    return headers
