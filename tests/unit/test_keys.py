"""The keys of disaster processes: ids of the n-th process, and keys stored before key records existed."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from uuid import NAMESPACE_URL, uuid4, uuid5

from ledger.disasters.keys import KeyClaim, disaster_id, key_state

DAY = date(2025, 7, 8)


def test_the_first_process_keeps_the_id_it_always_had_and_later_ones_are_numbered():
    assert disaster_id("320921", DAY, "flood") == uuid5(NAMESPACE_URL, "/disasters/320921/2025-07-08/flood")
    assert disaster_id("320921", DAY, "flood", 2) == uuid5(NAMESPACE_URL, "/disasters/320921/2025-07-08/flood/2")


def _process(key: tuple[str, date, str], retracted: bool = False) -> SimpleNamespace:
    return SimpleNamespace(id=disaster_id(*key), county=key[0], disaster_date=key[1], hazard=key[2],
                           retraction={"reason": "误报"} if retracted else None)


def test_a_key_stored_before_key_records_is_held_by_its_live_first_process():
    process = _process(("320921", DAY, "flood"))
    state = key_state({process.id: process}.get, "320921", DAY, "flood")
    assert (state.live, state.used, state.record) == (process.id, 1, None)
    assert state.next_id()[1] == 2


def test_a_retracted_or_moved_first_process_leaves_its_old_key_free():
    retracted = _process(("320921", DAY, "flood"), retracted=True)
    assert key_state({retracted.id: retracted}.get, "320921", DAY, "flood").live is None
    moved = _process(("320921", DAY, "flood"))
    moved.disaster_date = date(2025, 7, 5)  # a 勘误 moved it to another day
    state = key_state({moved.id: moved}.get, "320921", DAY, "flood")
    assert (state.live, state.used) == (None, 1)
    assert state.next_id()[0] == disaster_id("320921", DAY, "flood", 2)


def test_an_old_claim_on_a_corrected_key_names_its_process_while_that_process_holds_the_key():
    owner = SimpleNamespace(id=uuid4(), county="320921", disaster_date=DAY, hazard="wind_hail", retraction=None)
    claim = KeyClaim(county="320921", disaster_date=DAY, hazard="wind_hail", disaster_id=owner.id)
    stored = {claim.id: claim, owner.id: owner}
    assert key_state(stored.get, "320921", DAY, "wind_hail").live == owner.id
    owner.retraction = {"reason": "重复"}
    assert key_state(stored.get, "320921", DAY, "wind_hail").live is None
