"""The seal runs continuously: events are chained as they are stored, checkpointed by count or by time,
and the latest digest line is there to publish (REST, GraphQL). Both backends."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from ledger.runtime import LedgerRuntime
from projections.audit.seal import Sealer
from projections.runner import ProjectionHost
from tests.api.test_idempotency_api import initial_body


def sealed_head(runtime: LedgerRuntime) -> int:
    with Sealer(runtime) as sealer:
        head = sealer.head()
    return head[0] if head else 0


def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


def file_reports(client: TestClient, tokens: dict[str, str], n: int) -> None:
    for hazard in ["flood", "drought", "typhoon", "wind_hail", "earthquake", "geological"][:n]:
        response = client.post("/v1/disasters", json=initial_body(hazard=hazard),
                               headers={"Authorization": f"Bearer {tokens['county']}"})
        assert response.status_code == 201, response.text


def test_events_are_sealed_as_they_are_stored_and_the_chain_verifies(
    runtime: LedgerRuntime, tokens: dict[str, str],
) -> None:
    runtime.config.seal_minutes = 0  # a checkpoint at the head whenever the seal moves
    host = ProjectionHost(runtime, names=["board"], seal=True, idle=0.2)
    with TestClient(create_app(runtime, host=host), raise_server_exceptions=False) as client:
        file_reports(client, tokens, 3)
        until(lambda: sealed_head(runtime) == runtime.position())
        status = client.get("/v1/audit/seal", headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
        assert status["sealed_head"]["position"] == status["position"] == runtime.position()
        latest = status["latest"]
        assert latest["position"] == runtime.position() and latest["at"].endswith("+08:00")
        assert latest["line"].startswith(f"relief-ledger seal v1 position={runtime.position()} digest=")
        graphql = client.post("/graphql", json={"query": "{ seal { sealedPosition latestLine } }"},
                              headers={"Authorization": f"Bearer {tokens['township']}"}).json()
        assert graphql["data"]["seal"] == {"sealedPosition": runtime.position(), "latestLine": latest["line"]}
    with Sealer(runtime) as sealer:
        assert sealer.verify(latest["line"]).ok


def test_checkpoints_come_every_interval_events_when_minutes_are_long(
    runtime: LedgerRuntime, tokens: dict[str, str],
) -> None:
    runtime.config.seal_interval, runtime.config.seal_minutes = 5, 60.0
    host = ProjectionHost(runtime, names=["board"], seal=True, idle=0.2)
    with TestClient(create_app(runtime, host=host), raise_server_exceptions=False) as client:
        file_reports(client, tokens, 4)
        until(lambda: sealed_head(runtime) == runtime.position())
    with Sealer(runtime) as sealer:
        counts = [c.count for c in sealer.checkpoints()]
    # every 5th sealed event, plus the first checkpoint (nothing was checkpointed yet when sealing began)
    assert [c for c in counts if c % 5 == 0] == list(range(5, runtime.position() + 1, 5))
    assert len([c for c in counts if c % 5]) <= 1
