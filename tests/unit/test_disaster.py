"""The Disaster aggregate (灾害过程): given / when / then, no database, no services."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ledger.disasters.aggregate import Disaster
from ledger.disasters.keys import disaster_id
from ledger.disasters.reports import (
    ExplanationRequired,
    InconsistentFigures,
    ProcessRetracted,
    ReportClosed,
    ReportKind,
    Review,
    Stage,
)
from ledger.disasters.responses import ResponseAction
from ledger.store.application import Ledger
from ledger.store.errors import Conflict, InvalidInput
from tests.unit.builders import (
    CHENJIAGANG,
    COUNTY,
    DISASTER_DATE,
    OCCURRED,
    OTHER_COUNTY,
    XIANGSHUI,
    XIAOJIAN,
    a_disaster,
    city_officer,
    county_officer,
    event_names,
    figures,
    final,
    follow_up,
    july,
    rules,
    township,
    township_officer,
    townships,
)

COUNTY_DESK = county_officer.as_dict()
CITY_DESK = city_officer.as_dict()


def fields_of(error: InvalidInput) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.fields}


def last_event(disaster: Disaster) -> Any:
    return disaster.collect_events()[-1]


def respond(
    disaster: Disaster,
    action: ResponseAction,
    level: int | None = None,
    *,
    decided_at=None,
    reason: str = "防汛防台风应急预案规定的条件已达到",
) -> None:
    disaster.change_response(
        action=action,
        level=level,
        plan="响水县防汛防台风应急预案",
        plan_version="2023",
        government_level="county",
        decided_at=decided_at or july(1, 10),
        reason=reason,
        actor=COUNTY_DESK,
    )


def correct(
    disaster: Disaster,
    *,
    disaster_date: date | None = None,
    hazard: str | None = None,
    subtype: str | None = None,
    text: str | None = None,
    reason: str = "初报日期填写有误",
) -> None:
    disaster.correct(
        disaster_date=disaster_date, hazard=hazard, subtype=subtype, text=text, reason=reason, actor=CITY_DESK
    )


# --- 初报 -------------------------------------------------------------------------------------------


def test_the_process_id_is_derived_from_county_date_and_hazard():
    disaster = a_disaster()
    assert disaster.id == disaster_id(COUNTY, DISASTER_DATE, "flood")
    assert a_disaster().id == disaster.id  # the same 初报 twice names the same process
    assert a_disaster(hazard="typhoon", subtype="other").id != disaster.id
    assert a_disaster(disaster_date=date(2024, 7, 2), occurred_at=july(2, 1)).id != disaster.id
    assert a_disaster(county=OTHER_COUNTY, figures={}).id != disaster.id


def test_an_initial_report_opens_the_process_at_the_initial_stage():
    disaster = a_disaster(township(affected_population=1200, deaths=1))
    assert disaster.stage is Stage.INITIAL
    assert disaster.county == COUNTY and disaster.hazard == "flood" and disaster.subtype == "river_flood"
    assert disaster.occurred_at == OCCURRED
    assert disaster.township_figures() == {XIANGSHUI: figures(affected_population=1200, deaths=1)}
    first = disaster.report(1)
    assert (first["kind"], first["review"], first["filed_by"]) == (
        ReportKind.INITIAL,
        Review.SUBMITTED,
        COUNTY_DESK,
    )
    assert event_names(disaster) == ["InitialReportFiled"]


def test_the_initial_report_event_records_figures_as_strings_and_the_rules_it_was_checked_by():
    disaster = a_disaster(township(crop_affected_ha="12.5"))
    [opened] = disaster.collect_events()
    assert opened.figures == {XIANGSHUI: {"crop_affected_ha": "12.5"}}
    assert opened.rules_version == rules().version
    assert opened.area_edition == "2023"
    assert opened.actor == COUNTY_DESK


def test_an_initial_report_with_inconsistent_figures_is_refused_naming_the_field():
    with pytest.raises(InconsistentFigures) as refused:
        a_disaster(township(crop_affected_ha=10, crop_damaged_ha=12))
    assert fields_of(refused.value) == {(f"figures.{XIANGSHUI}.crop_damaged_ha", "exceeds")}
    assert refused.value.code == "inconsistent_figures"


# --- 续报 / 核报 --------------------------------------------------------------------------------------


def test_initial_follow_up_and_final_reports_move_the_stage_forward():
    disaster = a_disaster(township(affected_population=1200))
    assert follow_up(disaster, township(affected_population=1300)) == 2
    assert disaster.stage is Stage.FOLLOW_UP
    assert follow_up(disaster, township(affected_population=1400), as_of=july(2, 8)) == 3
    assert final(disaster, township(affected_population=1450)) == 4
    assert disaster.stage is Stage.FINAL
    assert [disaster.report(n)["kind"] for n in range(1, disaster.report_count + 1)] == [
        ReportKind.INITIAL,
        ReportKind.FOLLOW_UP,
        ReportKind.FOLLOW_UP,
        ReportKind.FINAL,
    ]
    assert event_names(disaster) == [
        "InitialReportFiled",
        "FollowUpReportFiled",
        "FollowUpReportFiled",
        "FinalReportFiled",
    ]


def test_a_final_report_may_follow_the_initial_report_directly():
    disaster = a_disaster()
    final(disaster, township(affected_population=1200))
    assert disaster.stage is Stage.FINAL


def test_townships_a_report_does_not_name_keep_their_figures():
    disaster = a_disaster(
        townships(
            township(XIANGSHUI, affected_population=1200), township(CHENJIAGANG, affected_population=300)
        )
    )
    follow_up(disaster, township(CHENJIAGANG, affected_population=350))
    assert disaster.township_figures() == {
        XIANGSHUI: figures(affected_population=1200),
        CHENJIAGANG: figures(affected_population=350),
    }


def test_indicators_a_report_leaves_out_keep_their_value():
    disaster = a_disaster(township(affected_population=1200, deaths=2))
    follow_up(disaster, township(collapsed_rooms=15))
    assert disaster.township_figures()[XIANGSHUI] == figures(
        affected_population=1200, deaths=2, collapsed_rooms=15
    )


def test_a_later_report_names_new_townships_and_the_county_totals_add_them_up():
    disaster = a_disaster(township(XIANGSHUI, affected_population=1200, crop_affected_ha="10.50"))
    follow_up(
        disaster,
        townships(
            township(CHENJIAGANG, affected_population=300, crop_affected_ha="4.25"),
            township(XIAOJIAN, deaths=1),
        ),
    )
    assert disaster.county_totals() == {
        "affected_population": Decimal(1500),
        "crop_affected_ha": Decimal("14.75"),
        "deaths": Decimal(1),
    }


def test_the_follow_up_event_carries_its_number_figures_and_filer():
    disaster = a_disaster()
    disaster.collect_events()
    follow_up(disaster, township(affected_population=1300), filed_by=township_officer)
    event = last_event(disaster)
    assert type(event).__name__ == "FollowUpReportFiled"
    assert (event.number, event.figures, event.actor) == (
        2,
        {XIANGSHUI: {"affected_population": "1300"}},
        township_officer.as_dict(),
    )
    assert event.as_of == july(1, 12)
    assert event.jumps == [] and event.refiles is None


def test_after_the_final_report_no_follow_up_can_be_filed():
    disaster = a_disaster()
    final(disaster, township(affected_population=1300))
    with pytest.raises(ReportClosed) as refused:
        follow_up(disaster, township(affected_population=1400), as_of=july(4))
    assert refused.value.code == "report_closed"
    assert disaster.report_count == 2


def test_a_second_final_report_is_refused():
    disaster = a_disaster()
    final(disaster, township(affected_population=1300))
    with pytest.raises(ReportClosed):
        final(disaster, township(affected_population=1350), as_of=july(4))
    assert event_names(disaster)[-1] == "FinalReportFiled"
    assert disaster.township_figures()[XIANGSHUI] == figures(affected_population=1300)


def test_a_report_as_of_before_the_disaster_occurred_is_refused():
    disaster = a_disaster()
    with pytest.raises(InvalidInput) as refused:
        follow_up(disaster, township(affected_population=1300), as_of=OCCURRED - timedelta(minutes=1))
    assert fields_of(refused.value) == {("as_of", "before_occurrence")}
    with pytest.raises(InvalidInput):
        final(disaster, township(affected_population=1300), as_of=OCCURRED - timedelta(days=1))
    assert disaster.report_count == 1


def test_a_report_as_of_the_moment_the_disaster_occurred_is_accepted():
    disaster = a_disaster()
    follow_up(disaster, township(deaths=1), as_of=OCCURRED)
    assert disaster.stage is Stage.FOLLOW_UP


def test_a_follow_up_inconsistent_with_earlier_figures_is_refused_naming_the_field():
    disaster = a_disaster(township(crop_affected_ha=100))
    with pytest.raises(InconsistentFigures) as refused:
        follow_up(disaster, township(crop_damaged_ha=120))
    assert fields_of(refused.value) == {(f"figures.{XIANGSHUI}.crop_damaged_ha", "exceeds")}
    assert disaster.stage is Stage.INITIAL
    assert event_names(disaster) == ["InitialReportFiled"]


def test_a_final_report_inconsistent_with_earlier_figures_is_refused():
    disaster = a_disaster(township(injured=3))
    with pytest.raises(InconsistentFigures) as refused:
        final(disaster, township(seriously_injured=4))
    assert fields_of(refused.value) == {(f"figures.{XIANGSHUI}.seriously_injured", "exceeds_parent")}
    assert disaster.stage is Stage.INITIAL


def test_figures_of_one_township_are_not_checked_against_another_townships():
    disaster = a_disaster(township(XIANGSHUI, crop_affected_ha=100))
    follow_up(disaster, township(CHENJIAGANG, crop_damaged_ha=120, crop_affected_ha=130))
    assert disaster.county_totals()["crop_damaged_ha"] == Decimal(120)


# --- 激增激减须书面说明 ------------------------------------------------------------------------------------


def test_a_decrease_of_deaths_without_explanation_is_refused_with_the_field():
    disaster = a_disaster(township(deaths=3))
    with pytest.raises(ExplanationRequired) as refused:
        follow_up(disaster, township(deaths=2))
    assert fields_of(refused.value) == {(f"figures.{XIANGSHUI}.deaths", "decrease")}
    assert refused.value.code == "explanation_required"
    assert disaster.township_figures()[XIANGSHUI] == figures(deaths=3)


def test_a_blank_explanation_is_no_explanation():
    disaster = a_disaster(township(deaths=3))
    with pytest.raises(ExplanationRequired):
        follow_up(disaster, township(deaths=2), explanation="   ")


def test_a_surge_without_explanation_is_refused_with_the_field():
    disaster = a_disaster(township(affected_population=1200))
    with pytest.raises(ExplanationRequired) as refused:
        follow_up(disaster, township(affected_population=5000))
    assert fields_of(refused.value) == {(f"figures.{XIANGSHUI}.affected_population", "surge")}


def test_every_jump_of_a_report_is_named_at_once():
    disaster = a_disaster(
        townships(township(XIANGSHUI, deaths=3), township(CHENJIAGANG, affected_population=100))
    )
    with pytest.raises(ExplanationRequired) as refused:
        follow_up(
            disaster, townships(township(XIANGSHUI, deaths=1), township(CHENJIAGANG, affected_population=900))
        )
    assert fields_of(refused.value) == {
        (f"figures.{XIANGSHUI}.deaths", "decrease"),
        (f"figures.{CHENJIAGANG}.affected_population", "surge"),
    }


def test_with_an_explanation_the_decrease_is_accepted_and_the_jump_recorded_in_the_event():
    disaster = a_disaster(township(deaths=3))
    disaster.collect_events()
    follow_up(disaster, township(deaths=2), explanation="一人经核实为失踪后获救，先报后核")
    event = last_event(disaster)
    assert event.explanation == "一人经核实为失踪后获救，先报后核"
    assert event.jumps == [
        {"township": XIANGSHUI, "indicator": "deaths", "previous": "3", "reported": "2", "kind": "decrease"}
    ]
    assert disaster.report(disaster.report_count)["jumps"] == event.jumps
    assert disaster.township_figures()[XIANGSHUI] == figures(deaths=2)


def test_a_final_report_also_needs_an_explanation_for_a_decrease():
    disaster = a_disaster(township(collapsed_rooms=40))
    with pytest.raises(ExplanationRequired):
        final(disaster, township(collapsed_rooms=35))
    final(disaster, township(collapsed_rooms=35), explanation="核查后5间为一般损坏")
    assert disaster.stage is Stage.FINAL
    assert disaster.report(disaster.report_count)["jumps"][0]["kind"] == "decrease"


def test_people_leaving_shelters_need_no_explanation():
    disaster = a_disaster(township(relocated_total=500, relocated_current=500, missing=4))
    follow_up(disaster, township(relocated_current=30, missing=1))
    assert disaster.report(disaster.report_count)["jumps"] == []


def test_a_small_rise_needs_no_explanation():
    disaster = a_disaster(township(injured=1))
    follow_up(disaster, township(injured=3))
    assert disaster.township_figures()[XIANGSHUI]["injured"] == Decimal(3)


def test_a_township_reported_for_the_first_time_has_nothing_to_jump_from():
    disaster = a_disaster(township(XIANGSHUI, affected_population=10))
    follow_up(disaster, township(CHENJIAGANG, affected_population=9000))
    assert disaster.report(disaster.report_count)["jumps"] == []


# --- review: accept / return (驳回) -----------------------------------------------------------------


def test_the_upper_level_accepts_a_report():
    disaster = a_disaster()
    disaster.accept(1, CITY_DESK)
    assert disaster.report(1)["review"] is Review.ACCEPTED
    accepted = last_event(disaster)
    assert (type(accepted).__name__, accepted.actor) == ("ReportAccepted", CITY_DESK)


@pytest.mark.parametrize("first", ["accept", "return"])
@pytest.mark.parametrize("second", ["accept", "return"])
def test_a_report_is_reviewed_only_once(first, second):
    disaster = a_disaster()

    def review(how: str) -> None:
        if how == "accept":
            disaster.accept(1, CITY_DESK)
        else:
            disaster.return_report(1, "数据与电话报告不符", CITY_DESK)

    review(first)
    with pytest.raises(Conflict) as refused:
        review(second)
    assert refused.value.code == "already_reviewed"


@pytest.mark.parametrize("reason", ["", "   "])
def test_returning_a_report_needs_a_reason(reason):
    disaster = a_disaster()
    with pytest.raises(InvalidInput) as refused:
        disaster.return_report(1, reason, CITY_DESK)
    assert fields_of(refused.value) == {("reason", "required")}
    assert disaster.report(1)["review"] is Review.SUBMITTED


def test_reviewing_a_report_that_does_not_exist_is_refused():
    disaster = a_disaster()
    with pytest.raises(InvalidInput) as refused:
        disaster.accept(2, CITY_DESK)
    assert refused.value.code == "unknown_report"
    with pytest.raises(InvalidInput):
        disaster.return_report(0, "无", CITY_DESK)


def test_a_returned_report_no_longer_counts_in_the_figures_and_the_stage_moves_back():
    disaster = a_disaster(township(XIANGSHUI, affected_population=1200))
    follow_up(
        disaster,
        townships(
            township(XIANGSHUI, affected_population=1300), township(CHENJIAGANG, affected_population=500)
        ),
    )
    disaster.return_report(2, "陈家港镇数据未经核实", CITY_DESK)
    assert disaster.township_figures() == {XIANGSHUI: figures(affected_population=1200)}
    assert disaster.county_totals() == {"affected_population": Decimal(1200)}
    assert disaster.stage is Stage.INITIAL
    event = last_event(disaster)
    assert (type(event).__name__, event.number, event.reason) == ("ReportReturned", 2, "陈家港镇数据未经核实")
    assert disaster.report(2)["return_reason"] == "陈家港镇数据未经核实"


def test_returning_the_initial_report_keeps_the_figures_of_later_reports():
    disaster = a_disaster(township(affected_population=1200, deaths=1))
    follow_up(disaster, township(affected_population=1300))
    disaster.return_report(1, "初报死亡人数有误", CITY_DESK)
    assert disaster.township_figures() == {XIANGSHUI: figures(affected_population=1300)}
    assert disaster.stage is Stage.FOLLOW_UP


def test_a_returned_final_report_reopens_the_process_to_follow_ups():
    disaster = a_disaster(township(affected_population=1200))
    follow_up(disaster, township(affected_population=1300))
    final(disaster, township(affected_population=1350))
    disaster.return_report(3, "核报数据与部门数据不一致", CITY_DESK)
    assert disaster.stage is Stage.FOLLOW_UP
    assert disaster.township_figures()[XIANGSHUI] == figures(affected_population=1300)
    follow_up(disaster, township(affected_population=1320), as_of=july(4))
    assert disaster.stage is Stage.FOLLOW_UP


def test_a_returned_final_report_can_be_refiled_as_a_final_report():
    disaster = a_disaster(township(affected_population=1200))
    final(disaster, township(affected_population=1350))
    disaster.return_report(2, "请补充陈家港镇", CITY_DESK)
    disaster.collect_events()
    final(
        disaster,
        townships(township(affected_population=1350), township(CHENJIAGANG, affected_population=80)),
        as_of=july(4),
        refiles=2,
    )
    assert disaster.stage is Stage.FINAL
    assert disaster.report(disaster.report_count)["refiles"] == 2
    assert last_event(disaster).refiles == 2
    assert disaster.county_totals() == {"affected_population": Decimal(1430)}


def test_only_a_returned_report_can_be_refiled():
    disaster = a_disaster()
    with pytest.raises(Conflict) as refused:
        follow_up(disaster, township(affected_population=1250), refiles=1)
    assert refused.value.code == "not_returned"
    disaster.accept(1, CITY_DESK)
    with pytest.raises(Conflict):
        follow_up(disaster, township(affected_population=1250), refiles=1)
    with pytest.raises(InvalidInput) as unknown:
        follow_up(disaster, township(affected_population=1250), refiles=7)
    assert unknown.value.code == "unknown_report"
    assert disaster.report_count == 1


def test_a_refiled_report_is_compared_with_the_figures_that_still_count():
    disaster = a_disaster(township(affected_population=100))
    follow_up(disaster, township(affected_population=1000), explanation="暴雨范围扩大")
    disaster.return_report(2, "数字多录了一个零", CITY_DESK)
    follow_up(disaster, township(affected_population=150), refiles=2)  # 100 -> 150: no explanation needed
    assert disaster.township_figures()[XIANGSHUI] == figures(affected_population=150)


def test_the_final_report_can_still_be_accepted():
    disaster = a_disaster()
    final(disaster, township(affected_population=1300))
    disaster.accept(2, CITY_DESK)
    assert disaster.report(2)["review"] is Review.ACCEPTED
    assert disaster.stage is Stage.FINAL


# --- 勘误 -------------------------------------------------------------------------------------------


def test_a_correction_changes_date_type_and_text_but_keeps_the_id():
    disaster = a_disaster()
    original_id = disaster.id
    disaster.collect_events()
    correct(
        disaster,
        disaster_date=date(2024, 6, 30),
        hazard="typhoon",
        subtype="other",
        text="台风“格美”外围影响",
    )
    assert (disaster.disaster_date, disaster.hazard, disaster.subtype, disaster.text) == (
        date(2024, 6, 30),
        "typhoon",
        "other",
        "台风“格美”外围影响",
    )
    assert disaster.id == original_id
    event = last_event(disaster)
    assert type(event).__name__ == "Corrected"
    assert (event.disaster_date, event.hazard, event.reason, event.actor) == (
        date(2024, 6, 30),
        "typhoon",
        "初报日期填写有误",
        CITY_DESK,
    )


def test_a_correction_records_only_what_it_changes():
    disaster = a_disaster()
    disaster.collect_events()
    correct(disaster, disaster_date=DISASTER_DATE, hazard="flood", text="更正后的文字说明")
    event = last_event(disaster)
    assert (event.disaster_date, event.hazard, event.subtype, event.text) == (
        None,
        None,
        None,
        "更正后的文字说明",
    )
    assert disaster.hazard == "flood" and disaster.subtype == "river_flood"


def test_a_correction_of_the_subtype_alone_keeps_the_hazard():
    disaster = a_disaster()
    correct(disaster, subtype="urban_waterlogging")
    assert (disaster.hazard, disaster.subtype) == ("flood", "urban_waterlogging")


def test_a_correction_of_the_hazard_without_a_subtype_drops_the_old_subtype():
    disaster = a_disaster(subtype="river_flood")
    correct(disaster, hazard="geological")
    assert (disaster.hazard, disaster.subtype) == ("geological", None)


def test_a_correction_of_the_hazard_keeps_the_subtype_it_names():
    disaster = a_disaster(subtype="other")
    correct(disaster, hazard="typhoon", subtype="other")
    assert (disaster.hazard, disaster.subtype) == ("typhoon", "other")


def test_a_correction_that_changes_nothing_is_refused():
    disaster = a_disaster()
    with pytest.raises(InvalidInput) as refused:
        correct(
            disaster, disaster_date=DISASTER_DATE, hazard="flood", subtype="river_flood", text=disaster.text
        )
    assert refused.value.code == "nothing_to_correct"
    with pytest.raises(InvalidInput):
        correct(disaster)
    assert event_names(disaster) == ["InitialReportFiled"]


def test_a_correction_needs_a_reason():
    disaster = a_disaster()
    with pytest.raises(InvalidInput) as refused:
        correct(disaster, text="新的说明", reason=" ")
    assert fields_of(refused.value) == {("reason", "required")}


def test_a_correction_never_touches_the_figures():
    disaster = a_disaster(township(affected_population=1200))
    correct(disaster, disaster_date=date(2024, 6, 30))
    assert disaster.township_figures() == {XIANGSHUI: figures(affected_population=1200)}
    assert disaster.stage is Stage.INITIAL


# --- response level (应急响应) ------------------------------------------------------------------------


def test_starting_a_response_sets_its_level():
    disaster = a_disaster()
    disaster.collect_events()
    respond(disaster, ResponseAction.START, 4)
    assert disaster.response is not None
    assert (disaster.response["action"], disaster.response["level"], disaster.response["plan"]) == (
        "start",
        4,
        "响水县防汛防台风应急预案",
    )
    event = last_event(disaster)
    assert (type(event).__name__, event.action, event.level) == ("ResponseLevelChanged", "start", 4)


def test_a_response_cannot_be_started_twice():
    disaster = a_disaster()
    respond(disaster, ResponseAction.START, 4)
    with pytest.raises(Conflict) as refused:
        respond(disaster, ResponseAction.START, 3)
    assert refused.value.code == "response_active"
    assert disaster.response["level"] == 4


@pytest.mark.parametrize("action", [ResponseAction.ADJUST, ResponseAction.END])
def test_without_an_active_response_there_is_nothing_to_adjust_or_end(action):
    disaster = a_disaster()
    with pytest.raises(Conflict) as refused:
        respond(disaster, action, 3)
    assert refused.value.code == "no_response"


@pytest.mark.parametrize("level", [0, 5, None, -1])
def test_a_response_level_outside_one_to_four_is_refused(level):
    disaster = a_disaster()
    with pytest.raises(InvalidInput) as refused:
        respond(disaster, ResponseAction.START, level)
    assert fields_of(refused.value) == {("level", "bad_level")}
    assert disaster.response is None


def test_adjusting_to_the_same_level_is_refused():
    disaster = a_disaster()
    respond(disaster, ResponseAction.START, 4)
    with pytest.raises(Conflict) as refused:
        respond(disaster, ResponseAction.ADJUST, 4)
    assert refused.value.code == "level_unchanged"


def test_a_response_is_adjusted_then_ended_and_may_start_again():
    disaster = a_disaster()
    respond(disaster, ResponseAction.START, 4)
    respond(disaster, ResponseAction.ADJUST, 2, decided_at=july(1, 20))
    assert disaster.response["level"] == 2
    respond(disaster, ResponseAction.END, 2, decided_at=july(3))
    assert disaster.response["level"] is None
    assert disaster.response["action"] == "end"
    with pytest.raises(Conflict):
        respond(disaster, ResponseAction.ADJUST, 3, decided_at=july(3, 1))
    respond(disaster, ResponseAction.START, 3, decided_at=july(5))
    assert disaster.response["level"] == 3
    assert event_names(disaster).count("ResponseLevelChanged") == 4


def test_a_response_decided_before_the_disaster_is_refused():
    disaster = a_disaster()
    with pytest.raises(InvalidInput) as refused:
        respond(disaster, ResponseAction.START, 4, decided_at=OCCURRED - timedelta(hours=1))
    assert fields_of(refused.value) == {("decided_at", "before_occurrence")}


def test_a_response_change_needs_a_reason():
    disaster = a_disaster()
    with pytest.raises(InvalidInput):
        respond(disaster, ResponseAction.START, 4, reason="")


# --- 灾情稳定 -----------------------------------------------------------------------------------------


def test_declaring_the_situation_stable_records_when():
    disaster = a_disaster()
    disaster.declare_stable(july(3, 18), COUNTY_DESK)
    assert disaster.stabilised_at == july(3, 18)
    assert event_names(disaster)[-1] == "DeclaredStable"


def test_the_situation_cannot_be_stable_before_the_disaster():
    disaster = a_disaster()
    with pytest.raises(InvalidInput) as refused:
        disaster.declare_stable(OCCURRED - timedelta(seconds=1), COUNTY_DESK)
    assert fields_of(refused.value) == {("stabilised_at", "before_occurrence")}


# --- 核销 -------------------------------------------------------------------------------------------


def test_retracting_closes_the_process_with_a_reason():
    disaster = a_disaster()
    disaster.collect_events()
    disaster.retract("经核实不属于自然灾害", CITY_DESK)
    assert disaster.stage is Stage.RETRACTED
    assert disaster.retraction == {"reason": "经核实不属于自然灾害", "actor": CITY_DESK}
    assert type(last_event(disaster)).__name__ == "Retracted"


def test_retracting_needs_a_reason():
    disaster = a_disaster()
    with pytest.raises(InvalidInput):
        disaster.retract("", CITY_DESK)
    assert disaster.stage is Stage.INITIAL


AFTER_RETRACTION = {
    "follow_up": lambda d: follow_up(d, township(affected_population=1300)),
    "final": lambda d: final(d, township(affected_population=1300)),
    "accept": lambda d: d.accept(1, CITY_DESK),
    "return": lambda d: d.return_report(1, "数据有误", CITY_DESK),
    "correct": lambda d: correct(d, text="新说明"),
    "declare_stable": lambda d: d.declare_stable(july(3), COUNTY_DESK),
    "respond": lambda d: respond(d, ResponseAction.START, 4),
    "retract": lambda d: d.retract("再次核销", CITY_DESK),
}


@pytest.mark.parametrize("command", list(AFTER_RETRACTION), ids=list(AFTER_RETRACTION))
def test_after_retraction_every_command_is_refused(command):
    disaster = a_disaster()
    disaster.retract("重复报送", CITY_DESK)
    disaster.collect_events()
    with pytest.raises(ProcessRetracted) as refused:
        AFTER_RETRACTION[command](disaster)
    assert refused.value.code == "retracted"
    assert disaster.collect_events() == []
    assert disaster.stage is Stage.RETRACTED


def test_a_process_with_a_returned_report_can_still_be_retracted():
    disaster = a_disaster()
    follow_up(disaster, township(affected_population=1300))
    disaster.return_report(2, "数据有误", CITY_DESK)
    disaster.retract("重复报送", CITY_DESK)
    assert disaster.stage is Stage.RETRACTED


# --- replay ---------------------------------------------------------------------------------------


def state_of(disaster: Disaster) -> dict[str, Any]:
    return {k: v for k, v in vars(disaster).items() if k != "_pending_events"}


def a_busy_disaster() -> Disaster:
    disaster = a_disaster(
        townships(
            township(XIANGSHUI, affected_population=1200, crop_affected_ha="10.50"),
            township(CHENJIAGANG, deaths=2),
        )
    )
    follow_up(disaster, township(CHENJIAGANG, deaths=1), explanation="一人生还")
    disaster.accept(1, CITY_DESK)
    disaster.return_report(2, "请核实", CITY_DESK)
    follow_up(disaster, township(XIAOJIAN, relocated_total=40, relocated_current=40), as_of=july(2))
    respond(disaster, ResponseAction.START, 4)
    respond(disaster, ResponseAction.ADJUST, 3, decided_at=july(2, 9))
    correct(disaster, disaster_date=date(2024, 6, 30), text="6月30日夜间开始降雨")
    disaster.declare_stable(july(3), COUNTY_DESK)
    final(
        disaster,
        townships(township(XIANGSHUI, affected_population=1250), township(XIAOJIAN, relocated_current=0)),
        as_of=july(4),
    )
    return disaster


def test_replaying_the_collected_events_gives_the_same_process():
    disaster = a_busy_disaster()
    events = disaster.collect_events()
    replayed = None
    for e in events:
        replayed = e.mutate(replayed)
    assert isinstance(replayed, Disaster)
    assert state_of(replayed) == state_of(disaster)
    assert replayed.county_totals() == disaster.county_totals()


def test_a_process_stored_and_read_back_through_the_event_store_is_the_same():
    disaster = a_busy_disaster()
    expected = state_of(disaster)
    app = Ledger(env={})  # empty env: the library's in-memory store
    app.save(disaster)
    loaded = app.repository.get(disaster.id)
    assert state_of(loaded) == expected
    assert loaded.stage is Stage.FINAL
    assert loaded.disaster_date == date(2024, 6, 30)
    assert loaded.township_figures() == disaster.township_figures()
    assert [type(e).__name__ for e in app.events.get(disaster.id)] == [
        "InitialReportFiled",
        "FollowUpReportFiled",
        "ReportAccepted",
        "ReportReturned",
        "FollowUpReportFiled",
        "ResponseLevelChanged",
        "ResponseLevelChanged",
        "Corrected",
        "DeclaredStable",
        "FinalReportFiled",
    ]
    app.close()


def test_a_retracted_process_stays_retracted_when_read_back():
    disaster = a_disaster()
    disaster.retract("重复报送", CITY_DESK)
    app = Ledger(env={})
    app.save(disaster)
    loaded = app.repository.get(disaster.id)
    with pytest.raises(ProcessRetracted):
        follow_up(loaded, township(affected_population=1300))
    app.close()


def test_a_report_older_than_the_figures_already_counted_for_a_township_is_refused():
    disaster = a_disaster()
    follow_up(disaster, township(affected_population=1300), as_of=july(3))
    with pytest.raises(InvalidInput) as refused:
        follow_up(disaster, township(affected_population=1250), as_of=july(2), explanation="late paper form")
    assert refused.value.code == "older_than_reported"
    assert [f.field for f in refused.value.fields] == [f"figures.{XIANGSHUI}"]
    assert disaster.township_figures()[XIANGSHUI] == figures(affected_population=1300)
