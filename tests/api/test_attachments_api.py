"""Attachments (附件, issue 15.7): uploaded to the content-addressed blob store, named by reports, sealed by hash.

Every test runs on SQLite and on PostgreSQL (the `client` fixture).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.audit.attachments import attachment_problems
from tests.api.test_disasters_api import COUNTY, XIANGSHUI, ago, assert_error, history, post, state

PNG = b"\x89PNG\r\n\x1a\n"


def upload(client, as_role, data: bytes, name: str = "scene.png", kind: str = "image/png", status: int = 201):
    response = client.post("/v1/attachments", files={"file": (name, data, kind)}, headers=as_role("county"))
    assert response.status_code == status, response.text
    return response.json()


def photo(client, as_role, i: int) -> dict[str, Any]:
    stored = upload(client, as_role, PNG + f"photo {i}".encode())
    return {"sha256": stored["sha256"], "type": stored["type"], "name": f"现场{i}.png", "kind": "photo"}


def test_an_upload_answers_the_hash_of_its_content_and_is_stored_encrypted(client, as_role, runtime):
    data = PNG + b"the levee at dawn"
    stored = upload(client, as_role, data)
    assert stored == {"sha256": f"sha256:{hashlib.sha256(data).hexdigest()}", "size": len(data), "type": "image/png"}
    assert runtime.blobs.get(stored["sha256"]) == data
    on_disk = next(p for p in runtime.blobs.root.rglob("*") if p.is_file())
    assert b"the levee at dawn" not in on_disk.read_bytes()  # encrypted at rest
    # The type is taken from the content, not the declared one; an unknown kind of file is refused.
    assert upload(client, as_role, b"\x00\x01binary", "x.exe", "image/png", status=422)["error"]["fields"][0][
        "code"] == "bad_file_type"
    assert upload(client, as_role, b"", status=422)["error"]["fields"][0]["code"] == "empty_file"
    assert client.post("/v1/attachments", files={"file": ("a.png", data, "image/png")},
                       headers=as_role("auditor")).status_code == 403


def test_a_report_names_its_attachments_by_hash_and_a_final_after_a_response_needs_three_photos(
    client, as_role, runtime,
):
    opened = client.post("/v1/disasters", headers=as_role("county"), json={
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": ago(days=3),
        "figures": {XIANGSHUI: {"affected_population": 100}},
        "attachments": [photo(client, as_role, 1)]})
    assert opened.status_code == 201, opened.text
    disaster_id = opened.json()["id"]
    unknown = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/follow-ups", {
        "as_of": ago(days=2), "figures": {XIANGSHUI: {"affected_population": 110}},
        "attachments": [{"sha256": "sha256:" + "0" * 64, "type": "image/png", "name": "x.png", "kind": "photo"}]})
    assert [f["code"] for f in assert_error(unknown, 422, "invalid")["fields"]] == ["unknown_attachment"]

    started = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/response-level", {
        "action": "start", "level": 4, "plan": "响水县自然灾害救助应急预案", "plan_version": "2021",
        "government_level": "county", "decided_at": ago(days=2), "reason": "达到四级响应条件"})
    assert started.status_code == 200, started.text
    final = {"as_of": ago(days=1), "figures": {XIANGSHUI: {"affected_population": 120}},
             "attachments": [photo(client, as_role, 2)]}
    before = runtime.position()
    refused = post(client, as_role, "county", f"/v1/disasters/{disaster_id}/final", final)
    error = assert_error(refused, 422, "photos_required")
    assert "2" in error["message"] and error["fields"][0]["field"] == "attachments"
    assert runtime.position() == before
    final["attachments"].append(photo(client, as_role, 3))
    assert post(client, as_role, "county", f"/v1/disasters/{disaster_id}/final", final).status_code == 201
    assert state(client, as_role, disaster_id)["stage"] == "final"
    events = history(client, as_role, disaster_id)
    assert [a["kind"] for a in events[0]["payload"]["attachments"]] == ["photo"]
    assert len(events[-1]["payload"]["attachments"]) == 2  # the hashes are in the sealed events

    # A blob lost or altered in the store is reported against the event that names it.
    assert list(attachment_problems(runtime.app, runtime.blobs)) == []
    first = events[0]["payload"]["attachments"][0]["sha256"]
    path = runtime.blobs._path(first.removeprefix("sha256:"))
    path.write_bytes(path.read_bytes()[:-1] + b"X")
    last = events[-1]["payload"]["attachments"][0]["sha256"]
    runtime.blobs._path(last.removeprefix("sha256:")).unlink()
    found = {(p.status, p.ref) for p in attachment_problems(runtime.app, runtime.blobs)}
    assert found == {("altered", first), ("missing", last)}


def test_audit_verify_reports_a_missing_attachment(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from api.cli.audit import audit_cli
    from api.settings import Settings
    from ledger.disasters.inputs import InitialReport
    from ledger.runtime import LedgerRuntime
    from tests.unit.test_upward_cli import local_operator

    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path))
    for name in ("RELIEF_DATABASE_URL", "RELIEF_CIPHER_KEY", "RELIEF_TOKEN_PEPPER", "RELIEF_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    with LedgerRuntime(Settings().ledger_config()) as rt:
        rt.accounts.register(local_operator(), "v-county", "county", "320921")
        stored = rt.blobs.put(PNG + b"photo", "image/png")
        rt.disasters.file_initial(rt.accounts.get("v-county").as_actor(), InitialReport(
            county="320921", hazard="flood", subtype="river_flood",
            occurred_at=datetime.now(UTC) - timedelta(hours=1), figures={XIANGSHUI: {"affected_population": 3}},
            attachments=({"sha256": stored.ref, "type": stored.type, "name": "a.png", "kind": "photo"},)))
        blob = rt.blobs._path(stored.ref.removeprefix("sha256:"))
    cli = CliRunner()
    assert cli.invoke(audit_cli, ["verify"]).exit_code == 0
    blob.unlink()
    done = cli.invoke(audit_cli, ["verify"])
    assert done.exit_code == 1 and f"MISSING: {stored.ref}" in done.stdout
