"""Projection fixtures: the accounts of the 直报 chain and followers over a fresh store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.projection import Projection

from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from projections.runner import BATCH, Follower, open_projection


@pytest.fixture
def officers(runtime: LedgerRuntime, tokens: dict[str, str]) -> dict[str, Actor]:
    """The test account of each role (响水县 / 盐城 / 江苏), as its bearer token authenticates it."""
    return {role: runtime.accounts.authenticate(token) for role, token in tokens.items()}


@pytest.fixture
def follow(runtime: LedgerRuntime) -> Iterator[Callable[..., Follower]]:
    """follow(BoardProjection, batch=3) → a Follower of the runtime's log; its view is closed afterwards."""
    opened: list[Projection[Any]] = []

    def make(projection_class: type[Projection[Any]], batch: int = BATCH) -> Follower:
        projection = open_projection(projection_class, runtime.config.persistence, runtime.config.data_dir)
        opened.append(projection)
        return Follower(runtime.app, projection, batch=batch)

    yield make
    for projection in opened:
        projection.view.close()
