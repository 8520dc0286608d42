"""Exactly-once: a crash, a retry or a second pass never double-counts and never skips.

The follower applies the log in batches, each batch in one view transaction
(rows + tracking position). These tests cut the power in the middle of a
batch, resume, and compare with an uninterrupted run over the same events.
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from projections.disasters.board import BoardFilter, BoardProjection
from projections.disasters.statistics import StatisticsProjection, StatisticsQuery
from projections.runner import AdvisoryLock, Follower
from projections.views import SQLiteView
from tests.projections.builders import (
    CHANGJIANG,
    CHENJIAGANG,
    XIANGSHUI,
    XIJIAO,
    XINFENG,
    an_officer,
    day,
    initial,
    photos,
    report,
    response_start,
    totals_of,
)

BATCH = 3
PROJECTIONS = [BoardProjection, StatisticsProjection]


class PowerCut(Exception):
    """The process dies here."""


@pytest.fixture
def story(runtime, officers) -> dict[str, int]:
    """Three processes through their lives; returns the log position of each step.

    At the end 江苏 counts 1350 + 420 = 1770 affected and 0.30 ha of crops
    (the hail process is retracted), 江西 counts 120 + 30 = 150.
    """
    county, city = officers["county"], officers["city"]
    d = runtime.disasters
    flood = d.file_initial(county, initial(days_ago=5, figures={
        XIANGSHUI: {"affected_population": 1200, "crop_affected_ha": "0.10"},
        CHENJIAGANG: {"affected_population": 300, "crop_affected_ha": "0.20"},
    }))
    steps = {"flood": flood.position}
    steps["follow_up"] = d.file_follow_up(county, flood.id, report({XIANGSHUI: {"affected_population": 1300}},
                                                                   hour=12)).position
    steps["response"] = d.change_response(county, flood.id, response_start(4)).position
    steps["inflated"] = d.file_follow_up(county, flood.id, report({CHENJIAGANG: {"affected_population": 900}},
                                                                  hour=14)).position
    steps["returned"] = d.return_report(city, flood.id, 3, "陈家港镇数字与村级汇总不符").position
    steps["refiled"] = d.refile(county, flood.id, 3, report({CHENJIAGANG: {"affected_population": 400}},
                                                            hour=15)).position
    steps["accepted"] = d.accept(city, flood.id, 1).position
    steps["final"] = d.file_final(county, flood.id, report({
        XIANGSHUI: {"affected_population": 1350}, CHENJIAGANG: {"affected_population": 420},
    }, days_ago=4, attachments=photos(runtime))).position
    hail = d.file_initial(county, initial(days_ago=3, hazard="wind_hail", subtype="hail",
                                          figures={XIANGSHUI: {"affected_population": 500}}))
    steps["hail"] = hail.position
    steps["retracted"] = d.retract(officers["province"], hail.id, "重复报送").position
    changjiang_officer = an_officer(runtime, "county", CHANGJIANG)
    changjiang = d.file_initial(changjiang_officer, initial(CHANGJIANG, days_ago=4,
                                                            figures={XIJIAO: {"affected_population": 100}}))
    steps["changjiang"] = changjiang.position
    steps["changjiang_follow_up"] = d.file_follow_up(changjiang_officer, changjiang.id, report(
        {XIJIAO: {"affected_population": 120}, XINFENG: {"affected_population": 30}}, days_ago=4)).position
    return steps


# --- helpers --------------------------------------------------------------------------------------


def rows(follower: Follower) -> dict[str, list[dict[str, Any]]]:
    """Everything the view holds (its own tables), in a stable order."""
    view = follower.projection.view
    if isinstance(follower.projection, BoardProjection):
        return {"rows": view.query("SELECT * FROM {t}_rows ORDER BY disaster_id")}
    return {
        "state": view.query("SELECT * FROM {t}_state ORDER BY disaster_id"),
        "figures": view.query("SELECT * FROM {t}_figures ORDER BY disaster_id, township, indicator"),
    }


def log_ids(runtime: Any) -> list[int]:
    return [n.id for n in runtime.app.recorder.select_notifications(start=1, limit=100_000)]


def cut_power_after(monkeypatch: pytest.MonkeyPatch, follower: Follower, notification_id: int) -> None:
    """The process dies right after applying `notification_id`, before its batch commits (once)."""
    apply = follower.projection.process_event
    armed = [True]

    def process_event(event: Any, tracking: Tracking) -> None:
        apply(event, tracking)
        if armed[0] and tracking.notification_id == notification_id:
            armed[0] = False
            raise PowerCut(f"after notification {notification_id}")

    monkeypatch.setattr(follower.projection, "process_event", process_event)


def run_to(follower: Follower, position: int) -> None:
    """An uninterrupted run that stops at a batch boundary (`position` must be one)."""
    stop = threading.Event()
    follower.catch_up(progress=lambda _: stop.set() if follower.position() >= position else None, stop=stop)
    assert follower.position() == position


def batch_boundary_before(ids: list[int], notification_id: int) -> int:
    """The last position committed before the batch holding `notification_id` (batches of BATCH from 0)."""
    index = ids.index(notification_id)
    start = index - index % BATCH
    return ids[start - 1] if start else 0


def crash_points(ids: list[int], story: dict[str, int]) -> dict[str, int]:
    """A disaster event in the middle of a batch, and one at the end of a batch."""
    steps = sorted(story.values())
    return {
        "mid_batch": next(i for i in steps if ids.index(i) % BATCH == 1),
        "batch_end": next(i for i in steps if ids.index(i) % BATCH == BATCH - 1),
    }


def province_figures(follower: Follower, area: str = "32") -> Any:
    return follower.projection.view.statistics(
        StatisticsQuery(area=area, date_from=day(30).isoformat(), date_to=day(2).isoformat())
    )


# --- a crash, then resume -------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["mid_batch", "batch_end"])
@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_a_crash_leaves_position_and_rows_at_the_previous_batch_boundary(runtime, story, follow, monkeypatch,
                                                                          projection, where):
    ids = log_ids(runtime)
    crash_at = crash_points(ids, story)[where]
    boundary = batch_boundary_before(ids, crash_at)
    follower = follow(projection, batch=BATCH)
    run_to(follower, boundary)
    at_boundary = rows(follower)

    follower.projection.view.reset(runtime.app.name)
    cut_power_after(monkeypatch, follower, crash_at)
    with pytest.raises(PowerCut):
        follower.catch_up()

    assert follower.position() == boundary
    assert rows(follower) == at_boundary


@pytest.mark.parametrize("resume_with", ["same_follower", "new_follower"])
@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_resuming_after_a_crash_gives_the_rows_of_an_uninterrupted_run(runtime, story, follow, monkeypatch,
                                                                        projection, resume_with):
    ids = log_ids(runtime)
    follower = follow(projection, batch=BATCH)
    follower.catch_up()
    uninterrupted = rows(follower)

    follower.projection.view.reset(runtime.app.name)
    cut_power_after(monkeypatch, follower, crash_points(ids, story)["mid_batch"])
    with pytest.raises(PowerCut):
        follower.catch_up()
    resumed = follower if resume_with == "same_follower" else follow(projection, batch=BATCH)
    resumed.catch_up()

    assert resumed.position() == runtime.position() == ids[-1]
    assert rows(resumed) == uninterrupted


def test_after_a_crash_and_resume_statistics_count_each_report_once(runtime, story, follow, monkeypatch):
    ids = log_ids(runtime)
    statistics = follow(StatisticsProjection, batch=BATCH)
    for crash_at in sorted(crash_points(ids, story).values()):  # two crashes in one run
        cut_power_after(monkeypatch, statistics, crash_at)
        with pytest.raises(PowerCut):
            statistics.catch_up()
        monkeypatch.undo()
    statistics.catch_up()

    jiangsu = province_figures(statistics, "32")
    assert jiangsu.totals == {"affected_population": Decimal(1770), "crop_affected_ha": Decimal("0.30")}
    assert jiangsu.processes == 1
    assert province_figures(statistics, "36").totals == {"affected_population": Decimal(150)}


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_a_rebuild_interrupted_by_a_crash_leaves_the_view_whole_and_resumes_where_it_stopped(
    runtime, story, follow, monkeypatch, projection
):
    ids = log_ids(runtime)
    follower = follow(projection, batch=BATCH)
    follower.catch_up()
    before = rows(follower)

    cut_power_after(monkeypatch, follower, crash_points(ids, story)["mid_batch"])
    with pytest.raises(PowerCut):
        follower.rebuild()
    monkeypatch.undo()
    assert follower.position() == ids[-1]  # readers kept the whole view during the rebuild
    assert rows(follower) == before

    resumed = follow(projection, batch=BATCH).rebuild()

    assert 0 < resumed < len(ids)  # the second rebuild went on from the shadow's position
    assert follower.position() == ids[-1]
    assert rows(follower) == before


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_rebuilding_twice_gives_the_same_rows_and_position(runtime, story, follow, projection):
    follower = follow(projection, batch=BATCH)
    follower.catch_up()
    before = rows(follower)

    assert follower.rebuild() == len(log_ids(runtime))
    assert follower.rebuild() == len(log_ids(runtime))

    assert rows(follower) == before
    assert follower.position() == runtime.position()
    assert follower.catch_up() == 0
    assert shadow_tables(follower) == []  # nothing of the rebuilds is left behind


def shadow_tables(follower: Follower) -> list[str]:
    view = follower.projection.view
    if isinstance(view, SQLiteView):
        found = view.query("SELECT name FROM sqlite_master WHERE instr(name, '__next') > 0")
    else:
        found = view.query("SELECT c.relname AS name FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace"
                           " WHERE s.nspname = ? AND strpos(c.relname, '__next') > 0", [view.datastore.schema])
    return [r["name"] for r in found]


# --- the same events again ------------------------------------------------------------------------


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_catching_up_again_changes_nothing(runtime, story, follow, projection):
    follower = follow(projection, batch=BATCH)
    assert follower.catch_up() == len(log_ids(runtime))
    once = rows(follower)

    assert follower.catch_up() == 0
    assert follow(projection, batch=BATCH).catch_up() == 0  # another follower of the same view
    assert rows(follower) == once
    assert follower.position() == runtime.position()


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_a_batch_delivered_twice_is_refused_and_writes_nothing(runtime, story, follow, projection):
    follower = follow(projection, batch=BATCH)
    follower.catch_up()
    once = rows(follower)
    last_batch = runtime.app.recorder.select_notifications(start=story["changjiang"], limit=BATCH)

    view, app = follower.projection.view, runtime.app
    with pytest.raises(IntegrityError), view.batch(Tracking(app.name, last_batch[-1].id)):
        for n in last_batch:
            follower.projection.process_event(app.mapper.to_domain_event(n), Tracking(app.name, n.id))

    assert rows(follower) == once
    assert follower.position() == runtime.position()


def log_as_seen(app: Any, *, up_to: int | None = None,
                after_reading: Callable[[], None] | None = None) -> SimpleNamespace:
    """The application as a follower sees it: the log up to `up_to`, and a hook run after each read."""

    def select_notifications(*args: Any, **kwargs: Any) -> Any:
        found = app.recorder.select_notifications(*args, stop=up_to, **kwargs)
        if after_reading is not None:
            after_reading()
        return found

    return SimpleNamespace(name=app.name, mapper=app.mapper,
                           recorder=SimpleNamespace(select_notifications=select_notifications))


def affected_in_jiangsu(follower: Follower) -> Decimal:
    """What the board or the statistics show as 江苏's affected population."""
    if isinstance(follower.projection, BoardProjection):
        board = follower.projection.view.find(BoardFilter(area="32"), None, 100)
        return sum((totals_of(r).get("affected_population", Decimal(0)) for r in board), Decimal(0))
    return province_figures(follower, "32").totals["affected_population"]


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_a_follower_overtaken_by_another_does_not_apply_their_events_twice(runtime, story, follow, projection):
    until_returned = log_as_seen(runtime.app, up_to=story["returned"])
    reference = Follower(until_returned, follow(projection).projection)
    reference.catch_up()
    expected = rows(reference)
    assert affected_in_jiangsu(reference) == Decimal(1300 + 300)  # the inflated 900 was returned
    reference.projection.view.reset(runtime.app.name)

    # The view has followed the log up to the response level; the inflated 续报 and its return follow.
    Follower(log_as_seen(runtime.app, up_to=story["response"]), reference.projection).catch_up()
    # Another process takes the inflated 续报 while this one is reading the log.
    other = Follower(log_as_seen(runtime.app, up_to=story["inflated"]), follow(projection).projection)
    this = Follower(log_as_seen(runtime.app, up_to=story["returned"], after_reading=lambda: other.catch_up()),
                    follow(projection).projection)
    with pytest.raises(IntegrityError):  # refused as a whole: the position moved while it read the log
        this.catch_up()
    this.catch_up()  # rereads its position and carries on (the host retries after an error)

    assert this.position() == story["returned"]
    assert affected_in_jiangsu(this) == Decimal(1300 + 300)
    assert rows(this) == expected


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_only_one_process_follows_a_projection_at_a_time(runtime):
    env = runtime.config.persistence
    first, second, other_view = AdvisoryLock(env, "board"), AdvisoryLock(env, "board"), AdvisoryLock(env, "statistics")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert other_view.try_acquire()  # each projection has its own lock
        first.release()
        assert eventually(second.try_acquire)  # PostgreSQL frees a session's lock once its backend has gone
    finally:
        for lock in (first, second, other_view):
            lock.release()
