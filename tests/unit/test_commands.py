"""Use cases of the disaster-report family through the services, on the in-memory event store.

Accounts are registered through the account service by the local operator, so
roles and scopes are the real ones; the runtime's clock is fixed (builders.NOW).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from ledger.disasters.inputs import Correction, ResponseChange
from ledger.disasters.keys import disaster_id
from ledger.disasters.reports import ReportClosed, ReportKind, Stage
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from ledger.store.errors import Conflict, InvalidInput, NotFound, NotPermitted, VersionMismatch
from tests.unit.builders import (
    BEIJING,
    CHENJIAGANG,
    CITY,
    COUNTY,
    DISASTER_DATE,
    HUANGWEI,
    NOW,
    OCCURRED,
    OTHER_COUNTY,
    OTHER_PROVINCE_TOWNSHIP,
    PROVINCE,
    XIANGSHUI,
    XIAOJIAN,
    a_figures_report,
    a_key,
    a_runtime,
    an_account,
    an_initial_report,
    figures,
    july,
    raw,
)


@dataclass(frozen=True)
class Staff:
    township: Actor  # 响水镇
    other_township: Actor  # 陈家港镇
    county: Actor  # 响水县
    other_county: Actor  # 滨海县
    city: Actor  # 盐城市
    province: Actor  # 江苏省
    auditor: Actor
    relief: Actor


@pytest.fixture
def rt() -> Iterator[LedgerRuntime]:
    runtime = a_runtime()
    yield runtime
    runtime.close()


@pytest.fixture
def staff(rt: LedgerRuntime) -> Staff:
    return Staff(
        township=an_account(rt, "township", XIANGSHUI),
        other_township=an_account(rt, "township", CHENJIAGANG),
        county=an_account(rt, "county", COUNTY),
        other_county=an_account(rt, "county", OTHER_COUNTY),
        city=an_account(rt, "city", CITY),
        province=an_account(rt, "province", PROVINCE),
        auditor=an_account(rt, "auditor", PROVINCE),
        relief=an_account(rt, "relief_officer", COUNTY),
    )


def fields_of(error: InvalidInput) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.fields}


def event_names(rt: LedgerRuntime, process_id) -> list[str]:
    return [type(e).__name__ for e in rt.app.events.get(process_id)]


def june_30(hour: int) -> datetime:
    return datetime(2024, 6, 30, hour, tzinfo=BEIJING)


RESPONSE_DECIDED = july(1, 10)


def a_response(
    action: str = "start", level: int | None = 4, decided_at: datetime = RESPONSE_DECIDED
) -> ResponseChange:
    return ResponseChange(
        action=action,
        level=level,
        plan="响水县防汛防台风应急预案",
        plan_version="2023",
        government_level="county",
        decided_at=decided_at,
        reason="达到Ⅳ级响应条件",
    )


# --- 初报 -------------------------------------------------------------------------------------------


def test_an_initial_report_opens_a_process_under_its_deterministic_id(rt, staff):
    result = rt.disasters.file_initial(staff.county, an_initial_report())
    assert result.id == disaster_id(COUNTY, DISASTER_DATE, "flood")
    assert (result.version, result.status, result.replayed) == (1, 201, False)
    disaster = rt.disasters.get(staff.county, result.id)
    assert disaster.stage is Stage.INITIAL
    assert disaster.township_figures() == {XIANGSHUI: figures(affected_population=1200)}
    assert event_names(rt, result.id) == ["InitialReportFiled"]


def test_the_process_date_is_the_civil_date_in_beijing(rt, staff):
    # 2024-06-30 23:30 UTC is 2024-07-01 07:30 in Beijing
    late_utc = datetime(2024, 6, 30, 23, 30, tzinfo=UTC)
    result = rt.disasters.file_initial(staff.county, an_initial_report(occurred_at=late_utc))
    assert result.id == disaster_id(COUNTY, date(2024, 7, 1), "flood")
    assert rt.disasters.get(staff.county, result.id).disaster_date == date(2024, 7, 1)


def test_a_time_without_an_offset_is_taken_as_beijing_time(rt, staff):
    result = rt.disasters.file_initial(
        staff.county, an_initial_report(occurred_at=datetime(2024, 7, 1, 7, 30))
    )
    disaster = rt.disasters.get(staff.county, result.id)
    assert disaster.occurred_at == july(1, 7, 30)
    assert disaster.disaster_date == date(2024, 7, 1)


def test_a_second_initial_report_of_the_same_process_is_refused_with_the_existing_id(rt, staff):
    first = rt.disasters.file_initial(staff.county, an_initial_report())
    position = rt.position()
    with pytest.raises(Conflict) as refused:
        rt.disasters.file_initial(staff.township, an_initial_report(occurred_at=july(1, 22)))
    assert refused.value.code == "duplicate_process"
    assert refused.value.details["existing_id"] == str(first.id)
    assert rt.position() == position


def test_another_hazard_on_the_same_day_is_another_process(rt, staff):
    flood = rt.disasters.file_initial(staff.county, an_initial_report())
    hail = rt.disasters.file_initial(staff.county, an_initial_report(hazard="wind_hail", subtype="hail"))
    assert hail.id != flood.id
    assert hail.id == disaster_id(COUNTY, DISASTER_DATE, "wind_hail")


def test_a_township_account_files_the_initial_report_for_its_own_township(rt, staff):
    result = rt.disasters.file_initial(staff.township, an_initial_report(raw(XIANGSHUI, deaths=1)))
    disaster = rt.disasters.get(staff.township, result.id)
    assert disaster.report(1)["filed_by"]["role"] == "township"


def test_a_township_account_cannot_file_for_another_township(rt, staff):
    position = rt.position()
    with pytest.raises(NotPermitted):
        rt.disasters.file_initial(staff.township, an_initial_report(raw(CHENJIAGANG, deaths=1)))
    with pytest.raises(NotPermitted):
        rt.disasters.file_initial(
            staff.township,
            an_initial_report({XIANGSHUI: {"deaths": 1}, CHENJIAGANG: {"deaths": 1}}),
        )
    assert rt.position() == position


def test_a_township_account_cannot_file_a_follow_up_for_another_township(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    with pytest.raises(NotPermitted):
        rt.disasters.file_follow_up(staff.township, process.id, a_figures_report(raw(CHENJIAGANG, injured=2)))
    rt.disasters.file_follow_up(staff.township, process.id, a_figures_report(raw(XIANGSHUI, injured=2)))
    assert event_names(rt, process.id)[-1] == "FollowUpReportFiled"


def test_a_township_account_cannot_file_the_final_report(rt, staff):
    process = rt.disasters.file_initial(staff.township, an_initial_report())
    with pytest.raises(NotPermitted):
        rt.disasters.file_final(staff.township, process.id, a_figures_report())
    assert event_names(rt, process.id) == ["InitialReportFiled"]


@pytest.mark.parametrize("who", ["city", "province"])
def test_only_the_county_itself_files_the_final_report(rt, staff, who):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    with pytest.raises(NotPermitted):
        rt.disasters.file_final(getattr(staff, who), process.id, a_figures_report())
    rt.disasters.file_final(staff.county, process.id, a_figures_report())
    assert rt.disasters.get(staff.county, process.id).stage is Stage.FINAL


def test_a_county_account_cannot_file_for_another_county(rt, staff):
    with pytest.raises(NotPermitted):
        rt.disasters.file_initial(staff.other_county, an_initial_report())
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    with pytest.raises(NotPermitted):
        rt.disasters.file_follow_up(staff.other_county, process.id, a_figures_report())
    with pytest.raises(NotPermitted):
        rt.disasters.file_final(staff.other_county, process.id, a_figures_report())


def test_city_and_province_may_file_initial_and_follow_up_reports_within_their_scope(rt, staff):
    process = rt.disasters.file_initial(staff.city, an_initial_report())
    rt.disasters.file_follow_up(staff.province, process.id, a_figures_report())
    assert event_names(rt, process.id) == ["InitialReportFiled", "FollowUpReportFiled"]


def test_a_relief_officer_cannot_file_reports(rt, staff):
    with pytest.raises(NotPermitted):
        rt.disasters.file_initial(staff.relief, an_initial_report())


# --- auditors never write -------------------------------------------------------------------------


AUDITOR_COMMANDS: dict[str, Callable[[LedgerRuntime, Actor, Any], Any]] = {
    "initial": lambda rt, a, pid: rt.disasters.file_initial(
        a, an_initial_report(hazard="snow", subtype="other")
    ),
    "follow_up": lambda rt, a, pid: rt.disasters.file_follow_up(a, pid, a_figures_report()),
    "final": lambda rt, a, pid: rt.disasters.file_final(a, pid, a_figures_report()),
    "refile": lambda rt, a, pid: rt.disasters.refile(a, pid, 1, a_figures_report()),
    "accept": lambda rt, a, pid: rt.disasters.accept(a, pid, 1),
    "return": lambda rt, a, pid: rt.disasters.return_report(a, pid, 1, "数据有误"),
    "correct": lambda rt, a, pid: rt.disasters.correct(a, pid, Correction(reason="笔误", text="新说明")),
    "declare_stable": lambda rt, a, pid: rt.disasters.declare_stable(a, pid, july(3)),
    "respond": lambda rt, a, pid: rt.disasters.change_response(a, pid, a_response()),
    "retract": lambda rt, a, pid: rt.disasters.retract(a, pid, "重复"),
}


@pytest.mark.parametrize("command", list(AUDITOR_COMMANDS))
def test_an_auditor_can_never_write(rt, staff, command):
    process = rt.disasters.file_initial(staff.township, an_initial_report())
    position = rt.position()
    with pytest.raises(NotPermitted):
        AUDITOR_COMMANDS[command](rt, staff.auditor, process.id)
    assert rt.position() == position


def test_an_auditor_reads_the_process(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    assert rt.disasters.get(staff.auditor, process.id).county == COUNTY
    assert rt.disasters.history(staff.auditor, process.id)[0].county == COUNTY


# --- upper-level commands -------------------------------------------------------------------------

UPPER_LEVEL = {
    "return": lambda rt, a, pid: rt.disasters.return_report(a, pid, 1, "数据有误"),
    "correct": lambda rt, a, pid: rt.disasters.correct(a, pid, Correction(reason="笔误", text="新说明")),
    "respond": lambda rt, a, pid: rt.disasters.change_response(a, pid, a_response()),
    "retract": lambda rt, a, pid: rt.disasters.retract(a, pid, "重复"),
    "declare_stable": lambda rt, a, pid: rt.disasters.declare_stable(a, pid, july(3)),
}


@pytest.mark.parametrize("who", ["township", "relief", "other_county"])
@pytest.mark.parametrize("command", list(UPPER_LEVEL))
def test_only_county_level_and_above_within_scope_may_review_correct_respond_or_retract(
    rt, staff, who, command
):
    process = rt.disasters.file_initial(staff.township, an_initial_report())
    with pytest.raises(NotPermitted):
        UPPER_LEVEL[command](rt, getattr(staff, who), process.id)
    assert event_names(rt, process.id) == ["InitialReportFiled"]


@pytest.mark.parametrize("command", list(UPPER_LEVEL))
def test_the_county_may_review_correct_respond_and_retract_for_its_townships(rt, staff, command):
    process = rt.disasters.file_initial(staff.township, an_initial_report())
    UPPER_LEVEL[command](rt, staff.county, process.id)
    assert len(event_names(rt, process.id)) == 2


def test_a_county_cannot_review_a_report_its_own_level_filed(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    with pytest.raises(NotPermitted):
        rt.disasters.return_report(staff.county, process.id, 1, "自审")
    with pytest.raises(NotPermitted):
        rt.disasters.accept(staff.county, process.id, 1)
    rt.disasters.return_report(staff.city, process.id, 1, "数据与电话报告不符")
    disaster = rt.disasters.get(staff.county, process.id)
    assert disaster.report(1)["review"] == "returned"
    assert disaster.township_figures() == {}


def test_a_report_filed_by_the_city_is_reviewed_by_the_province(rt, staff):
    process = rt.disasters.file_initial(staff.city, an_initial_report())
    with pytest.raises(NotPermitted):
        rt.disasters.accept(staff.city, process.id, 1)
    with pytest.raises(NotPermitted):
        rt.disasters.accept(staff.county, process.id, 1)
    rt.disasters.accept(staff.province, process.id, 1)
    assert rt.disasters.get(staff.province, process.id).report(1)["review"] == "accepted"


def test_a_county_reviews_what_its_townships_filed(rt, staff):
    process = rt.disasters.file_initial(staff.township, an_initial_report())
    rt.disasters.accept(staff.county, process.id, 1)
    assert event_names(rt, process.id)[-1] == "ReportAccepted"


def test_a_returned_final_report_is_refiled_as_a_final_report(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    rt.disasters.file_final(staff.county, process.id, a_figures_report(as_of=july(3)))
    rt.disasters.return_report(staff.city, process.id, 2, "核报缺少陈家港镇")
    assert rt.disasters.get(staff.county, process.id).stage is Stage.INITIAL
    rt.disasters.refile(
        staff.county,
        process.id,
        2,
        a_figures_report(
            {XIANGSHUI: {"affected_population": 1300}, CHENJIAGANG: {"affected_population": 90}},
            as_of=july(4),
        ),
    )
    disaster = rt.disasters.get(staff.county, process.id)
    assert disaster.stage is Stage.FINAL
    assert disaster.report(3)["refiles"] == 2
    assert event_names(rt, process.id)[-1] == "FinalReportFiled"


def test_only_a_returned_report_is_refiled(rt, staff):
    process = rt.disasters.file_initial(staff.township, an_initial_report())
    with pytest.raises(Conflict) as refused:
        rt.disasters.refile(staff.county, process.id, 1, a_figures_report())
    assert refused.value.code == "not_returned"
    rt.disasters.return_report(staff.county, process.id, 1, "受灾人口与电话报告不符")
    rt.disasters.refile(staff.township, process.id, 1, a_figures_report(raw(affected_population=900)))
    disaster = rt.disasters.get(staff.township, process.id)
    assert disaster.report(2)["refiles"] == 1
    assert disaster.township_figures() == {XIANGSHUI: figures(affected_population=900)}
    assert disaster.stage is Stage.INITIAL and disaster.report(2)["kind"] is ReportKind.INITIAL  # a 初报 again


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("county", "code"),
    [
        ("320999", "unknown_area"),
        ("3209", "not_a_county"),
        ("32092x", "bad_area_code"),
        ("", "bad_area_code"),
    ],
)
def test_an_initial_report_for_an_unknown_or_malformed_county_is_refused(rt, staff, county, code):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(staff.province, an_initial_report(county=county))
    assert ("county", code) in fields_of(refused.value)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("320921999", "unknown_area"),  # in 响水县 by its digits, but no such township
        ("320922100", "outside_county"),  # 滨海县
        (OTHER_PROVINCE_TOWNSHIP, "outside_county"),  # a real township of 景德镇
        ("320921", "not_a_township"),
        ("320921100001", "not_a_township"),  # a village
        ("32092110", "bad_area_code"),
    ],
)
def test_figures_for_an_unknown_or_foreign_township_are_refused_by_field(rt, staff, code, problem):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report(raw(code, deaths=1)))
    assert (f"figures.{code}", problem) in fields_of(refused.value)
    assert not isinstance(refused.value, NotPermitted)


def test_a_twelve_digit_township_code_is_stored_as_the_township(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report(raw("320921100000", deaths=1)))
    assert rt.disasters.get(staff.county, process.id).township_figures() == {XIANGSHUI: figures(deaths=1)}


def test_a_report_naming_no_township_is_refused(rt, staff):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report({}))
    assert ("figures", "required") in fields_of(refused.value)
    with pytest.raises(InvalidInput) as empty:
        rt.disasters.file_initial(staff.county, an_initial_report({XIANGSHUI: {}}))
    assert (f"figures.{XIANGSHUI}", "required") in fields_of(empty.value)


def test_bad_figures_are_refused_with_every_problem(rt, staff):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(
            staff.county,
            an_initial_report({XIANGSHUI: {"deaths": 1.5, "bogus": 1}, XIAOJIAN: {"injured": -2}}),
        )
    assert fields_of(refused.value) == {
        (f"figures.{XIANGSHUI}.deaths", "bad_scale"),
        (f"figures.{XIANGSHUI}.bogus", "unknown_indicator"),
        (f"figures.{XIAOJIAN}.injured", "negative"),
    }


def test_inconsistent_figures_are_refused_naming_the_field(rt, staff):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(
            staff.county, an_initial_report(raw(crop_affected_ha=10, crop_damaged_ha=11))
        )
    assert refused.value.code == "inconsistent_figures"
    assert fields_of(refused.value) == {(f"figures.{XIANGSHUI}.crop_damaged_ha", "exceeds")}


@pytest.mark.parametrize(
    ("hazard", "subtype", "field"),
    [("volcano", None, "hazard"), ("flood", "hail", "subtype"), ("flood", "nonsense", "subtype")],
)
def test_an_unknown_hazard_or_subtype_is_refused(rt, staff, hazard, subtype, field):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report(hazard=hazard, subtype=subtype))
    assert [p.field for p in refused.value.fields] == [field]


def test_an_initial_report_of_a_disaster_in_the_future_is_refused(rt, staff):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report(occurred_at=NOW + timedelta(hours=1)))
    assert ("occurred_at", "in_future") in fields_of(refused.value)


def test_a_few_minutes_of_clock_skew_are_tolerated(rt, staff):
    result = rt.disasters.file_initial(
        staff.county, an_initial_report(occurred_at=NOW + timedelta(minutes=4))
    )
    assert result.status == 201
    with pytest.raises(InvalidInput):
        rt.disasters.file_initial(
            staff.county,
            an_initial_report(hazard="snow", subtype="other", occurred_at=NOW + timedelta(minutes=6)),
        )


def test_a_phone_report_before_the_disaster_is_refused(rt, staff):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report(phoned_at=OCCURRED - timedelta(minutes=5)))
    assert fields_of(refused.value) == {("phoned_at", "before_occurrence")}


def test_a_text_report_over_the_limit_is_refused(rt, staff):
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report(text="雨" * 201))
    assert fields_of(refused.value) == {("text", "too_long")}
    rt.disasters.file_initial(staff.county, an_initial_report(text="雨" * 200))


def test_a_follow_up_as_of_the_future_is_refused(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_follow_up(staff.county, process.id, a_figures_report(as_of=NOW + timedelta(days=1)))
    assert ("as_of", "in_future") in fields_of(refused.value)


def test_commands_on_an_unknown_process_are_not_found(rt, staff):
    with pytest.raises(NotFound):
        rt.disasters.file_follow_up(staff.county, uuid4(), a_figures_report())
    with pytest.raises(NotFound):
        rt.disasters.retract(staff.county, uuid4(), "重复")


def test_an_account_id_is_not_a_process(rt, staff):
    with pytest.raises(NotFound):
        rt.disasters.get(staff.county, staff.county.account_id)


# --- idempotency ----------------------------------------------------------------------------------


def test_the_same_idempotency_key_twice_gives_one_event_and_the_same_answer(rt, staff):
    key = a_key(staff.county, "initial-1")
    first = rt.disasters.file_initial(staff.county, an_initial_report(), key)
    position = rt.position()
    again = rt.disasters.file_initial(staff.county, an_initial_report(), key)
    assert (again.id, again.version, again.status) == (first.id, first.version, first.status)
    assert (first.replayed, again.replayed) == (False, True)
    assert rt.position() == position
    assert event_names(rt, first.id) == ["InitialReportFiled"]


def test_the_same_idempotency_key_with_a_different_body_is_refused(rt, staff):
    rt.disasters.file_initial(staff.county, an_initial_report(), a_key(staff.county, "k", body="A"))
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.file_initial(
            staff.county,
            an_initial_report(hazard="snow", subtype="other"),
            a_key(staff.county, "k", body="B"),
        )
    assert refused.value.code == "idempotency_key_reused"
    assert ("Idempotency-Key", "key_reused") in fields_of(refused.value)


def test_idempotency_keys_belong_to_one_account(rt, staff):
    rt.disasters.file_initial(staff.county, an_initial_report(), a_key(staff.county, "k"))
    with pytest.raises(Conflict) as refused:
        rt.disasters.file_initial(staff.city, an_initial_report(), a_key(staff.city, "k"))
    assert refused.value.code == "duplicate_process"


def test_a_retried_final_report_gets_the_first_answer_instead_of_report_closed(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    path = f"/disasters/{process.id}/final"
    key = a_key(staff.county, "final-1", path=path)
    first = rt.disasters.file_final(
        staff.county, process.id, a_figures_report(as_of=july(3)), idempotency=key
    )
    retried = rt.disasters.file_final(
        staff.county, process.id, a_figures_report(as_of=july(3)), idempotency=key
    )
    assert (retried.id, retried.version, retried.status, retried.replayed) == (
        process.id,
        first.version,
        201,
        True,
    )
    assert event_names(rt, process.id) == ["InitialReportFiled", "FinalReportFiled"]
    with pytest.raises(ReportClosed):
        rt.disasters.file_final(
            staff.county,
            process.id,
            a_figures_report(as_of=july(3)),
            idempotency=a_key(staff.county, "final-2", path=path),
        )


def test_a_refused_command_does_not_use_up_its_idempotency_key(rt, staff):
    key = a_key(staff.county, "initial-1")
    with pytest.raises(InvalidInput):
        rt.disasters.file_initial(staff.county, an_initial_report(raw(deaths="x")), key)
    result = rt.disasters.file_initial(staff.county, an_initial_report(), key)
    assert result.replayed is False


def test_a_retry_carrying_the_old_version_still_gets_the_first_answer(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    key = a_key(staff.county, "fu-1", path=f"/disasters/{process.id}/follow-ups")
    first = rt.disasters.file_follow_up(
        staff.county, process.id, a_figures_report(), expected_version=1, idempotency=key
    )
    retried = rt.disasters.file_follow_up(
        staff.county, process.id, a_figures_report(), expected_version=1, idempotency=key
    )
    assert (retried.version, retried.replayed) == (first.version, True)
    assert event_names(rt, process.id) == ["InitialReportFiled", "FollowUpReportFiled"]


# --- optimistic concurrency (If-Match) ------------------------------------------------------------


def test_a_command_based_on_an_old_version_is_refused_and_writes_nothing(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    rt.disasters.file_follow_up(staff.county, process.id, a_figures_report(), expected_version=1)
    position = rt.position()
    with pytest.raises(VersionMismatch) as refused:
        rt.disasters.file_follow_up(
            staff.county, process.id, a_figures_report(raw(deaths=1)), expected_version=1
        )
    assert refused.value.code == "version_mismatch"
    assert refused.value.details == {"expected_version": 1, "current_version": 2}
    assert rt.position() == position
    assert rt.disasters.get(staff.county, process.id).version == 2


@pytest.mark.parametrize("command", ["return", "correct", "respond", "retract"])
def test_every_update_checks_the_expected_version(rt, staff, command):
    process = rt.disasters.file_initial(staff.township, an_initial_report())
    run = {
        "return": lambda v: rt.disasters.return_report(
            staff.county, process.id, 1, "有误", expected_version=v
        ),
        "correct": lambda v: rt.disasters.correct(
            staff.county, process.id, Correction(reason="笔误", text="新"), expected_version=v
        ),
        "respond": lambda v: rt.disasters.change_response(
            staff.county, process.id, a_response(), expected_version=v
        ),
        "retract": lambda v: rt.disasters.retract(staff.county, process.id, "重复", expected_version=v),
    }[command]
    with pytest.raises(VersionMismatch):
        run(7)
    assert run(1).version == 2


# --- 勘误 and the keys it claims --------------------------------------------------------------------


def test_a_correction_of_the_date_claims_the_new_key(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    rt.disasters.correct(
        staff.city, process.id, Correction(reason="实际于6月30日夜间开始", disaster_date=date(2024, 6, 30))
    )
    disaster = rt.disasters.get(staff.county, process.id)
    assert disaster.disaster_date == date(2024, 6, 30)
    assert disaster.id == process.id
    with pytest.raises(Conflict) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report(occurred_at=june_30(22)))
    assert refused.value.code == "duplicate_process"
    assert refused.value.details["existing_id"] == str(process.id)


def test_a_correction_of_the_hazard_claims_the_new_key(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    rt.disasters.correct(staff.county, process.id, Correction(reason="实为台风影响", hazard="typhoon"))
    with pytest.raises(Conflict) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report(hazard="typhoon", subtype="other"))
    assert refused.value.details["existing_id"] == str(process.id)


def test_a_correction_onto_a_key_held_by_another_process_is_refused_with_that_process(rt, staff):
    earlier = rt.disasters.file_initial(staff.county, an_initial_report(occurred_at=june_30(20)))
    july_1 = rt.disasters.file_initial(staff.county, an_initial_report())
    position = rt.position()
    with pytest.raises(Conflict) as refused:
        rt.disasters.correct(
            staff.county, july_1.id, Correction(reason="合并", disaster_date=date(2024, 6, 30))
        )
    assert refused.value.code == "duplicate_process"
    assert refused.value.details["existing_id"] == str(earlier.id)
    assert rt.position() == position
    assert rt.disasters.get(staff.county, july_1.id).disaster_date == DISASTER_DATE


def test_a_correction_back_to_the_original_key_is_accepted(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    rt.disasters.correct(staff.county, process.id, Correction(reason="改", disaster_date=date(2024, 6, 30)))
    rt.disasters.correct(staff.county, process.id, Correction(reason="改回", disaster_date=DISASTER_DATE))
    assert rt.disasters.get(staff.county, process.id).disaster_date == DISASTER_DATE


def test_a_correction_to_a_future_date_is_refused(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.correct(
            staff.county, process.id, Correction(reason="改", disaster_date=date(2024, 7, 21))
        )
    assert fields_of(refused.value) == {("disaster_date", "in_future")}


def test_a_correction_to_an_unknown_subtype_is_refused(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.correct(staff.county, process.id, Correction(reason="改", subtype="tornado"))
    assert [p.field for p in refused.value.fields] == ["subtype"]


# --- response level and retraction through the service --------------------------------------------


def test_the_response_level_is_started_adjusted_and_ended(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    rt.disasters.change_response(staff.county, process.id, a_response("start", 4))
    rt.disasters.change_response(staff.city, process.id, a_response("adjust", 3, july(2)))
    assert rt.disasters.get(staff.county, process.id).response["level"] == 3
    rt.disasters.change_response(staff.county, process.id, a_response("end", None, july(5)))
    assert rt.disasters.get(staff.county, process.id).response["level"] is None


def test_a_response_change_needs_a_known_action_and_its_plan(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    change = ResponseChange(
        action="escalate",
        plan="",
        plan_version=" ",
        government_level="",
        decided_at=july(1, 10),
        reason="x",
        level=4,
    )
    with pytest.raises(InvalidInput) as refused:
        rt.disasters.change_response(staff.county, process.id, change)
    assert fields_of(refused.value) == {
        ("action", "bad_action"),
        ("plan", "required"),
        ("plan_version", "required"),
        ("government_level", "required"),
    }


def test_a_retracted_process_frees_its_key_for_the_next_process(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    rt.disasters.retract(staff.city, process.id, "经核实不属于自然灾害")
    with pytest.raises(Conflict) as closed:
        rt.disasters.file_follow_up(staff.county, process.id, a_figures_report())
    assert closed.value.code == "retracted"
    second = rt.disasters.file_initial(staff.county, an_initial_report())
    assert second.id != process.id
    with pytest.raises(Conflict) as refused:
        rt.disasters.file_initial(staff.county, an_initial_report())
    assert refused.value.details["existing_id"] == str(second.id)


# --- what each account sees -----------------------------------------------------------------------


def test_a_township_account_sees_only_its_own_townships_figures(rt, staff):
    process = rt.disasters.file_initial(
        staff.county,
        an_initial_report({XIANGSHUI: {"deaths": 1}, CHENJIAGANG: {"deaths": 2}, HUANGWEI: {"injured": 3}}),
    )
    disaster = rt.disasters.get(staff.township, process.id)
    assert rt.disasters.visible_township_figures(staff.township, disaster) == {XIANGSHUI: figures(deaths=1)}
    assert rt.disasters.visible_township_figures(staff.other_township, disaster) == {
        CHENJIAGANG: figures(deaths=2)
    }
    assert set(rt.disasters.visible_township_figures(staff.county, disaster)) == {
        XIANGSHUI,
        CHENJIAGANG,
        HUANGWEI,
    }
    assert set(rt.disasters.visible_township_figures(staff.city, disaster)) == {
        XIANGSHUI,
        CHENJIAGANG,
        HUANGWEI,
    }


def test_another_county_cannot_read_the_process(rt, staff):
    process = rt.disasters.file_initial(staff.county, an_initial_report())
    with pytest.raises(NotPermitted):
        rt.disasters.get(staff.other_county, process.id)
    with pytest.raises(NotPermitted):
        rt.disasters.history(staff.other_county, process.id)


def test_the_history_lists_every_event_of_the_process(rt, staff):
    process = rt.disasters.file_initial(staff.township, an_initial_report())
    rt.disasters.accept(staff.county, process.id, 1)
    rt.disasters.file_final(staff.county, process.id, a_figures_report(as_of=july(3)))
    history = rt.disasters.history(staff.city, process.id)
    assert [type(e).__name__ for e in history] == ["InitialReportFiled", "ReportAccepted", "FinalReportFiled"]
    assert history[-1].actor["username"] == staff.county.username
