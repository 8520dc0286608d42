"""The demo, on SQLite and PostgreSQL: its story is told relative to the moment it is loaded, so the
deadline board shows the one deliberately late report (labelled) and nothing else late or missing; its
tokens are kept per database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from api.app import create_app
from api.demo import LATE_LABEL, demo_file, demo_loaded, load_demo, read_tokens
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost

CHINA = ZoneInfo("Asia/Shanghai")
FLAGS = """query($from: Date!, $to: Date!, $p: Int) {
  compliance(area: "320921", period: {dateFrom: $from, dateTo: $to}, minPosition: $p) {
    late missing flags { disasterId rule status } }
  accidentClocks(area: "320921", period: {dateFrom: $from, dateTo: $to}, status: ["late", "missing"]) {
    late missing } }"""


def test_the_demo_shows_only_its_labelled_late_report_and_keeps_its_tokens_per_database(
        runtime: LedgerRuntime, tmp_path: Path) -> None:
    tokens = load_demo(runtime, tmp_path)
    assert demo_loaded(runtime, tmp_path)
    kept = demo_file(runtime, tmp_path)
    assert read_tokens(kept) == tokens and (kept.stat().st_mode & 0o777) == 0o600
    postgres = runtime.config.persistence["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (kept.name == "demo-tokens.json") is not postgres  # another database never overwrites this file

    today = datetime.now(CHINA).date()
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as client:
        body = client.post("/graphql", json={"query": FLAGS, "variables": {
            "from": str(today - timedelta(days=2)), "to": str(today), "p": runtime.position()}},
            headers={"Authorization": f"Bearer {tokens['demo-county']}"}).json()
        assert not body.get("errors"), body
        compliance = body["data"]["compliance"]
        late = [f for f in compliance["flags"] if f["status"] in ("late", "missing")]
        assert (compliance["late"], compliance["missing"], [f["rule"] for f in late]) == (1, 0, ["initial.county"])
        assert body["data"]["accidentClocks"] == {"late": 0, "missing": 0}
        history = client.get(f"/v1/disasters/{late[0]['disasterId']}",
                             headers={"Authorization": f"Bearer {tokens['demo-county']}"}).json()
        assert history["text"].startswith(LATE_LABEL)
        assert client.get("/v1").status_code == 200  # every URL the start banner prints answers
        assert client.get("/", follow_redirects=False).status_code in (200, 303)
