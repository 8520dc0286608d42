"""Production-safety accidents without a database: grading at the bounds, credit codes, the aggregate's
rules, and the report clocks as a pure function of an accident's events.

Given an accident's events / when a command or "now" / then what an officer or auditor would see.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from ledger.accidents import state as accident_state
from ledger.accidents.aggregate import Accident
from ledger.accidents.clocks import evaluate
from ledger.accidents.grading import Casualties, grade_of
from ledger.accidents.rules import AccidentRules
from ledger.reference.credit_codes import credit_code_problem, parse_credit_code
from ledger.store.errors import Conflict, InvalidInput

BEIJING = ZoneInfo("Asia/Shanghai")
RULES = AccidentRules.load()
COUNTY = {"account_id": str(uuid4()), "username": "county", "role": "county", "unit": "320921000000"}


def bj(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=BEIJING)


# --- grading (493号令 第三条: 以上 includes the bound, 以下 excludes it) -----------------------------------

@pytest.mark.parametrize(("casualties", "loss_yuan", "grade"), [
    ({"deaths": 2}, 0, "ordinary"),
    ({"deaths": 3}, 0, "larger"),
    ({"deaths": 9}, 0, "larger"),
    ({"deaths": 10}, 0, "major"),
    ({"deaths": 29, "missing": 0}, 0, "major"),
    ({"deaths": 29, "missing": 1}, 0, "especially_major"),  # 失踪 counts with the dead (configured)
    ({"serious_injuries": 9}, 0, "ordinary"),
    ({"serious_injuries": 6, "acute_poisoning": 4}, 0, "larger"),  # 重伤 includes 急性工业中毒
    ({"serious_injuries": 49}, 0, "larger"),
    ({"acute_poisoning": 100}, 0, "especially_major"),
    ({}, 9_999_999, "ordinary"),
    ({}, 10_000_000, "larger"),
    ({}, 50_000_000, "major"),
    ({}, 100_000_000, "especially_major"),
    ({"deaths": 1}, 60_000_000, "major"),  # the highest grade any figure reaches
])
def test_the_grade_is_the_highest_any_figure_reaches_with_the_bound_included(casualties, loss_yuan, grade):
    assert grade_of(Casualties(**casualties), loss_yuan * 100, RULES).grade == grade


def test_the_grading_basis_names_the_bound_reached():
    result = grade_of(Casualties(deaths=10, serious_injuries=3), 0, RULES)
    assert result.name == "重大" and result.basis == ("死亡（含失踪） 10 ≥ 10",)


def test_missing_people_grade_with_the_dead_only_when_configured(tmp_path: Path):
    text = (Path(__file__).parents[2] / "ledger/data/accidents.toml").read_text(encoding="utf-8")
    path = tmp_path / "accidents.toml"
    path.write_text(text.replace("missing_counts_as_dead = true", "missing_counts_as_dead = false"), encoding="utf-8")
    rules = AccidentRules.load(path)
    assert grade_of(Casualties(deaths=2, missing=1), 0, rules).grade == "ordinary"
    assert grade_of(Casualties(deaths=2, missing=1), 0, RULES).grade == "larger"


def test_casualties_are_whole_non_negative_numbers_of_known_kinds():
    with pytest.raises(InvalidInput) as refused:
        Casualties.parse({"deaths": -1, "injured": 3, "missing": 1.5})
    assert {f.field for f in refused.value.fields} == {"casualties.deaths", "casualties.injured",
                                                       "casualties.missing"}


# --- unified social credit codes (GB 32100-2015) ----------------------------------------------------------------

def test_a_credit_code_is_checked_by_its_check_character():
    assert credit_code_problem("91350100M000100Y43") is None
    assert parse_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert "check character" in str(credit_code_problem("91350100M000100Y44"))
    assert "18" in str(credit_code_problem("91350100M000100Y4"))
    assert "'I'" in str(credit_code_problem("91350100M000100I43"))  # I, O, S, V, Z are never used
    with pytest.raises(InvalidInput) as refused:
        parse_credit_code("91350100M000100Y44")
    assert refused.value.fields[0].field == "unit.credit_code"


def test_a_registrar_code_y_is_accepted_when_the_check_character_is_right():
    from stdnum.cn import uscc

    body = "Y1320921MA1AB2CD3"
    assert credit_code_problem(body + uscc.calc_check_digit(body)) is None


# --- the aggregate ---------------------------------------------------------------------------------------------

def an_accident(deaths: int = 1, sector: str = "hazardous_chemicals", occurred: datetime = bj(10, 14),
                reported: datetime | None = bj(10, 14, 40), county: str = "320921") -> Accident:
    casualties = Casualties(deaths=deaths)
    grading = grade_of(casualties, 0, RULES)
    return Accident(
        county=county, township=county + "001", park=None, unit={"name": "某化工", "credit_code": None},
        unit_key="name:某化工", sector=sector, occurred_at=occurred, place="车间", summary="爆炸", measures="",
        casualties=casualties.as_dict(), direct_loss_fen=0, source="unit", unit_reported_at=reported,
        grade=grading.grade, grade_basis=list(grading.basis),
        supplement_days=RULES.sectors[sector].supplement_days or 30, rules_version=RULES.version,
        area_edition="2023", actor=COUNTY,
    )


def follow_up(a: Accident, as_of: datetime, explanation: str | None = None, **casualties: int) -> int:
    return a.file_follow_up(as_of=as_of, reported_at=None, casualties=casualties or None,
                            direct_loss_fen=None, text="续报", explanation=explanation, rules=RULES, actor=COUNTY)


def event_names(a: Accident) -> list[str]:
    return [type(e).__name__ for e in a.collect_events()]


def test_a_casualty_change_regrades_in_its_own_event():
    a = an_accident(deaths=1)
    follow_up(a, bj(11, 8), deaths=4)
    follow_up(a, bj(11, 18))  # no change: no regrading
    follow_up(a, bj(12, 10), deaths=11)
    assert event_names(a) == ["Recorded", "FollowUpFiled", "Regraded", "FollowUpFiled", "FollowUpFiled", "Regraded"]
    assert a.grade == "major"


def test_a_decrease_or_a_change_after_the_window_needs_a_written_explanation():
    a = an_accident(deaths=4)
    with pytest.raises(InvalidInput) as refused:
        follow_up(a, bj(11, 8), deaths=3)  # a missing person found alive, say
    assert refused.value.fields[0].field == "explanation"
    road = an_accident(deaths=1, sector="road_transport")
    with pytest.raises(InvalidInput):
        follow_up(road, bj(18, 8), deaths=2)  # day 8 of a road accident: beyond its 7-day window
    follow_up(road, bj(18, 8), "伤者抢救无效死亡，住院期间超过七日", deaths=2)
    assert road.grade == "ordinary"
    follow_up(road, bj(16, 8), serious_injuries=1)  # day 6: within the window, no explanation needed


def test_the_investigation_is_led_by_the_grade_s_level_and_approval_extended_once():
    a = an_accident(deaths=4)  # 较大: the city leads
    with pytest.raises(InvalidInput):
        a.open_investigation(lead_level="county", required_level="city", opened_at=bj(12, 9), team="",
                             rules_version=RULES.version, actor=COUNTY)
    a.open_investigation(lead_level="province", required_level="city", opened_at=bj(12, 9), team="省调查组",
                         rules_version=RULES.version, actor=COUNTY)  # 提级调查
    with pytest.raises(Conflict):
        a.extend_approval(10, 30, "补充鉴定", COUNTY)  # nothing submitted yet
    a.submit_report(bj(20, 9, month=5), "调查报告", COUNTY)
    with pytest.raises(InvalidInput):
        a.extend_approval(31, 30, "补充鉴定", COUNTY)
    a.extend_approval(20, 30, "补充鉴定", COUNTY)
    with pytest.raises(Conflict) as twice:
        a.extend_approval(5, 30, "再次延长", COUNTY)
    assert twice.value.code == "already_extended"
    with pytest.raises(Conflict):
        a.close(bj(1, 9, month=6), COUNTY)  # not approved yet
    a.approve(bj(1, 9, month=6), "批复文号", COUNTY)
    a.close(bj(2, 9, month=6), COUNTY)
    with pytest.raises(Conflict):
        follow_up(a, bj(3, 9, month=6), deaths=5)


def test_findings_need_evidence_and_stand_beside_the_reports():
    a = an_accident()
    definition = {"kind": "late", "name": "迟报", "source": "罚款处罚规定", "definition": "超过规定时限"}
    with pytest.raises(InvalidInput):
        a.record_finding(kind="late", definition=definition, against={"party": "unit"}, evidence=[], text="迟报",
                         rules_version=RULES.version, actor=COUNTY)
    finding = a.record_finding(kind="late", definition=definition, against={"party": "unit"},
                               evidence=[{"ref": "sha256:" + "a" * 64, "type": "application/pdf", "name": "x.pdf"}],
                               text="单位迟报 40 分钟", rules_version=RULES.version, actor=COUNTY)
    assert finding == "F1" and a.reports == 1  # the reports are untouched
    a.withdraw_finding("F1", "证据不足", COUNTY)
    with pytest.raises(Conflict):
        a.withdraw_finding("F1", "再次撤销", COUNTY)


# --- the clocks -----------------------------------------------------------------------------------------------

def stamped(a: Accident, recorded: list[datetime]) -> dict[str, Any]:
    """The read side's state of `a`, each event recorded at the given time (in order)."""
    entries = []
    for position, (event, at) in enumerate(zip(a.collect_events(), recorded, strict=True), start=1):
        object.__setattr__(event, "timestamp", at)
        entries.append(accident_state.entry(event, position))
    return accident_state.fold(entries)


def by_rule(flags: list[Any], rule: str) -> list[tuple[str, str | None]]:
    return [(f.status, f.due_at.astimezone(BEIJING).strftime("%d %H:%M")) for f in flags if f.rule == rule]


def test_the_unit_has_an_hour_and_each_level_two_hours_up_the_chain_the_grade_needs():
    a = an_accident(deaths=1, reported=bj(10, 15, 30))  # the unit reported 90 minutes after
    a.report_upward(from_level="county", to_level="city", reported_at=bj(10, 17, 0), channel="phone", actor=COUNTY)
    state = stamped(a, [bj(10, 15, 40), bj(10, 17, 5)])
    flags = evaluate(state, RULES, now=bj(10, 20))
    assert by_rule(flags, "unit.report") == [("late", "10 15:00")]
    assert by_rule(flags, "upward.city") == [("on_time", "10 17:30")]
    assert by_rule(flags, "upward.province") == []  # 一般 stops at the city
    late = next(f for f in flags if f.rule == "unit.report")
    assert late.delay_seconds == 30 * 60 and late.rules_version == RULES.version and late.rule_source == "national"


def test_a_regrading_extends_the_chain_from_the_report_that_raised_the_grade():
    a = an_accident(deaths=1)
    a.report_upward(from_level="county", to_level="city", reported_at=bj(10, 15, 30), channel="system", actor=COUNTY)
    follow_up(a, bj(11, 8), deaths=4)  # 较大: the province is now needed
    state = stamped(a, [bj(10, 14, 50), bj(10, 15, 30), bj(11, 8), bj(11, 8)])
    flags = evaluate(state, RULES, now=bj(11, 12))
    assert by_rule(flags, "upward.province") == [("missing", "11 10:00")]  # the city: 2 h from the 08:00 report
    assert by_rule(flags, "upward.direct_province") == [("missing", "11 09:00")]  # 较大以上: 1 h


def test_follow_ups_per_day_follow_the_grade_in_force_at_the_day_s_start():
    a = an_accident(deaths=1)
    follow_up(a, bj(11, 8))  # day 1: 一般 → 1 a day
    follow_up(a, bj(11, 20), deaths=11)  # 重大 from day 2 on → 2 a day
    follow_up(a, bj(12, 9))
    state = stamped(a, [bj(10, 14, 50), bj(11, 8), bj(11, 20), bj(11, 20), bj(12, 9)])
    flags = evaluate(state, RULES, now=bj(13, 0, 30))
    assert by_rule(flags, "follow_up.daily") == [
        ("on_time", "12 00:00"),  # day 11: one report by midnight
        ("on_time", "13 00:00"), ("missing", "13 00:00"),  # day 12: two needed, one came
        ("pending", "14 00:00"), ("pending", "14 00:00"),  # day 13: not over yet
    ]


def test_henan_practice_sets_follow_up_hours_and_shorter_upward_limits_for_its_accidents():
    a = an_accident(deaths=4, county="410106")  # 较大, in 上街区 (河南)
    follow_up(a, bj(11, 9))
    state = stamped(a, [bj(10, 14, 50), bj(11, 9)])
    flags = evaluate(state, RULES, now=bj(11, 18))
    assert by_rule(flags, "follow_up.daily") == [("late", "11 08:00"), ("missing", "11 17:00")]
    city = next(f for f in flags if f.rule == "upward.city")
    assert city.rule_source == "province:41" and city.due_at == bj(10, 15, 40)  # 较大: 60 min in 河南


def test_a_late_casualty_change_is_flagged_and_one_not_entered_the_same_day_is_late():
    a = an_accident(deaths=1)
    follow_up(a, bj(12, 9), serious_injuries=1)
    follow_up(a, bj(10, 9, month=4) + timedelta(days=5), "重伤者住院期间死亡", deaths=2)  # day 36
    state = stamped(a, [bj(10, 14, 50), bj(13, 9), bj(15, 9, month=4)])
    flags = evaluate(state, RULES, now=bj(20, 9, month=4))
    assert by_rule(flags, "supplement.same_day") == [("late", "13 00:00"), ("on_time", "16 00:00")]
    assert by_rule(flags, "supplement.window") == [("late", "09 14:00")]


def test_the_approval_clock_counts_from_submission_with_the_extension():
    a = an_accident(deaths=31)  # 特别重大: 30 days
    a.open_investigation(lead_level="national", required_level="national", opened_at=bj(11, 9), team="国务院调查组",
                         rules_version=RULES.version, actor=COUNTY)
    a.submit_report(bj(1, 9, month=6), "", COUNTY)
    a.extend_approval(10, 30, "补充鉴定", COUNTY)
    state = stamped(a, [bj(10, 15), bj(11, 9), bj(1, 9, month=6), bj(2, 9, month=6)])
    assert by_rule(evaluate(state, RULES, now=bj(1, 9, month=8)), "investigation.approval") == [
        ("missing", "11 09:00")]  # 6-01 + 30 + 10 days = 7-11


def test_a_withdrawn_accident_runs_no_clock_after_its_withdrawal():
    a = an_accident(deaths=1)
    a.withdraw("经查属于非生产经营活动", COUNTY)
    state = stamped(a, [bj(10, 14, 50), bj(10, 15, 0)])
    flags = evaluate(state, RULES, now=bj(20, 9))
    assert by_rule(flags, "unit.report") == [("on_time", "10 15:00")]
    assert by_rule(flags, "follow_up.daily") == [] and by_rule(flags, "upward.city") == []
