"""The disaster board: one row per 灾害过程, as the upper levels see it after each report and decision.

Every test runs on SQLite and on PostgreSQL (the `backend` fixture).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from ledger.disasters.inputs import Correction
from projections.disasters.board import BoardFilter, BoardProjection
from projections.runner import Follower
from tests.projections.builders import (
    CHENJIAGANG,
    JIULONGPO,
    XIANGSHUI,
    YANGJIAPING,
    an_officer,
    at,
    day,
    initial,
    report,
    response_start,
    totals_of,
)


@pytest.fixture
def board(follow: Any) -> Follower:
    return follow(BoardProjection)


def row_of(board: Follower, disaster_id: Any) -> dict[str, Any]:
    board.catch_up()
    return board.projection.view.get([str(disaster_id)])[str(disaster_id)]


# --- one process through its life ------------------------------------------------------------------


def test_initial_report_opens_a_row_at_stage_initial_with_county_totals(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial(figures={
        XIANGSHUI: {"affected_population": 1200, "deaths": 1},
        CHENJIAGANG: {"affected_population": 300},
    }))

    row = row_of(board, opened.id)
    assert (row["county"], row["hazard"], row["subtype"]) == ("320921", "flood", "river_flood")
    assert row["disaster_date"] == day(5).isoformat()
    assert row["stage"] == "initial"
    assert row["review_status"] == "submitted"
    assert row["report_count"] == 1
    assert row["response_level"] is None
    assert totals_of(row) == {"affected_population": Decimal(1500), "deaths": Decimal(1)}


def test_follow_up_moves_the_row_to_follow_up_and_updates_the_totals(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial())
    runtime.disasters.file_follow_up(officers["county"], opened.id, report({
        XIANGSHUI: {"affected_population": 1300},
        CHENJIAGANG: {"affected_population": 400, "collapsed_rooms": 2},
    }))

    row = row_of(board, opened.id)
    assert row["stage"] == "follow_up"
    assert row["report_count"] == 2
    assert row["review_status"] == "submitted"
    assert totals_of(row) == {"affected_population": Decimal(1700), "collapsed_rooms": Decimal(2)}


def test_follow_up_naming_one_township_keeps_the_others_figures_in_the_totals(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial(figures={
        XIANGSHUI: {"affected_population": 1200}, CHENJIAGANG: {"affected_population": 300},
    }))
    runtime.disasters.file_follow_up(officers["county"], opened.id, report({XIANGSHUI: {"affected_population": 1250}}))

    assert totals_of(row_of(board, opened.id)) == {"affected_population": Decimal(1550)}


def test_final_report_moves_the_row_to_final(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial())
    runtime.disasters.file_follow_up(officers["county"], opened.id, report({XIANGSHUI: {"affected_population": 1300}}))
    runtime.disasters.file_final(officers["county"], opened.id,
                                 report({XIANGSHUI: {"affected_population": 1350}}, days_ago=3))

    row = row_of(board, opened.id)
    assert row["stage"] == "final"
    assert totals_of(row) == {"affected_population": Decimal(1350)}


def test_returned_report_shows_returned_and_its_figures_leave_the_totals(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial())
    runtime.disasters.file_follow_up(officers["county"], opened.id, report({
        XIANGSHUI: {"affected_population": 5000}, CHENJIAGANG: {"affected_population": 800},
    }))
    assert totals_of(row_of(board, opened.id)) == {"affected_population": Decimal(5800)}

    runtime.disasters.return_report(officers["city"], opened.id, 2, "响水镇数字与村级汇总不符")

    row = row_of(board, opened.id)
    assert row["review_status"] == "returned"
    assert row["stage"] == "initial"  # back to the last report that still counts
    assert totals_of(row) == {"affected_population": Decimal(1200)}


def test_refiled_report_counts_again_after_a_return(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial())
    runtime.disasters.file_follow_up(officers["county"], opened.id, report({XIANGSHUI: {"affected_population": 5000}}))
    runtime.disasters.return_report(officers["city"], opened.id, 2, "数字有误")
    runtime.disasters.refile(officers["county"], opened.id, 2, report({XIANGSHUI: {"affected_population": 1500}}))

    row = row_of(board, opened.id)
    assert (row["stage"], row["review_status"], row["report_count"]) == ("follow_up", "submitted", 3)
    assert totals_of(row) == {"affected_population": Decimal(1500)}


def test_accepted_report_shows_accepted(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial())
    runtime.disasters.accept(officers["city"], opened.id, 1)

    assert row_of(board, opened.id)["review_status"] == "accepted"


def test_retracted_process_shows_stage_retracted_and_no_totals(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial())
    runtime.disasters.retract(officers["city"], opened.id, "经核实不属于自然灾害")

    row = row_of(board, opened.id)
    assert row["stage"] == "retracted"
    assert totals_of(row) == {}


def test_starting_a_level_iv_response_shows_response_level_4(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial())
    runtime.disasters.change_response(officers["county"], opened.id, response_start(4))

    row = row_of(board, opened.id)
    assert row["response_level"] == 4
    assert row["stage"] == "initial"


def test_correcting_the_date_moves_the_row_to_the_new_date(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial(days_ago=5))
    runtime.disasters.correct(officers["city"], opened.id, Correction(reason="发生日期填错", disaster_date=day(6)))

    board.catch_up()
    view = board.projection.view
    assert view.count(BoardFilter(date_from=day(5).isoformat(), date_to=day(5).isoformat())) == 0
    [row] = view.find(BoardFilter(date_from=day(6).isoformat(), date_to=day(6).isoformat()), None, 10)
    assert row["disaster_id"] == str(opened.id)


def test_correcting_the_time_of_occurrence_moves_the_row_to_its_civil_date_in_beijing(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial(days_ago=5))
    late_evening = at(7, 23, 30)  # 15:30 UTC: still day(7) in Beijing
    runtime.disasters.correct(officers["city"], opened.id, Correction(reason="发生时间填错", occurred_at=late_evening))

    row = row_of(board, opened.id)
    assert row["disaster_date"] == day(7).isoformat()
    assert datetime.fromisoformat(row["occurred_at"]) == late_evening


def test_correcting_the_hazard_without_a_subtype_clears_the_old_subtype(runtime, officers, board):
    opened = runtime.disasters.file_initial(officers["county"], initial(hazard="flood", subtype="river_flood"))
    runtime.disasters.correct(officers["city"], opened.id, Correction(reason="实为台风灾害", hazard="typhoon"))

    assert runtime.disasters.get(officers["city"], opened.id).subtype is None  # what the ledger says
    row = row_of(board, opened.id)
    assert row["hazard"] == "typhoon"
    assert row["subtype"] is None


# --- filters, paging and counting -----------------------------------------------------------------


@pytest.fixture
def two_counties(runtime, officers) -> dict[str, Any]:
    """A flood in 响水县 (5 days ago) and a wind-hail process in 九龙坡区 (4 days ago)."""
    xiangshui = runtime.disasters.file_initial(officers["county"], initial(days_ago=5))
    jiulongpo = runtime.disasters.file_initial(
        an_officer(runtime, "county", JIULONGPO),
        initial(JIULONGPO, days_ago=4, hazard="wind_hail", subtype="hail",
                figures={YANGJIAPING: {"affected_population": 80}}),
    )
    return {"xiangshui": xiangshui.id, "jiulongpo": jiulongpo.id}


@pytest.mark.parametrize(("area", "expected"), [
    ("320921", ["xiangshui"]),  # the county
    ("3209", ["xiangshui"]),  # its city
    ("32", ["xiangshui"]),  # its province
    ("500107", ["jiulongpo"]),  # another county
    ("3602", []),  # a city with no process
    ("", ["jiulongpo", "xiangshui"]),  # everywhere, newest first
])
def test_area_filter_shows_the_processes_within_the_area(two_counties, board, area, expected):
    board.catch_up()
    rows = board.projection.view.find(BoardFilter(area=area), None, 10)
    assert [r["disaster_id"] for r in rows] == [str(two_counties[name]) for name in expected]
    assert board.projection.view.count(BoardFilter(area=area)) == len(expected)


def test_hazard_filter_shows_only_that_hazard(two_counties, board):
    board.catch_up()
    [row] = board.projection.view.find(BoardFilter(hazard="wind_hail"), None, 10)
    assert row["disaster_id"] == str(two_counties["jiulongpo"])
    assert board.projection.view.count(BoardFilter(hazard="earthquake")) == 0


@pytest.mark.parametrize(("date_from", "date_to", "expected"), [
    (5, 5, ["xiangshui"]),  # one day, both bounds inclusive
    (4, 4, ["jiulongpo"]),
    (5, 4, ["jiulongpo", "xiangshui"]),
    (None, 5, ["xiangshui"]),
    (4, None, ["jiulongpo"]),
    (9, 6, []),
])
def test_date_range_filter_includes_both_bounds(two_counties, board, date_from, date_to, expected):
    board.catch_up()
    f = BoardFilter(date_from=day(date_from).isoformat() if date_from else None,
                    date_to=day(date_to).isoformat() if date_to else None)
    assert [r["disaster_id"] for r in board.projection.view.find(f, None, 10)] == [str(two_counties[n]) for n in expected]


def test_stage_filter_shows_only_processes_at_that_stage(runtime, officers, two_counties, board):
    runtime.disasters.file_follow_up(officers["county"], two_counties["xiangshui"],
                                     report({XIANGSHUI: {"affected_population": 1300}}))
    board.catch_up()
    view = board.projection.view

    assert [r["disaster_id"] for r in view.find(BoardFilter(stage="follow_up"), None, 10)] == [str(two_counties["xiangshui"])]
    assert [r["disaster_id"] for r in view.find(BoardFilter(stage="initial"), None, 10)] == [str(two_counties["jiulongpo"])]
    assert view.count(BoardFilter(stage="final")) == 0
    assert view.count(BoardFilter(area="32", stage="follow_up")) == 1


def test_pages_follow_each_other_newest_first_without_duplicates(runtime, officers, board):
    # Seven processes: two hazards on some days, so paging must also order by id within a day.
    for days_ago, hazard in [(2, "flood"), (3, "flood"), (3, "wind_hail"), (4, "flood"), (5, "flood"),
                             (5, "wind_hail"), (5, "earthquake")]:
        subtype = {"flood": "river_flood", "wind_hail": "hail", "earthquake": "earthquake"}[hazard]
        runtime.disasters.file_initial(officers["county"], initial(days_ago=days_ago, hazard=hazard, subtype=subtype))
    board.catch_up()
    view = board.projection.view

    pages: list[list[dict[str, Any]]] = []
    after = None
    while True:
        page = view.find(BoardFilter(area="3209"), after, 3)
        if not page:
            break
        pages.append(page)
        after = (page[-1]["disaster_date"], page[-1]["disaster_id"])

    assert [len(p) for p in pages] == [3, 3, 1]
    keys = [(r["disaster_date"], r["disaster_id"]) for p in pages for r in p]
    assert len(set(keys)) == 7
    assert keys == sorted(keys, reverse=True)
    assert keys[0][0] == day(2).isoformat() and keys[-1][0] == day(5).isoformat()
    assert view.count(BoardFilter(area="3209")) == 7
