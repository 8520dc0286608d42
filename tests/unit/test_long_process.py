"""A long process (thousands of events) loads in time linear in its events, from a snapshot when there is one.

Cost is counted in lines of the ledger's own code executed (never in seconds): loading a process
twice as long costs about twice as much when replayed, nearly the same from a snapshot, and one
more 续报 costs the same on a long process as on a short one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.accounts.service import local_operator
from ledger.audit.replay import flatten
from ledger.disasters.aggregate import Disaster
from ledger.disasters.history import report_history
from ledger.disasters.reports import Review, Stage
from ledger.store.application import Ledger
from tests.unit.builders import (
    CHENJIAGANG,
    OCCURRED,
    XIANGSHUI,
    XIAOJIAN,
    a_disaster,
    a_runtime,
    city_officer,
    follow_up,
    township,
    townships,
)

CITY_DESK_ACTOR = city_officer.as_dict()
LEDGER = str(Path(__file__).resolve().parents[2] / "ledger")


def long_process(events: int) -> Disaster:
    """初报, then 续报 on rotating townships, each reviewed: mostly accepted, some returned and refiled,
    some left awaiting review."""
    disaster = a_disaster(townships(township(XIANGSHUI, affected_population=100), township(CHENJIAGANG, deaths=0)))
    places = (XIANGSHUI, CHENJIAGANG, XIAOJIAN)
    step = 0
    waiting: list[int] = [1]
    while disaster.version < events:
        step += 1
        place = places[step % 3]
        number = follow_up(disaster, township(place, affected_population=100 + step, injured=step // 7),
                           as_of=OCCURRED + timedelta(minutes=step), explanation="逐日核实")
        if step % 5 == 0:
            disaster.return_report(number, "数据未经核实", CITY_DESK_ACTOR)
            step += 1
            waiting.append(follow_up(disaster, township(place, affected_population=100 + step),
                                     as_of=OCCURRED + timedelta(minutes=step), explanation="重报", refiles=number))
        elif step % 7 == 0:
            waiting.append(number)  # reviewed later, after newer reports
        else:
            disaster.accept(number, CITY_DESK_ACTOR)
            if len(waiting) > 3:
                disaster.accept(waiting.pop(0), CITY_DESK_ACTOR)
    return disaster


def replayed(events: list[Any]) -> Any:
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def lines_run(call: Callable[[], Any]) -> int:
    """How many lines of the ledger's own code `call` executes."""
    count = 0

    def local(frame: Any, kind: str, arg: Any) -> Any:
        nonlocal count
        if kind == "line":
            count += 1
        return local

    def tracer(frame: Any, kind: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(LEDGER) else None

    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(None)
    return count


def stored(events: int, interval: int = 50) -> tuple[Ledger, Disaster]:
    app = Ledger(env={"SNAPSHOT_INTERVAL_DISASTERS": str(interval)})
    disaster = long_process(events)
    app.save(disaster)
    return app, disaster


@pytest.fixture(scope="module")
def long_one() -> tuple[Ledger, Disaster]:
    return stored(2000)


def test_a_2000_event_process_loads_from_its_latest_snapshot_as_it_replays(long_one):
    app, disaster = long_one
    assert disaster.version >= 2000
    loaded = app.repository.get(disaster.id)
    events = list(app.events.get(disaster.id))
    from_scratch = replayed(events)
    assert vars(loaded) == vars(from_scratch)
    assert loaded.township_figures() == disaster.township_figures() == from_scratch.township_figures()
    assert loaded.stage is disaster.stage is Stage.FOLLOW_UP
    assert [s.originator_version for s in app.snapshots.get(disaster.id)][-1] == disaster.version // 50 * 50


def test_the_state_stays_small_however_many_reports(long_one):
    app, disaster = long_one
    reports = report_history(app.events.get(disaster.id))
    assert len(reports) == disaster.report_count > 1000
    assert len(disaster.pending) < 10  # the reports awaiting review, not every report
    assert all(len(r) == 2 for r in disaster.returned.values() if r["refiled_as"])  # refiled: kind and by which
    assert all(len(stack) <= 1 + len(disaster.pending) for stacks in disaster.counted.values()
               for stack in stacks.values())
    awaiting = [r["number"] for r in reports if r["review"] is Review.SUBMITTED]
    assert sorted(int(n) for n in disaster.pending) == awaiting
    for r in reports:
        kept = disaster.report(r["number"])
        assert kept["review"] is r["review"]
        if r["review"] is Review.SUBMITTED:
            assert (kept["kind"], kept["as_of"], kept["filed_by"]) == (r["kind"], r["as_of"], r["filed_by"])
        if r["review"] is Review.RETURNED:
            assert kept["kind"] is r["kind"]


def test_every_version_of_a_long_process_reads_the_same_from_a_snapshot_as_replayed(long_one):
    app, disaster = long_one
    events = list(app.events.get(disaster.id))
    for version in (1, 49, 50, 51, 777, 1000, 1999, disaster.version):
        assert vars(app.repository.get(disaster.id, version=version)) == vars(replayed(events[:version]))


def test_replaying_a_process_costs_in_proportion_to_its_events():
    short_app, short = stored(500, interval=0)
    long_app, long = stored(2000, interval=0)
    short_events, long_events = list(short_app.events.get(short.id)), list(long_app.events.get(long.id))
    short_cost = lines_run(lambda: replayed(short_events))
    long_cost = lines_run(lambda: replayed(long_events))
    ratio = (long_cost / len(long_events)) / (short_cost / len(short_events))
    assert ratio < 1.25, (short_cost, long_cost)  # quadratic would be about 4 per event


def test_loading_from_a_snapshot_costs_about_the_same_however_long_the_process(long_one):
    short_app, short = stored(200)
    long_app, long = long_one
    short_cost = lines_run(lambda: short_app.repository.get(short.id))
    long_cost = lines_run(lambda: long_app.repository.get(long.id))
    assert long_cost < 2 * short_cost + 2000, (short_cost, long_cost)


def test_a_follow_up_costs_the_same_on_a_long_process_as_on_a_short_one(long_one):
    short_app, short = stored(20)
    long_app, _ = long_one
    costs = []
    for app, process in ((short_app, short), long_one):
        loaded = app.repository.get(process.id)
        at = OCCURRED + timedelta(days=30)
        costs.append(lines_run(lambda loaded=loaded, at=at: follow_up(
            loaded, township(XIANGSHUI, affected_population=5000), as_of=at, explanation="大幅上升")))
    assert costs[1] < 1.5 * costs[0] + 200, costs


def test_as_known_at_a_moment_in_a_long_process_starts_from_a_snapshot_recorded_by_then():
    rt = a_runtime()
    disaster = long_process(1200)
    rt.app.save(disaster)
    events = list(rt.app.events.get(disaster.id))
    for version in (1, 60, 777, len(events)):
        known = rt.audit.as_known_at(local_operator(), disaster.id, events[version - 1].timestamp)
        assert known.version == version
        assert known.state == flatten(replayed(events[:version]))
        assert [e.originator_version for e in known.recorded_after] == list(range(version + 1, len(events) + 1))
    before = rt.audit.as_known_at(local_operator(), disaster.id, events[0].timestamp - timedelta(seconds=1))
    assert (before.version, before.state, len(before.recorded_after)) == (0, {}, len(events))
