"""End to end: the real `relief-ledger serve` process over real HTTP.

1. On PostgreSQL (a fresh schema), with configured secrets and no demo:
   accounts made with the CLI, then 初报 (township) → 续报 → 核报 (county),
   the history and state read back, and an Idempotency-Key retry.
2. On the SQLite default in an empty data directory: the demo is loaded on
   the first start, the URLs and demo tokens are printed, the tokens file is
   owner-only and a demo token authenticates.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CLI, Server, base_env, run_cli

pytestmark = pytest.mark.e2e

TOKEN_RE = re.compile(r"\brl_[A-Za-z0-9_\-]+")


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def _add_account(env: dict[str, str], cwd: Path, username: str, role: str, scope: str) -> str:
    """`relief-ledger accounts add …`; the token is the last line printed."""
    proc = run_cli(env, "accounts", "add", username, "--role", role, "--scope", scope, cwd=cwd)
    lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"no output from accounts add\n{proc.stderr}"
    token = lines[-1]
    assert TOKEN_RE.fullmatch(token), f"the last line is not a token: {token!r}\n{proc.stdout}"
    return token


def _ok(response: httpx.Response, status: int, server: Server) -> dict:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} → {response.status_code}: {response.text}\n"
        + (server.stderr()[-4000:] if response.status_code >= 500 else "")
    )
    return response.json()


def test_reports_over_http_on_postgres(
    postgres_schema: str, tmp_path: Path, secrets_env: dict[str, str],
    start_server: Callable[[dict[str, str]], Server],
) -> None:
    data_dir = tmp_path / "data"
    env = base_env(data_dir, RELIEF_DATABASE_URL=postgres_schema, RELIEF_DEMO="false", **secrets_env)
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)

    township = _add_account(env, cwd, "e2e-township", "township", "320921100")
    county = _add_account(env, cwd, "e2e-county", "county", "320921")
    assert township != county

    server = start_server(env)
    server.wait_healthy()
    assert "PostgreSQL" in server.stdout(), server.output()
    # no demo token to print: the banner says how to get one, and each URL it prints answers
    assert "relief-ledger accounts add NAME" in " ".join(server.stdout().split()), server.output()
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        for url in re.findall(r"http://127\.0\.0\.1:\d+(/\S*)", server.stdout()):
            assert http.get(url).status_code < 400, url
    # configured secrets: nothing generated; PostgreSQL: no demo and no SQLite file
    assert not (data_dir / "secrets.json").exists()
    assert not (data_dir / "demo-tokens.json").exists()
    assert not (data_dir / "ledger.sqlite").exists()

    as_township = {"Authorization": f"Bearer {township}"}
    as_county = {"Authorization": f"Bearer {county}"}
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        me = _ok(http.get("/v1/me", headers=as_county), 200, server)
        assert me["username"] == "e2e-county" and me["scope"] == "320921"
        assert http.get("/v1/me").status_code == 401

        initial = {
            "county": "320921", "hazard": "flood", "subtype": "river_flood", "occurred_at": _ago(hours=6),
            "figures": {"320921100": {"affected_population": 120, "crop_affected_ha": "10.50"}},
            "text": "强降雨致部分村组受淹。",
        }
        key = {"Idempotency-Key": f"e2e-{uuid.uuid4()}"}
        filed = _ok(http.post("/v1/disasters", json=initial, headers={**as_township, **key}), 201, server)
        disaster_id = filed["id"]
        assert filed["version"] == 1 and filed["position"] >= 1

        # the retry with the same key answers the first answer and writes nothing
        retry = _ok(http.post("/v1/disasters", json=initial, headers={**as_township, **key}), 201, server)
        assert retry == filed
        # a second 初报 of the same process (no key) is a 409 naming the first
        duplicate = http.post("/v1/disasters", json=initial, headers=as_township)
        assert duplicate.status_code == 409, duplicate.text
        assert duplicate.json()["error"]["details"]["existing_id"] == disaster_id
        # the same key with a different body is refused
        changed = {**initial, "text": "另一份说明"}
        assert http.post("/v1/disasters", json=changed, headers={**as_township, **key}).status_code == 422

        follow_up = {"figures": {"320921100": {"affected_population": 150, "crop_affected_ha": "12.00"}},
                     "as_of": _ago(hours=4)}
        second = _ok(http.post(f"/v1/disasters/{disaster_id}/follow-ups", json=follow_up,
                               headers={**as_county, "If-Match": '"1"'}), 201, server)
        assert second["id"] == disaster_id and second["version"] == 2

        final = {"figures": {"320921100": {"affected_population": 160, "crop_affected_ha": "12.50"}},
                 "as_of": _ago(hours=1)}
        stale = http.post(f"/v1/disasters/{disaster_id}/final", json=final,
                          headers={**as_county, "If-Match": "1"})
        assert stale.status_code == 409, stale.text
        third = _ok(http.post(f"/v1/disasters/{disaster_id}/final", json=final, headers=as_county),
                    201, server)
        assert third["version"] == 3 and third["position"] > second["position"] > filed["position"]

        history = _ok(http.get(f"/v1/disasters/{disaster_id}/history", headers=as_county), 200, server)
        assert [(e["version"], e["type"], e["actor"]["username"]) for e in history] == [
            (1, "InitialReportFiled", "e2e-township"),
            (2, "FollowUpReportFiled", "e2e-county"),
            (3, "FinalReportFiled", "e2e-county"),
        ]

        read = http.get(f"/v1/disasters/{disaster_id}", headers=as_county)
        state = _ok(read, 200, server)
        assert read.headers["ETag"] == '"3"'
        assert state["id"] == disaster_id and state["version"] == 3
        assert state["stage"] == "final"
        assert state["totals"] == {"affected_population": "160", "crop_affected_ha": "12.50"}
        assert [(r["number"], r["kind"], r["filed_by"]["username"]) for r in state["reports"]] == [
            (1, "initial", "e2e-township"), (2, "follow_up", "e2e-county"), (3, "final", "e2e-county"),
        ]

        # the process is closed: another 续报 is refused, not a server error
        late = http.post(f"/v1/disasters/{disaster_id}/follow-ups", json=follow_up, headers=as_county)
        assert late.status_code == 409, late.text

    assert server.proc.poll() is None, server.output()
    server.stop()
    assert server.proc.returncode is not None


def test_first_start_on_sqlite_loads_the_demo(
    tmp_path: Path, start_server: Callable[[dict[str, str]], Server],
) -> None:
    data_dir = tmp_path / "data"
    env = base_env(data_dir, RELIEF_DATABASE_URL=None, RELIEF_DEMO=None)

    server = start_server(env)
    server.wait_healthy()
    out = server.stdout()
    port = server.base_url.rsplit(":", 1)[1]
    assert "Loading demo data" in out, server.output()
    assert f"http://127.0.0.1:{port}/docs" in out, server.output()
    assert str(data_dir / "ledger.sqlite") in out, server.output()

    tokens_file = data_dir / "demo-tokens.json"
    assert tokens_file.exists(), server.output()
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "secrets.json").stat().st_mode) == 0o600
    tokens = json.loads(tokens_file.read_text())
    assert {"demo-county", "demo-township", "demo-admin"} <= set(tokens)
    for username, token in tokens.items():
        printed = re.search(rf"{re.escape(username)}\s+{re.escape(token)}", out)
        assert printed, f"{username} and its token not printed\n{out}"

    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        assert http.get("/docs").status_code == 200
        as_demo_county = {"Authorization": f"Bearer {tokens['demo-county']}"}
        me = _ok(http.get("/v1/me", headers=as_demo_county), 200, server)
        assert me["username"] == "demo-county" and me["role"] == "county"
        assert http.get("/v1/me", headers={"Authorization": "Bearer rl_not-a-token"}).status_code == 401
        health = _ok(http.get("/health"), 200, server)
        assert health["position"] > 0  # the demo's events are stored

    # a second start keeps the same data: no second demo load, the same tokens
    server.stop()
    again = start_server(env)
    again.wait_healthy()
    assert "Loading demo data" not in again.stdout(), again.output()
    assert json.loads(tokens_file.read_text()) == tokens
    with httpx.Client(base_url=again.base_url, timeout=10.0) as http:
        as_demo_township = {"Authorization": f"Bearer {tokens['demo-township']}"}
        me = _ok(http.get("/v1/me", headers=as_demo_township), 200, again)
        assert me["username"] == "demo-township"


def test_production_on_sqlite_makes_no_demo_and_keeps_its_files_private(
    tmp_path: Path, start_server: Callable[[dict[str, str]], Server], secrets_env: dict[str, str],
) -> None:
    data_dir = tmp_path / "prod"
    env = base_env(data_dir, RELIEF_DATABASE_URL=None, RELIEF_DEMO=None, RELIEF_ENVIRONMENT="production",
                   **secrets_env)
    server = start_server(env)
    server.wait_healthy()
    out = server.stdout()
    assert "Loading demo data" not in out and not TOKEN_RE.search(out), server.output()
    assert not (data_dir / "demo-tokens.json").exists()
    assert not (data_dir / "secrets.json").exists()  # production secrets come from configuration
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        assert _ok(http.get("/health"), 200, server)["position"] == 0  # no demo accounts, no events
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "ledger.sqlite" for p in files)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o600 for p in files}
    server.stop()

    refused = subprocess.run([*CLI, "demo"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "no demo data in production" in refused.stderr
    asked = subprocess.run([*CLI, "serve"], env={**env, "RELIEF_DEMO": "true"}, cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert asked.returncode == 2 and "RELIEF_DEMO cannot be on in production" in asked.stderr


def test_production_without_its_secrets_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    env = base_env(tmp_path / "prod", RELIEF_DATABASE_URL=None, RELIEF_ENVIRONMENT="production")
    proc = subprocess.run([*CLI, "serve", "--port", "1"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "RELIEF_CIPHER_KEY" in lines[0], proc.stderr
