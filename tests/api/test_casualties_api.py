"""因灾死亡失踪人口台账 (issue 15.7): one protected record per person and process, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from ledger.disasters.casualties import register_id
from ledger.personal.identifiers import id_check_digit
from tests.api.test_disasters_api import CHENJIAGANG, SHANGHAI, XIANGSHUI, assert_error, open_disaster, post

ID = "32092119800101123" + id_check_digit("32092119800101123")


def entry(**kw):
    day = (datetime.now(SHANGHAI) - timedelta(days=1)).date().isoformat()
    return {"name": "王小明", "id_number": ID, "township": XIANGSHUI, "occurred_on": day,
            "cause": "山洪冲毁房屋", "status": "dead", **kw}


def test_a_person_is_recorded_once_protected_and_shown_masked(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)["id"]
    url = f"/v1/disasters/{disaster_id}/casualties"
    assert post(client, as_role, "township", url, entry()).status_code == 201
    again = post(client, as_role, "county", url, entry(status="missing"))
    assert assert_error(again, 409, "already_listed")["details"] == {"status": "dead"}

    listed = client.get(url, headers=as_role("county")).json()
    assert [(p["name"], p["id_number"], p["township"], p["status"]) for p in listed] == \
        [("王*明", "320921********" + ID[-4:], XIANGSHUI, "dead")]
    # Nothing in clear in the stored events' payload either (history shows what the event holds).
    history = client.get(f"/v1/disasters/{disaster_id}/history", headers=as_role("county")).text
    assert ID not in history and "王小明" not in history
    stored = list(runtime.app.events.get(register_id(UUID(disaster_id))))
    person = stored[-1].person
    assert ID not in str(person) and "王小明" not in str(person)
    assert runtime.pii.decrypt(person["id_cipher"]) == ID


def test_bad_entries_are_refused_naming_the_field_and_townships_file_only_their_own(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)["id"]
    url = f"/v1/disasters/{disaster_id}/casualties"
    before = runtime.position()
    bad_id = post(client, as_role, "county", url, entry(id_number=ID[:-1] + ("0" if ID[-1] != "0" else "1")))
    assert [f["code"] for f in assert_error(bad_id, 422, "invalid")["fields"]] == ["bad_id_number"]
    outside = post(client, as_role, "township", url, entry(township=CHENJIAGANG))
    assert outside.status_code == 403
    assert runtime.position() == before
