"""Accounts in bulk and their rights over time, on SQLite and PostgreSQL: suspend and restore take effect
at once on tokens and sign-in sessions; a spreadsheet creates or updates many accounts all or nothing with a
row report; GraphQL answers who held which right at a moment, and the accountability report lists it."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.files.accounts_import import import_file
from ledger.accounts.service import local_operator
from ledger.runtime import LedgerRuntime
from ledger.store.errors import Conflict, InvalidInput
from projections.runner import ProjectionHost

RIGHTS = """query($at: DateTime, $area: String, $p: Int) {
  accountRights(at: $at, area: $area, minPosition: $p) { username role scope status change reason changedBy since } }"""


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as out:
        csv.writer(out).writerows(rows)
    return path


@pytest.fixture
def reader(runtime: LedgerRuntime) -> Any:
    with TestClient(create_app(runtime, host=ProjectionHost(runtime)), raise_server_exceptions=False) as client:
        yield client


def rights(client: TestClient, token: str, position: int, at: datetime | None = None, area: str | None = None
           ) -> dict[str, dict[str, Any]]:
    variables = {"p": position, "area": area, "at": at.isoformat() if at else None}
    body = client.post("/graphql", json={"query": RIGHTS, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"}).json()
    assert not body.get("errors"), body
    return {r["username"]: r for r in body["data"]["accountRights"]}


def test_a_suspended_accounts_token_and_session_fail_at_once_and_work_again_when_restored(
        runtime: LedgerRuntime, client: TestClient, tokens: dict[str, str]) -> None:
    operator = local_operator()
    me = {"Authorization": f"Bearer {tokens['county']}"}
    session = runtime.accounts.sessions.open(runtime.accounts.get("test-county").as_actor(), "127.0.0.1")
    assert client.get("/v1/me", headers=me).status_code == 200

    runtime.accounts.passwords.suspend(operator, "test-county", "调岗审查")
    refused = client.get("/v1/me", headers=me)
    assert refused.status_code == 401 and " / " in refused.json()["error"]["message"]
    assert runtime.accounts.sessions.resolve(session) is None
    with pytest.raises(Conflict):
        runtime.accounts.issue_token(operator, "test-county")
    with pytest.raises(Conflict):
        runtime.accounts.passwords.suspend(operator, "test-county", "again")

    runtime.accounts.passwords.restore(operator, "test-county", "审查结束")
    assert client.get("/v1/me", headers=me).status_code == 200
    assert runtime.accounts.sessions.resolve(session) is None  # it signs in anew
    assert [type(e).__name__ for e in runtime.app.events.get(runtime.accounts.get("test-county").id)][-2:] == [
        "Suspended", "Restored"]


def test_a_spreadsheet_of_accounts_is_imported_all_or_nothing_with_the_rows_named(
        runtime: LedgerRuntime, tmp_path: Path) -> None:
    operator = local_operator()
    header = ["用户名", "角色", "管辖范围", "名称", "状态", "理由"]
    bad = write_csv(tmp_path / "bad.csv", [
        header,
        ["xs-town-1", "乡镇", "320921100", "响水镇", "", ""],
        ["", "", "", "", "", ""],  # row 3: blank, ignored
        ["xs-town-2", "乡镇", "320921", "陈家港镇", "", ""],  # row 4: a township account with a county scope
        ["xs-town-1", "township", "320921101", "", "", ""],  # row 5: the same account again
        ["xs-x", "mayor", "320921", "", "", ""],  # row 6: no such role
        ["xs-y", "county", "320999", "", "休假", ""],  # row 7: unknown county, unknown status
    ])
    before = runtime.position()
    with pytest.raises(InvalidInput) as refused:
        import_file(runtime, operator, bad)
    assert {(f.field, f.code) for f in refused.value.fields} == {
        ("row 4.管辖范围", "scope_level"), ("row 5.用户名", "duplicate_in_file"), ("row 6.角色", "bad_role"),
        ("row 7.管辖范围", "unknown_area"), ("row 7.状态", "bad_status")}
    assert runtime.position() == before and not runtime.accounts.exists("xs-town-1")

    good = write_csv(tmp_path / "good.csv", [
        header,
        ["xs-town-1", "乡镇", "320921100", "响水镇", "", ""],
        ["xs-town-2", "township", "320921101", "陈家港镇", "", ""],
        ["xs-county", "县", "320921", "响水县应急管理局", "", ""],
        ["xs-spare", "township", "320921102", "", "暂停", "备用账号"],
    ])
    result = import_file(runtime, operator, good, issue_tokens=True)
    assert [(o.row, o.username, o.action) for o in result.outcomes] == [
        (2, "xs-town-1", "created"), (3, "xs-town-2", "created"), (4, "xs-county", "created"),
        (5, "xs-spare", "created")]
    assert set(result.tokens) == {"xs-town-1", "xs-town-2", "xs-county"}  # none for a suspended account
    assert runtime.accounts.authenticate(result.tokens["xs-town-2"]).scope == "320921101"
    assert runtime.accounts.get("xs-spare").status == "suspended"

    moved = write_csv(tmp_path / "moved.csv", [
        header,
        ["xs-town-1", "township", "320921100", "", "", ""],  # unchanged
        ["xs-town-2", "township", "320921102", "", "", "调往小尖镇"],
        ["xs-county", "county", "320921", "", "暂停", ""],  # the reason for the file applies
        ["xs-spare", "township", "320921102", "", "正常", "启用"],
    ])
    with pytest.raises(InvalidInput) as no_reason:
        import_file(runtime, operator, moved)
    assert {(f.field, f.code) for f in no_reason.value.fields} == {("row 4.理由", "reason_required")}
    result = import_file(runtime, operator, moved, reason="年度调整")
    assert [(o.username, o.action) for o in result.outcomes] == [
        ("xs-town-1", "unchanged"), ("xs-town-2", "updated"), ("xs-county", "updated"), ("xs-spare", "updated")]
    assert runtime.accounts.get("xs-town-2").scope == "320921102"
    assert runtime.accounts.get("xs-county").status == "suspended"
    assert runtime.accounts.get("xs-spare").status == "active"


def test_who_held_which_right_at_a_moment_is_answered_in_graphql_and_the_report(
        runtime: LedgerRuntime, reader: TestClient, tokens: dict[str, str]) -> None:
    operator = local_operator()
    runtime.accounts.register(operator, "xs-officer", "township", "320921100")
    before = datetime.now(UTC)
    runtime.accounts.passwords.change_access(operator, "xs-officer", "township", "320921101", "调往陈家港镇")
    runtime.accounts.passwords.suspend(operator, "xs-officer", "离岗")
    head = runtime.position()

    then = rights(reader, tokens["auditor"], head, at=before, area="320921")
    assert (then["xs-officer"]["scope"], then["xs-officer"]["status"], then["xs-officer"]["change"]) == (
        "320921100", "active", "Registered")
    assert then["test-county"]["role"] == "county" and "test-province" in then  # scopes containing the county
    now = rights(reader, tokens["auditor"], head, area="320921101")
    officer = now["xs-officer"]
    assert (officer["scope"], officer["status"], officer["change"], officer["reason"]) == (
        "320921101", "suspended", "Suspended", "离岗")
    assert officer["changedBy"].startswith("local-operator:") and officer["since"].endswith("+08:00")
    assert "test-township" not in now  # 响水镇 is not 陈家港镇

    refused = reader.post("/graphql", json={"query": RIGHTS}, headers={"Authorization": f"Bearer {tokens['township']}"})
    assert refused.json()["errors"][0]["extensions"]["code"] == "forbidden"

    today = datetime.now(UTC).astimezone().date()
    report = reader.get("/v1/audit/report", params={"area": "320921", "date_from": str(today - timedelta(days=1)),
                                                      "date_to": str(today)},
                        headers={"Authorization": f"Bearer {tokens['auditor']}"})
    assert report.status_code == 200, report.text
    rows = [r for r in report.json()["sections"]["account_rights"] if r["username"] == "xs-officer"]
    assert [(r["scope"], r["status"], r["change_name"]) for r in rows] == [
        ("320921100", "active", "开户"), ("320921101", "active", "角色或管辖范围变更"), ("320921101", "suspended", "暂停")]
    assert rows[0]["valid_until"] == rows[1]["valid_from"] and rows[2]["valid_until"] is None


def test_the_command_line_imports_accounts_writes_their_tokens_privately_and_suspends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from api.cli.app import cli

    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RELIEF_DEMO", "false")
    monkeypatch.delenv("RELIEF_DATABASE_URL", raising=False)
    runner = CliRunner()
    sheet = write_csv(tmp_path / "counties.csv", [["username", "role", "scope", "name"]] + [
        [f"county-{code}", "county", code, name] for code, name in (("320921", "响水县"), ("320922", "滨海县"))])
    out = tmp_path / "tokens.csv"
    done = runner.invoke(cli, ["accounts", "import", str(sheet), "--tokens", str(out)])
    assert done.exit_code == 0, done.output
    assert "row 2: county-320921 created" in done.output and "2 created, 0 updated, 0 unchanged" in done.output
    assert (out.stat().st_mode & 0o777) == 0o600
    issued = dict(list(csv.reader(out.open(encoding="utf-8")))[1:])
    assert set(issued) == {"county-320921", "county-320922"} and all(t.startswith("rl_") for t in issued.values())

    suspended = runner.invoke(cli, ["accounts", "suspend", "county-320922", "--reason", "机构调整"])
    assert suspended.exit_code == 0, suspended.output
    shown = runner.invoke(cli, ["accounts", "show", "county-320922"])
    assert "status=suspended" in shown.output and "Suspended" in shown.output
    again = runner.invoke(cli, ["accounts", "import", str(sheet)])
    assert again.exit_code == 0 and "0 created, 0 updated, 2 unchanged" in again.output
