"""`relief-ledger upward file`: a city files its report upward from the command line (SQLite default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from typer.testing import CliRunner

from api.cli.app import cli as relief_ledger
from api.settings import Settings
from ledger.accounts.service import local_operator
from ledger.disasters.inputs import CHINA, InitialReport
from ledger.disasters.upward import UpwardReport
from ledger.runtime import LedgerRuntime


def test_a_city_files_an_upward_initial_report_from_the_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path))
    for name in ("RELIEF_DATABASE_URL", "RELIEF_CIPHER_KEY", "RELIEF_TOKEN_PEPPER", "RELIEF_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    with LedgerRuntime(Settings().ledger_config()) as rt:
        rt.accounts.register(local_operator(), "cli-county", "county", "320921")
        rt.accounts.register(local_operator(), "cli-city", "city", "3209")
        county = rt.accounts.get("cli-county").as_actor()
        opened = rt.disasters.file_initial(county, InitialReport(
            county="320921", hazard="flood", subtype="river_flood",
            occurred_at=datetime.now(CHINA) - timedelta(hours=1),
            figures={"320921100": {"affected_population": 12}})).id
    cli = CliRunner()
    done = cli.invoke(relief_ledger, ["upward", "file", "initial", "--account", "cli-city", "--process", str(opened)])
    assert done.exit_code == 0, done.output
    assert "Filed upward report" in done.stdout
    refused = cli.invoke(relief_ledger, ["upward", "file", "daily", "--account", "cli-city", "--process", str(opened)])
    assert refused.exit_code == 1 and "day" in refused.output
    with LedgerRuntime(Settings().ledger_config()) as rt:
        filed = [n for n in rt.app.recorder.select_notifications(1, 100) if n.topic.endswith("UpwardReport.Filed")]
        assert len(filed) == 1
        report = rt.app.repository.get(filed[0].originator_id)
        assert isinstance(report, UpwardReport)
        assert (report.level, report.kind, report.disaster_ids, report.figures) == \
            ("city", "initial", [str(opened)], {"affected_population": "12"})
