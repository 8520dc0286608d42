"""The thin path: file a 初报 over REST and read it back, on both backends."""

from datetime import datetime, timedelta, timezone


def test_initial_report_is_stored_and_read_back(client, as_role):
    occurred = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    body = {"county": "320921", "hazard": "flood", "subtype": "river_flood", "occurred_at": occurred,
            "figures": {"320921100": {"affected_population": 120, "crop_affected_ha": "10.50"}}}
    filed = client.post("/v1/disasters", json=body, headers=as_role("township"))
    assert filed.status_code == 201, filed.text
    disaster_id = filed.json()["id"]
    read = client.get(f"/v1/disasters/{disaster_id}", headers=as_role("county"))
    assert read.status_code == 200
    assert read.json()["totals"] == {"affected_population": "120", "crop_affected_ha": "10.50"}
    assert read.json()["stage"] == "initial"
