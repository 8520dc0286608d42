"""直报 statistics: the 快报 indicators summed over processes, for any area and period.

Every test runs on SQLite and on PostgreSQL (the `backend` fixture).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from ledger.disasters.inputs import Correction
from projections.disasters.board import BoardFilter, BoardProjection
from projections.disasters.statistics import StatisticsProjection, StatisticsQuery, StatisticsResult
from projections.runner import Follower
from tests.projections.builders import (
    CHANGJIANG,
    CHENJIAGANG,
    SHISHIBU,
    XIANGSHUI,
    XIJIAO,
    ZHUSHAN,
    an_officer,
    day,
    initial,
    report,
)

D = Decimal


@pytest.fixture
def statistics(follow: Any) -> Follower:
    return follow(StatisticsProjection)


def query(statistics: Follower, area: str, date_from: int = 30, date_to: int = 2, **kw: Any) -> StatisticsResult:
    """Catch up, then ask for `area` over day(date_from) .. day(date_to)."""
    statistics.catch_up()
    return statistics.projection.view.statistics(
        StatisticsQuery(area=area, date_from=day(date_from).isoformat(), date_to=day(date_to).isoformat(), **kw)
    )


def affected(result: StatisticsResult) -> Decimal | None:
    return result.totals.get("affected_population")


@pytest.fixture
def processes(runtime, officers) -> dict[str, Any]:
    """Four processes:

    - flood in 响水县 5 days ago: 响水镇 1200 affected / 0.10 ha crops, 陈家港镇 300 / 0.20 ha;
    - hail in 响水县 3 days ago: 响水镇 500 affected;
    - flood in 昌江区 and one in 珠山区 (景德镇) 4 days ago: 100 and 40 affected.
    """
    flood = runtime.disasters.file_initial(officers["county"], initial(days_ago=5, figures={
        XIANGSHUI: {"affected_population": 1200, "crop_affected_ha": "0.10"},
        CHENJIAGANG: {"affected_population": 300, "crop_affected_ha": "0.20"},
    }))
    hail = runtime.disasters.file_initial(officers["county"], initial(
        days_ago=3, hazard="wind_hail", subtype="hail", figures={XIANGSHUI: {"affected_population": 500}},
    ))
    changjiang = runtime.disasters.file_initial(an_officer(runtime, "county", CHANGJIANG), initial(
        CHANGJIANG, days_ago=4, figures={XIJIAO: {"affected_population": 100}},
    ))
    zhushan = runtime.disasters.file_initial(an_officer(runtime, "county", ZHUSHAN), initial(
        ZHUSHAN, days_ago=4, subtype="urban_waterlogging", figures={SHISHIBU: {"affected_population": 40}},
    ))
    return {"flood": flood.id, "hail": hail.id, "changjiang": changjiang.id, "zhushan": zhushan.id}


# --- sums for an area -----------------------------------------------------------------------------


@pytest.mark.parametrize(("area", "people", "count"), [
    ("32", 2000, 2),  # province: both 响水县 processes, person-times (人次)
    ("3209", 2000, 2),  # city
    ("320921", 2000, 2),  # county
    (XIANGSHUI, 1700, 2),  # township hit twice: 1200 + 500
    (CHENJIAGANG, 300, 1),
    ("36", 140, 2),
    ("360203", 40, 1),
    ("3205", None, 0),  # 苏州: nothing reported
])
def test_totals_sum_the_processes_within_the_area(processes, statistics, area, people, count):
    result = query(statistics, area)
    assert affected(result) == (D(people) if people is not None else None)
    assert result.processes == count


def test_a_later_report_replaces_a_townships_figures_instead_of_adding_to_them(runtime, officers, processes,
                                                                                  statistics):
    runtime.disasters.file_follow_up(officers["county"], processes["flood"],
                                     report({XIANGSHUI: {"affected_population": 1300}}))
    runtime.disasters.file_final(officers["county"], processes["flood"],
                                 report({CHENJIAGANG: {"affected_population": 350}}, days_ago=4))

    result = query(statistics, "320921")
    assert affected(result) == D(1300 + 350 + 500)
    assert result.breakdown["320921100"]["affected_population"] == D(1300 + 500)


@pytest.mark.parametrize(("area", "breakdown"), [
    ("32", {"3209": 2000}),  # province → 4-digit cities
    ("36", {"3602": 140}),
    ("3602", {"360202": 100, "360203": 40}),  # city → 6-digit counties
    ("320921", {XIANGSHUI: 1700, CHENJIAGANG: 300}),  # county → 9-digit townships
    (XIANGSHUI, {XIANGSHUI: 1700}),  # a township is its own breakdown
])
def test_breakdown_is_by_the_next_level_of_area(processes, statistics, area, breakdown):
    result = query(statistics, area)
    assert {code: figures["affected_population"] for code, figures in result.breakdown.items()} == {
        code: D(n) for code, n in breakdown.items()
    }
    assert sum(breakdown.values()) == affected(result)


# --- what counts ----------------------------------------------------------------------------------


def test_a_returned_reports_figures_do_not_count(runtime, officers, processes, statistics):
    runtime.disasters.file_follow_up(officers["county"], processes["flood"],
                                     report({XIANGSHUI: {"affected_population": 5000}}))
    assert affected(query(statistics, "320921")) == D(5000 + 300 + 500)

    runtime.disasters.return_report(officers["city"], processes["flood"], 2, "数字与村级汇总不符")

    assert affected(query(statistics, "320921")) == D(2000)
    assert affected(query(statistics, "32")) == D(2000)


def test_a_returned_initial_report_takes_the_process_out_of_the_count(runtime, officers, processes, statistics):
    runtime.disasters.return_report(officers["city"], processes["hail"], 1, "灾种有误")

    result = query(statistics, "320921")
    assert affected(result) == D(1500)
    assert result.processes == 1


def test_a_retracted_process_counts_nowhere(runtime, officers, processes, statistics):
    runtime.disasters.retract(officers["province"], processes["flood"], "经核实不属于自然灾害")

    for area in ("32", "3209", "320921"):
        result = query(statistics, area)
        assert affected(result) == D(500), area
        assert "crop_affected_ha" not in result.totals
        assert result.processes == 1
    assert query(statistics, CHENJIAGANG).totals == {}
    assert query(statistics, "320921", hazard="flood").processes == 0


# --- filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("area", "hazard", "people", "count"), [
    ("32", "flood", 1500, 1),
    ("32", "wind_hail", 500, 1),
    (XIANGSHUI, "wind_hail", 500, 1),
    ("36", "flood", 140, 2),
    ("32", "earthquake", None, 0),
])
def test_hazard_filter_counts_only_that_hazard(processes, statistics, area, hazard, people, count):
    result = query(statistics, area, hazard=hazard)
    assert affected(result) == (D(people) if people is not None else None)
    assert result.processes == count


@pytest.mark.parametrize(("area", "date_from", "date_to", "people"), [
    ("320921", 5, 5, 1500),  # one day: both bounds inclusive
    ("320921", 3, 3, 500),
    ("320921", 5, 3, 2000),
    ("320921", 4, 3, 500),
    ("320921", 5, 4, 1500),
    ("36", 4, 4, 140),
    ("36", 5, 5, None),
    ("320921", 2, 2, None),
])
def test_period_filter_is_by_disaster_date_with_inclusive_bounds(processes, statistics, area, date_from, date_to,
                                                                   people):
    assert affected(query(statistics, area, date_from, date_to)) == (D(people) if people is not None else None)


def test_a_corrected_disaster_date_moves_the_figures_to_the_new_date(runtime, officers, processes, statistics):
    runtime.disasters.correct(officers["city"], processes["flood"], Correction(reason="日期填错", disaster_date=day(6)))

    assert affected(query(statistics, "320921", 5, 5)) is None
    assert affected(query(statistics, "320921", 6, 6)) == D(1500)


def test_a_corrected_hazard_moves_the_figures_to_the_new_hazard(runtime, officers, processes, statistics):
    runtime.disasters.correct(officers["city"], processes["hail"],
                              Correction(reason="实为大风", hazard="wind_hail", subtype="gale"))
    runtime.disasters.correct(officers["city"], processes["flood"],
                              Correction(reason="实为台风灾害", hazard="typhoon", subtype="other"))

    assert query(statistics, "320921", hazard="flood").totals == {}
    assert affected(query(statistics, "320921", hazard="typhoon")) == D(1500)
    assert affected(query(statistics, "320921", subtype="gale")) == D(500)
    assert affected(query(statistics, "320921", subtype="hail")) is None


# --- exact decimals -------------------------------------------------------------------------------


def test_hectares_add_up_exactly(processes, statistics):
    crops = query(statistics, "320921").totals["crop_affected_ha"]
    assert isinstance(crops, Decimal)
    assert crops == D("0.30")  # 0.10 + 0.20, where floats would give 0.30000000000000004


def test_large_and_small_amounts_add_up_exactly_across_processes(runtime, officers, statistics):
    for days_ago, amount in [(5, "12345678.91"), (4, "0.01"), (3, "0.07")]:
        runtime.disasters.file_initial(officers["county"], initial(days_ago=days_ago, figures={
            XIANGSHUI: {"crop_affected_ha": amount, "direct_loss_10k_yuan": amount},
        }))

    result = query(statistics, "32")
    assert result.totals == {"crop_affected_ha": D("12345678.99"), "direct_loss_10k_yuan": D("12345678.99")}
    assert result.breakdown == {"3209": result.totals}


# --- 亚灾种 ---------------------------------------------------------------------------------------


def test_by_subtype_is_given_at_county_level_and_below(processes, statistics):
    county = query(statistics, "320921")
    assert {s: f["affected_population"] for s, f in county.by_subtype.items()} == {
        "river_flood": D(1500), "hail": D(500),
    }
    township = query(statistics, XIANGSHUI)
    assert {s: f["affected_population"] for s, f in township.by_subtype.items()} == {
        "river_flood": D(1200), "hail": D(500),
    }


@pytest.mark.parametrize("area", ["32", "3209", "3602"])
def test_by_subtype_is_not_given_above_county_level(processes, statistics, area):
    assert query(statistics, area).by_subtype is None


def test_subtype_filter_applies_at_county_level(processes, statistics):
    assert affected(query(statistics, "320921", subtype="hail")) == D(500)
    assert affected(query(statistics, "3209", subtype="hail")) == D(2000)  # above county: 亚灾种 not kept


def test_correcting_the_hazard_without_a_subtype_leaves_no_stale_subtype(runtime, officers, processes,
                                                                          statistics):
    runtime.disasters.correct(officers["city"], processes["flood"], Correction(reason="实为台风灾害",
                                                                               hazard="typhoon"))

    county = query(statistics, "320921")
    assert "river_flood" not in county.by_subtype
    assert affected(query(statistics, "320921", subtype="river_flood")) is None


def test_statistics_show_hectares_with_two_decimals_as_the_board_does(runtime, officers, processes, statistics,
                                                                       follow):
    board = follow(BoardProjection)
    board.catch_up()
    [row] = board.projection.view.find(BoardFilter(area="320921", hazard="flood"), None, 10)

    shown = query(statistics, "320921", hazard="flood").totals["crop_affected_ha"]
    assert str(shown) == json.loads(row["totals"])["crop_affected_ha"] == "0.30"


def test_national_breakdown_is_by_province(processes, statistics):
    result = query(statistics, "")
    assert {code: f["affected_population"] for code, f in result.breakdown.items()} == {
        "32": D(2000), "36": D(140),
    }


@pytest.mark.parametrize("area", ["32", "3209", "320921", XIANGSHUI, "36"])
def test_whole_years_and_months_answer_as_their_days_do(processes, statistics, area):
    """Sums are kept per day, month and year: a range of whole years or months gives what its days give."""
    statistics.catch_up()
    view = statistics.projection.view

    def ask(start: str, end: str) -> tuple[Any, ...]:
        r = view.statistics(StatisticsQuery(area=area, date_from=start, date_to=end))
        return r.totals, r.breakdown, r.processes, r.by_subtype

    first, last = day(30), day(2)  # every process lies between
    by_days = ask(first.isoformat(), last.isoformat())
    assert by_days[2] > 0
    assert ask(f"{first.year}-01-01", f"{last.year}-12-31") == by_days  # whole years
    assert ask(f"{first.year - 1}-01-01", f"{last.year + 1}-12-31") == by_days
    assert ask(f"{first.isoformat()[:7]}-01", f"{last.year}-12-31") == by_days  # whole months, then years
    assert ask(f"{first.year - 1}-12-01", f"{first.year - 1}-12-31")[2] == 0
