"""The 快报 indicator set: parsing reported values, consistency rules, jumps that need an explanation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.reference.indicators import IndicatorSet, Jump
from tests.unit.builders import XIANGSHUI, figures, indicator_set

WHERE = f"figures.{XIANGSHUI}"
RATIO = Decimal("1.0")
MIN_DELTA = Decimal("10")


@pytest.fixture(scope="module")
def indicators() -> IndicatorSet:
    return indicator_set()


def problems_of(found) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in found}


def with_totals(indicators, given: dict) -> dict:
    """The figures with a generous total (1000) for every 其中 item whose total is not given."""
    out = dict(given)
    for key in given:
        parent = indicators.indicators[key].parent
        while parent and parent not in out:
            out[parent] = Decimal(1000)
            parent = indicators.indicators[parent].parent
    return out


# --- the indicator set itself ---------------------------------------------------------------------


def test_the_shipped_indicator_set_knows_units_scales_and_only_grows(indicators):
    deaths = indicators.indicators["deaths"]
    assert (deaths.name_zh, deaths.unit, deaths.scale, deaths.only_grows) == ("因灾死亡人口", "人", 0, True)
    hectares = indicators.indicators["crop_affected_ha"]
    assert (hectares.unit, hectares.scale) == ("公顷", 2)
    assert indicators.indicators["seriously_injured"].parent == "injured"
    assert indicators.indicators["relocated_current"].series == "current"
    assert not indicators.indicators["missing"].only_grows
    assert not indicators.indicators["relocated_current"].only_grows


# --- parse ----------------------------------------------------------------------------------------


def test_parse_turns_whole_numbers_and_strings_into_exact_decimals(indicators):
    parsed, problems = indicators.parse(
        {"affected_population": 1200, "deaths": " 3 ", "crop_affected_ha": "12.5"}, WHERE
    )
    assert problems == []
    assert parsed == {
        "affected_population": Decimal(1200),
        "deaths": Decimal(3),
        "crop_affected_ha": Decimal("12.5"),
    }
    # hectares are kept at their scale of two decimals
    assert str(parsed["crop_affected_ha"]) == "12.50"
    assert str(parsed["deaths"]) == "3"


def test_parse_takes_json_floats_by_their_shortest_repr_not_their_binary_value(indicators):
    parsed, problems = indicators.parse({"crop_affected_ha": 0.1, "direct_loss_10k_yuan": 1234.56}, WHERE)
    assert problems == []
    assert parsed["crop_affected_ha"] == Decimal("0.1")
    assert str(parsed["crop_affected_ha"]) == "0.10"
    assert parsed["direct_loss_10k_yuan"] == Decimal("1234.56")


def test_a_float_whole_number_of_people_is_accepted_as_a_whole_number(indicators):
    parsed, problems = indicators.parse({"affected_population": 1200.0}, WHERE)
    assert problems == []
    assert str(parsed["affected_population"]) == "1200"


def test_a_decimal_value_is_taken_as_it_is(indicators):
    parsed, problems = indicators.parse({"crop_lost_ha": Decimal("7.5"), "deaths": Decimal("NaN")}, WHERE)
    assert parsed == {"crop_lost_ha": Decimal("7.50")}
    assert problems_of(problems) == {(f"{WHERE}.deaths", "not_a_number")}


def test_trailing_zeros_do_not_count_as_decimals(indicators):
    parsed, problems = indicators.parse({"deaths": "2.000", "crop_lost_ha": "3.1000"}, WHERE)
    assert problems == []
    assert parsed == {"deaths": Decimal(2), "crop_lost_ha": Decimal("3.10")}


def test_an_unknown_indicator_is_refused_by_its_field(indicators):
    parsed, problems = indicators.parse({"dead_people": 3}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {(f"{WHERE}.dead_people", "unknown_indicator")}


@pytest.mark.parametrize(
    "value", ["three", "", "1,200", None, [1], {"n": 1}, "NaN", "Infinity", float("nan")]
)
def test_a_value_that_is_not_a_number_is_refused(indicators, value):
    parsed, problems = indicators.parse({"deaths": value}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {(f"{WHERE}.deaths", "not_a_number")}


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_a_number_even_though_python_says_it_is_an_int(indicators, value):
    parsed, problems = indicators.parse({"flooded_townships": value}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {(f"{WHERE}.flooded_townships", "not_a_number")}


@pytest.mark.parametrize("value", [-1, "-3", -0.5])
def test_a_negative_figure_is_refused(indicators, value):
    parsed, problems = indicators.parse({"crop_affected_ha": value}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {(f"{WHERE}.crop_affected_ha", "negative")}


@pytest.mark.parametrize("value", ["1.5", 2.5, "0.01"])
def test_people_must_be_whole_numbers(indicators, value):
    parsed, problems = indicators.parse({"affected_population": value}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {(f"{WHERE}.affected_population", "bad_scale")}
    assert "whole number" in problems[0].message


@pytest.mark.parametrize("value", ["1.005", 0.125, "0.001"])
def test_hectares_take_at_most_two_decimals(indicators, value):
    parsed, problems = indicators.parse({"crop_affected_ha": value}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {(f"{WHERE}.crop_affected_ha", "bad_scale")}
    assert "2 decimal places" in problems[0].message


def test_a_float_sum_that_is_not_exact_in_binary_is_refused_rather_than_rounded(indicators):
    parsed, problems = indicators.parse({"crop_affected_ha": 0.1 + 0.2}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {(f"{WHERE}.crop_affected_ha", "bad_scale")}


def test_a_fraction_of_a_person_is_refused_however_many_digits_it_has(indicators):
    parsed, problems = indicators.parse({"deaths": "1.0000000000000000000000000000001"}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {(f"{WHERE}.deaths", "bad_scale")}


def test_an_implausibly_large_figure_is_refused(indicators):
    parsed, problems = indicators.parse({"affected_population": "1e12", "injured": 1e20}, WHERE)
    assert parsed == {}
    assert problems_of(problems) == {
        (f"{WHERE}.affected_population", "too_large"),
        (f"{WHERE}.injured", "too_large"),
    }


def test_parse_reports_every_problem_at_once_and_keeps_the_good_values(indicators):
    parsed, problems = indicators.parse(
        {"deaths": 2, "nonsense": 1, "injured": "x", "missing": -1, "crop_lost_ha": "0.001"}, WHERE
    )
    assert parsed == {"deaths": Decimal(2)}
    assert problems_of(problems) == {
        (f"{WHERE}.nonsense", "unknown_indicator"),
        (f"{WHERE}.injured", "not_a_number"),
        (f"{WHERE}.missing", "negative"),
        (f"{WHERE}.crop_lost_ha", "bad_scale"),
    }


# --- check: consistency rules ---------------------------------------------------------------------


def test_consistent_figures_pass_every_rule(indicators):
    ok = figures(
        affected_population=1200,
        injured=5,
        seriously_injured=2,
        relocated_total=300,
        relocated_centralized_total=200,
        relocated_dispersed_total=100,
        relocated_current=120,
        relocated_centralized_current=100,
        relocated_dispersed_current=20,
        shelters_total=3,
        shelters_current=2,
        collapsed_rooms=10,
        collapsed_dwelling_rooms=8,
        collapsed_dwelling_households=4,
        crop_affected_ha="100.00",
        crop_damaged_ha="50.00",
        crop_lost_ha="10.00",
        grain_affected_ha="80.00",
        grain_damaged_ha="40.00",
        grain_lost_ha="5.00",
        livestock_dead=30,
        large_livestock_dead=10,
        small_livestock_dead=20,
        direct_loss_10k_yuan="500.00",
        loss_housing_property_10k_yuan="200.00",
        loss_agriculture_10k_yuan="300.00",
        flooded_townships=1,
    )
    assert indicators.check(ok, WHERE) == []


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        ("seriously_injured", "injured"),
        ("collapsed_dwelling_rooms", "collapsed_rooms"),
        ("severely_damaged_dwelling_rooms", "severely_damaged_rooms"),
        ("slightly_damaged_dwelling_rooms", "slightly_damaged_rooms"),
        ("grain_affected_ha", "crop_affected_ha"),
        ("grain_damaged_ha", "crop_damaged_ha"),
        ("grain_lost_ha", "crop_lost_ha"),
        ("relocated_centralized_total", "relocated_total"),
        ("drought_drinking_water_total", "drought_need_aid_total"),
        ("drought_drinking_water", "drought_need_aid_current"),
        ("loss_agriculture_10k_yuan", "direct_loss_10k_yuan"),
    ],
)
def test_a_qizhong_figure_may_not_exceed_its_parent(indicators, child, parent):
    problems = indicators.check({parent: Decimal(5), child: Decimal(6)}, WHERE)
    assert (f"{WHERE}.{child}", "exceeds_parent") in problems_of(problems)
    assert indicators.check({parent: Decimal(6), child: Decimal(6)}, WHERE) == []


def test_a_child_without_its_parent_is_refused_naming_the_parent(indicators):
    # 其中 never exceeds its total: a part given without its total would read larger than it.
    problems = indicators.check(figures(collapsed_dwelling_rooms=9), WHERE)
    assert problems_of(problems) == {(f"{WHERE}.collapsed_dwelling_rooms", "parent_missing")}
    assert "collapsed_rooms" in problems[0].message
    assert indicators.check(figures(collapsed_rooms=9, collapsed_dwelling_rooms=9), WHERE) == []


@pytest.mark.parametrize(
    ("rooms", "households"),
    [
        ("collapsed_rooms", "collapsed_dwelling_households"),
        ("severely_damaged_rooms", "severely_damaged_dwelling_households"),
        ("slightly_damaged_rooms", "slightly_damaged_dwelling_households"),
    ],
)
def test_households_may_not_exceed_the_rooms_of_all_houses_either(indicators, rooms, households):
    # 倒塌住房户数 5 with 倒塌房屋间数 3: five households cannot live in three collapsed rooms.
    problems = indicators.check({rooms: Decimal(3), households: Decimal(5)}, WHERE)
    assert (f"{WHERE}.{households}", "exceeds") in problems_of(problems)
    assert indicators.check({rooms: Decimal(5), households: Decimal(5)}, WHERE) == []


@pytest.mark.parametrize(
    ("larger", "smaller"),
    [
        ("crop_affected_ha", "crop_damaged_ha"),  # 受灾 ⊇ 成灾
        ("crop_damaged_ha", "crop_lost_ha"),  # 成灾 ⊇ 绝收
        ("grain_affected_ha", "grain_damaged_ha"),
        ("grain_damaged_ha", "grain_lost_ha"),
    ],
)
def test_affected_contains_damaged_contains_lost(indicators, larger, smaller):
    problems = indicators.check(with_totals(indicators, {larger: Decimal("10.00"), smaller: Decimal("10.01")}), WHERE)
    assert (f"{WHERE}.{smaller}", "exceeds") in problems_of(problems)
    assert indicators.check(with_totals(indicators, {larger: Decimal("10.00"), smaller: Decimal("10.00")}), WHERE) == []


def test_grain_damaged_beyond_grain_affected_is_refused_even_within_crop_damaged(indicators):
    problems = indicators.check(
        figures(crop_affected_ha=100, crop_damaged_ha=60, grain_affected_ha=30, grain_damaged_ha=40), WHERE
    )
    assert problems_of(problems) == {(f"{WHERE}.grain_damaged_ha", "exceeds")}


@pytest.mark.parametrize(
    ("rooms", "households"),
    [
        ("collapsed_dwelling_rooms", "collapsed_dwelling_households"),
        ("severely_damaged_dwelling_rooms", "severely_damaged_dwelling_households"),
        ("slightly_damaged_dwelling_rooms", "slightly_damaged_dwelling_households"),
    ],
)
def test_households_may_not_outnumber_rooms(indicators, rooms, households):
    problems = indicators.check(with_totals(indicators, {rooms: Decimal(3), households: Decimal(4)}), WHERE)
    assert problems_of(problems) == {(f"{WHERE}.{households}", "exceeds")}
    assert indicators.check(with_totals(indicators, {rooms: Decimal(4), households: Decimal(4)}), WHERE) == []


@pytest.mark.parametrize(
    ("cumulative", "current"),
    [
        ("relocated_total", "relocated_current"),
        ("shelters_total", "shelters_current"),
        ("need_emergency_aid_total", "need_emergency_aid_current"),
        ("drought_need_aid_total", "drought_need_aid_current"),
        ("drought_drinking_water_total", "drought_drinking_water"),
    ],
)
def test_a_current_value_may_not_exceed_its_cumulative_value(indicators, cumulative, current):
    totals = {p: Decimal(100) for p in (indicators.indicators[cumulative].parent,
                                         indicators.indicators[current].parent) if p}
    problems = indicators.check({**totals, cumulative: Decimal(50), current: Decimal(51)}, WHERE)
    assert (f"{WHERE}.{current}", "exceeds") in problems_of(problems)
    assert indicators.check({**totals, cumulative: Decimal(50), current: Decimal(50)}, WHERE) == []


def test_people_currently_in_centralized_shelters_cannot_exceed_all_ever_centralized(indicators):
    problems = indicators.check(
        figures(
            relocated_total=100,
            relocated_centralized_total=10,
            relocated_dispersed_total=90,
            relocated_current=50,
            relocated_centralized_current=50,
            relocated_dispersed_current=0,
        ),
        WHERE,
    )
    assert (f"{WHERE}.relocated_centralized_current", "exceeds") in problems_of(problems)


@pytest.mark.parametrize("series", ["total", "current"])
def test_centralized_plus_dispersed_must_equal_the_relocated_figure(indicators, series):
    parent, centralized, dispersed = (
        f"relocated_{series}",
        f"relocated_centralized_{series}",
        f"relocated_dispersed_{series}",
    )
    short = indicators.check({parent: Decimal(100), centralized: Decimal(60), dispersed: Decimal(30)}, WHERE)
    assert problems_of(short) == {(f"{WHERE}.{parent}", "parts_do_not_add_up")}
    exact = indicators.check({parent: Decimal(100), centralized: Decimal(60), dispersed: Decimal(40)}, WHERE)
    assert exact == []


def test_relocation_parts_are_not_summed_when_one_of_them_is_missing(indicators):
    assert indicators.check(figures(relocated_total=100, relocated_centralized_total=60), WHERE) == []
    # …but the parts without their total are refused (其中 never stands without its total).
    problems = indicators.check(figures(relocated_centralized_total=60, relocated_dispersed_total=30), WHERE)
    assert problems_of(problems) == {(f"{WHERE}.relocated_centralized_total", "parent_missing"),
                                     (f"{WHERE}.relocated_dispersed_total", "parent_missing")}


def test_dead_livestock_parts_may_not_add_up_to_more_than_the_total(indicators):
    problems = indicators.check(
        figures(livestock_dead=20, large_livestock_dead=12, small_livestock_dead=9), WHERE
    )
    assert problems_of(problems) == {(f"{WHERE}.livestock_dead", "parts_exceed_total")}
    assert (
        indicators.check(figures(livestock_dead=21, large_livestock_dead=12, small_livestock_dead=9), WHERE)
        == []
    )


def test_livestock_parts_may_add_up_to_less_than_the_total(indicators):
    assert indicators.check(figures(livestock_dead=30, large_livestock_dead=5), WHERE) == []


def test_the_given_loss_parts_may_not_add_up_to_more_than_the_direct_loss(indicators):
    problems = indicators.check(
        figures(
            direct_loss_10k_yuan="100.00",
            loss_housing_property_10k_yuan="40.00",
            loss_agriculture_10k_yuan="30.00",
            loss_infrastructure_10k_yuan="30.01",
        ),
        WHERE,
    )
    assert problems_of(problems) == {(f"{WHERE}.direct_loss_10k_yuan", "parts_exceed_total")}
    assert "100.00" in problems[0].message


def test_loss_parts_within_the_direct_loss_pass(indicators):
    assert (
        indicators.check(
            figures(
                direct_loss_10k_yuan="100.00",
                loss_housing_property_10k_yuan="40.00",
                loss_other_10k_yuan="60.00",
            ),
            WHERE,
        )
        == []
    )


@pytest.mark.parametrize(("count", "ok"), [(0, True), (1, True), (2, False)])
def test_one_township_counts_at_most_one_flooded_township(indicators, count, ok):
    problems = indicators.check(figures(flooded_townships=count), WHERE)
    assert (problems == []) is ok
    if not ok:
        assert problems_of(problems) == {(f"{WHERE}.flooded_townships", "at_most_one")}


def test_check_names_every_broken_rule_with_its_township(indicators):
    problems = indicators.check(
        figures(injured=1, seriously_injured=2, crop_affected_ha=1, crop_damaged_ha=2, flooded_townships=3),
        "figures.320921101",
    )
    assert problems_of(problems) == {
        ("figures.320921101.seriously_injured", "exceeds_parent"),
        ("figures.320921101.crop_damaged_ha", "exceeds"),
        ("figures.320921101.flooded_townships", "at_most_one"),
    }


# --- jumps ----------------------------------------------------------------------------------------


def jumps(indicators, previous, reported):
    return indicators.jumps(XIANGSHUI, figures(**previous), figures(**reported), RATIO, MIN_DELTA)


def test_a_decrease_of_a_figure_that_only_grows_is_a_jump(indicators):
    found = jumps(indicators, {"deaths": 3}, {"deaths": 2})
    assert found == [Jump(XIANGSHUI, "deaths", Decimal(3), Decimal(2), "decrease")]
    assert found[0].as_dict() == {
        "township": XIANGSHUI,
        "indicator": "deaths",
        "previous": "3",
        "reported": "2",
        "kind": "decrease",
    }


def test_setting_a_figure_that_only_grows_back_to_zero_is_a_jump(indicators):
    assert [j.kind for j in jumps(indicators, {"collapsed_rooms": 4}, {"collapsed_rooms": 0})] == ["decrease"]


@pytest.mark.parametrize(
    "key", ["relocated_current", "missing", "shelters_current", "drought_livestock_water"]
)
def test_a_current_value_may_fall_without_explanation(indicators, key):
    assert jumps(indicators, {key: 500}, {key: 20}) == []


def test_more_than_doubling_by_at_least_the_minimum_is_a_surge(indicators):
    found = jumps(indicators, {"affected_population": 100}, {"affected_population": 201})
    assert found == [Jump(XIANGSHUI, "affected_population", Decimal(100), Decimal(201), "surge")]


def test_exactly_doubling_is_not_a_surge(indicators):
    assert jumps(indicators, {"affected_population": 100}, {"affected_population": 200}) == []


def test_a_surge_smaller_than_the_minimum_delta_is_not_a_jump(indicators):
    # 1 -> 3 injured more than doubles, but is not worth a written explanation
    assert jumps(indicators, {"injured": 1}, {"injured": 3}) == []
    assert jumps(indicators, {"injured": 4}, {"injured": 13}) == []
    assert [j.kind for j in jumps(indicators, {"injured": 4}, {"injured": 14})] == ["surge"]


def test_a_current_value_can_surge(indicators):
    assert [j.kind for j in jumps(indicators, {"relocated_current": 20}, {"relocated_current": 300})] == [
        "surge"
    ]


def test_a_first_figure_or_a_rise_from_zero_is_not_a_jump(indicators):
    assert jumps(indicators, {}, {"affected_population": 5000}) == []
    assert jumps(indicators, {"affected_population": 0}, {"affected_population": 5000}) == []


def test_indicators_not_reported_again_are_not_jumps(indicators):
    assert jumps(indicators, {"deaths": 3, "affected_population": 100}, {"injured": 2}) == []


def test_jumps_follow_the_configured_ratio_and_minimum(indicators):
    found = indicators.jumps(
        XIANGSHUI,
        figures(affected_population=100),
        figures(affected_population=160),
        Decimal("0.5"),
        Decimal("50"),
    )
    assert [j.kind for j in found] == ["surge"]
