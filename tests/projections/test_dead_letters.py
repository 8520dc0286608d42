"""One event never stops a projection: what it cannot apply is listed as a dead letter, and it goes on.

The poison events here get into the store the way old or damaged data
would: written straight through the recorder, past the checks that refuse
them today (a household size no column can hold; on PostgreSQL a NUL in a
name, which once stopped the roster for good; bytes that do not decrypt).
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.relief.case import ReliefCase
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from projections.disasters.board import BoardProjection
from projections.registry import PROJECTIONS
from projections.relief.roster import RosterProjection
from projections.runner import QUARANTINED, Follower, open_projection
from tests.projections.test_relief_projections import a_card, an_id_number

VILLAGE = "320921100001"


def household(runtime: LedgerRuntime, officer: Actor, seq: int, **overrides: Any) -> ReliefCase:
    """A 户报 built directly as an aggregate (the use case would refuse the poison values)."""
    values: dict[str, Any] = dict(
        programme="winter_spring", period="2025-2026", county="320921", township="320921100", village=VILLAGE,
        head_name=f"户主{seq}", id_number=an_id_number(seq), id_hash=f"hash{seq}", phone="13800138000",
        card_number=a_card(seq), household_type="一般户", household_size=3, people_in_need=2,
        address="东园居委会", causes=[], needs=[], applied_on=date(2025, 10, 1), review_flags=[],
        actor=officer.as_dict(), members=[], disaster_id=None,
    )
    values.update(overrides)
    return ReliefCase(**values)


def store_unchecked(runtime: LedgerRuntime, *aggregates: Any) -> None:
    """Write pending events past `Ledger.save`'s checks, as data stored before them would be."""
    events = [e for a in aggregates for e in a.collect_events()]
    runtime.app.recorder.insert_events([runtime.app.mapper.to_stored_event(e) for e in events])


@pytest.fixture
def roster(runtime: LedgerRuntime) -> Follower:
    follower = Follower(runtime.app, open_projection(RosterProjection, runtime.config.persistence,
                                                     runtime.config.data_dir, runtime.pii), batch=50)
    yield follower
    follower.close()


def test_an_event_the_roster_cannot_hold_is_listed_and_the_roster_goes_on(
    runtime: LedgerRuntime, officers: dict[str, Actor], roster: Follower,
) -> None:
    county = officers["county"]
    good_before = household(runtime, county, 1)
    poison = household(runtime, county, 2, household_size=10**20)  # no INTEGER column holds it
    good_after = household(runtime, county, 3)
    store_unchecked(runtime, good_before, poison, good_after)
    poison.assess("会议记录", True, date(2025, 10, 8), date(2025, 10, 9), county.as_dict())  # a later event of the quarantined case
    store_unchecked(runtime, poison)

    roster.catch_up()

    view = roster.projection.view
    assert roster.position() == runtime.position()
    assert view.get(str(good_before.id)) is not None and view.get(str(good_after.id)) is not None
    assert view.get(str(poison.id)) is None
    letters = view.dead_letters()
    assert [(d["originator_id"], d["originator_version"]) for d in letters] == [(str(poison.id), 1),
                                                                                (str(poison.id), 2)]
    assert "Error" in letters[0]["error"] and letters[1]["error"] == QUARANTINED
    assert view.dead_letter_count() == 2


def test_a_rebuild_applies_the_same_rule(runtime: LedgerRuntime, officers: dict[str, Actor],
                                         roster: Follower) -> None:
    store_unchecked(runtime, household(runtime, officers["county"], 1, household_size=10**20),
                    household(runtime, officers["county"], 2))
    roster.catch_up()
    first = roster.projection.view.dead_letters()
    roster.rebuild()
    assert roster.projection.view.dead_letters() == first
    assert roster.projection.view.count("winter_spring", "2025-2026", "320921") == 1


def test_a_nul_stored_before_the_edge_refused_it_no_longer_stops_the_roster(
    runtime: LedgerRuntime, officers: dict[str, Actor], roster: Follower, backend: dict[str, str],
) -> None:
    poison = household(runtime, officers["county"], 1, household_type="一般\x00户")  # kept in clear in the roster
    store_unchecked(runtime, poison, household(runtime, officers["county"], 2))
    roster.catch_up()
    assert roster.position() == runtime.position()
    assert roster.projection.view.count("winter_spring", "2025-2026", "320921") == (
        1 if backend["PERSISTENCE_MODULE"] == "eventsourcing.postgres" else 2)  # SQLite can store a NUL


def test_an_event_that_does_not_decrypt_is_listed_by_every_projection(
    runtime: LedgerRuntime, officers: dict[str, Actor], follow: Callable[..., Follower],
) -> None:
    case = household(runtime, officers["county"], 1)
    [stored] = [runtime.app.mapper.to_stored_event(e) for e in case.collect_events()]
    runtime.app.recorder.insert_events([StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                                                    b"\x00 not what the cipher wrote")])
    store_unchecked(runtime, household(runtime, officers["county"], 2))
    for name, cls in PROJECTIONS.items():
        if cls is RosterProjection:
            continue  # needs the personal-data key; covered above
        follower = follow(cls)
        follower.catch_up()
        assert follower.position() == runtime.position(), name
        [letter] = follower.projection.view.dead_letters()
        assert UUID(letter["originator_id"]) == case.id and letter["error"].startswith("UnreadableEvent"), name


def test_the_board_is_untouched_by_another_projections_dead_letter(
    runtime: LedgerRuntime, officers: dict[str, Actor], roster: Follower, follow: Callable[..., Follower],
) -> None:
    store_unchecked(runtime, household(runtime, officers["county"], 1, household_size=10**20))
    roster.catch_up()
    board = follow(BoardProjection)
    board.catch_up()
    assert board.projection.view.dead_letter_count() == 0 and roster.projection.view.dead_letter_count() == 1


def test_reading_a_damaged_event_names_its_position_and_verify_reports_it(
    runtime: LedgerRuntime, officers: dict[str, Actor], tokens: dict[str, str],
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from projections.audit.seal import Sealer

    case = household(runtime, officers["county"], 1)
    [stored] = [runtime.app.mapper.to_stored_event(e) for e in case.collect_events()]
    runtime.app.recorder.insert_events([StoredEvent(stored.originator_id, 1, stored.topic, b"\x00 damaged bytes")])
    position = runtime.position()
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        response = client.get(f"/v1/relief/cases/{case.id}", headers={"Authorization": f"Bearer {tokens['county']}"})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "event_unreadable" and error["details"]["position"] == position
    assert f"position {position}" in error["message"]
    with Sealer(runtime) as sealer:
        sealer.seal()
        result = sealer.verify()
    assert not result.ok and result.unreadable == (position,) and result.summary().startswith("DAMAGED")
