"""The real server with its projections in the worker process (the default), on SQLite and PostgreSQL:
a client reads its own write at once by passing the position a command answered as `minPosition`,
and a token revoked from the command line fails the server's next request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, base_env, run_cli
from tests.e2e.test_server import _add_account, _ok

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DISASTER = """query($id: ID!, $p: Int) { disaster(id: $id, minPosition: $p) {
  version reportCount stage totals { indicator value } } }"""

STATISTICS = """query($p: Int, $day: Date) { statistics(area: "320921", period: {day: $day}, minPosition: $p) {
  processes totals { indicator value } } }"""


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def _graphql(http: httpx.Client, query: str, variables: dict, headers: dict, server: Server) -> dict:
    body = _ok(http.post("/graphql", json={"query": query, "variables": variables}, headers=headers), 200, server)
    assert not body.get("errors"), body
    return body["data"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_read_your_writes_through_the_worker_and_revocation_on_the_next_request(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, secrets_env: dict[str, str],
    start_server: Callable[[dict[str, str]], Server],
) -> None:
    url = request.getfixturevalue("postgres_schema") if kind == "postgres" else None
    env = base_env(tmp_path / "data", RELIEF_DATABASE_URL=url, RELIEF_DEMO="false",
                   **secrets_env)  # RELIEF_PROJECTIONS unset: the default
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    county = {"Authorization": f"Bearer {_add_account(env, cwd, 'rw-county', 'county', '320921')}"}
    city = {"Authorization": f"Bearer {_add_account(env, cwd, 'rw-city', 'city', '3209')}"}

    server = start_server(env)
    server.wait_healthy(timeout=90)  # a loaded machine starts slowly
    assert "Projections and seal: worker" in server.stdout(), server.output()

    occurred = _ago(hours=30)
    with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
        filed = _ok(http.post("/v1/disasters", headers=county, json={
            "county": "320921", "hazard": "flood", "subtype": "river_flood", "occurred_at": occurred,
            "figures": {"320921100": {"affected_population": 120}}}), 201, server)
        seen = _graphql(http, DISASTER, {"id": filed["id"], "p": filed["position"]}, county, server)["disaster"]
        assert (seen["version"], seen["reportCount"]) == (1, 1)

        for n, value in enumerate((150, 180, 210), start=2):
            follow = _ok(http.post(f"/v1/disasters/{filed['id']}/follow-ups", headers=county, json={
                "as_of": _ago(hours=30 - n), "figures": {"320921100": {"affected_population": value}}}), 201, server)
            seen = _graphql(http, DISASTER, {"id": filed["id"], "p": follow["position"]}, city, server)["disaster"]
            assert (seen["version"], seen["reportCount"]) == (n, n)
            assert {t["indicator"]: t["value"] for t in seen["totals"]}["affected_population"] == str(value)

        stats = _graphql(http, STATISTICS, {"p": follow["position"], "day": _beijing_day(occurred)}, city,
                         server)["statistics"]
        assert stats["processes"] == 1
        assert {t["indicator"]: t["value"] for t in stats["totals"]}["affected_population"] == "210"

        assert _ok(http.get("/v1/me", headers=county), 200, server)["username"] == "rw-county"
        run_cli(env, "accounts", "revoke", "rw-county", "--reason", "调离岗位", cwd=cwd)
        assert http.get("/v1/me", headers=county).status_code == 401
        assert http.get("/v1/me", headers=city).status_code == 200
    assert server.proc.poll() is None, server.output()


def _beijing_day(iso: str) -> str:
    return (datetime.fromisoformat(iso) + timedelta(hours=8)).astimezone(UTC).date().isoformat()
