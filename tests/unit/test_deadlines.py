"""Report deadlines (迟报 / 未报): `evaluate(state, rules, now)` on a process's recorded facts.

Pure: no database, no clock. The states follow `ledger.disasters.state`
(the JSON the projections keep per process); most are written out directly so
every recorded time is known, and one is folded from real `Disaster` events
through `ledger.disasters.state.apply`. Times are Beijing times in July
2024; "day n" is 2024-07-(1+n).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ledger.disasters import state as ds
from ledger.disasters.deadlines import RULE_NAMES, DeadlineRules, Flag, evaluate
from tests.unit.builders import (
    CHENJIAGANG,
    COUNTY,
    XIANGSHUI,
    XIAOJIAN,
    a_disaster,
    city_officer,
    county_officer,
    follow_up,
    province_officer,
    township,
    township_officer,
)

CHINA = ZoneInfo("Asia/Shanghai")
RULES = DeadlineRules.load()
DEFAULT_VERSION = "deadlines-default-2026.2"

TOWNSHIP_DESK = township_officer.as_dict()
COUNTY_DESK = county_officer.as_dict()
CITY_DESK = city_officer.as_dict()
PROVINCE_DESK = province_officer.as_dict()

COUNTY_UNIT = "320921000000"
CITY_UNIT = "320900000000"


def bj(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Day n (2024-07-(1+n)) at hour:minute, Beijing time."""
    return datetime(2024, 7, 1, hour, minute, tzinfo=CHINA) + timedelta(days=day)


OCCURRED = bj(0, 8)


def report(
    recorded: datetime,
    kind: str = "follow_up",
    *,
    figures: dict[str, dict[str, str]] | None = None,
    as_of: datetime | None = None,
    phoned: datetime | None = None,
    filed_by: dict[str, Any] = COUNTY_DESK,
    review: str = "submitted",
    reviewed: datetime | None = None,
    reviewer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One report as `disaster_state` keeps it (numbered by `state`)."""
    out: dict[str, Any] = {
        "kind": kind,
        "review": review,
        "figures": {XIANGSHUI: {"affected_population": "100"}} if figures is None else figures,
        "as_of": (as_of or recorded).isoformat(),
        "recorded_at": recorded.isoformat(),
        "filed_by": filed_by,
        "phoned_at": phoned.isoformat() if phoned else None,
    }
    if reviewed is not None:
        out["review"] = review if review != "submitted" else "accepted"
        out["reviewed_at"] = reviewed.isoformat()
        out["reviewed_by"] = reviewer or CITY_DESK
    return out


def initial(recorded: datetime, **kw: Any) -> dict[str, Any]:
    kw.setdefault("as_of", OCCURRED)
    return report(recorded, "initial", **kw)


def response(action: str, decided: datetime, level: int | None = 2, government: str = "province") -> dict[str, Any]:
    """A response change; by default the province's Ⅱ (a 重大 disaster: the daily 零报告 is due)."""
    return {"action": action, "level": None if action == "end" else level, "decided_at": decided.isoformat(),
            "recorded_at": decided.isoformat(), "plan": "江苏省自然灾害救助应急预案", "government_level": government}


def state(
    *reports: dict[str, Any],
    hazard: str = "flood",
    occurred: datetime = OCCURRED,
    responses: list[dict[str, Any]] | None = None,
    stabilised: datetime | None = None,
    retracted: datetime | None = None,
) -> dict[str, Any]:
    """A process's state, shaped like `ledger.disasters.state.apply` leaves it."""
    numbered = [{"number": i, **r} for i, r in enumerate(reports, start=1)]
    out: dict[str, Any] = {
        "id": "7a1c0000-0000-5000-8000-000000000001",
        "county": COUNTY,
        "disaster_date": occurred.astimezone(CHINA).date().isoformat(),
        "hazard": hazard,
        "subtype": None,
        "occurred_at": occurred.isoformat(),
        "text": "",
        "retracted": retracted is not None,
        "response_level": None,
        "responses": responses or [],
        "stabilised_at": stabilised.isoformat() if stabilised else None,
        "reports": numbered,
        "version": len(numbered),
        "updated_at": numbered[-1]["recorded_at"],
    }
    if retracted is not None:
        out["retracted_at"] = retracted.isoformat()
    return out


def flags(st: dict[str, Any], now: datetime, rule: str | None = None, rules: DeadlineRules = RULES) -> list[Flag]:
    found = evaluate(st, rules, now)
    return [f for f in found if rule is None or f.rule == rule]


def one(st: dict[str, Any], now: datetime, rule: str, rules: DeadlineRules = RULES) -> Flag:
    found = flags(st, now, rule, rules)
    assert len(found) == 1, found
    return found[0]


def statuses(found: list[Flag]) -> list[tuple[str, str]]:
    """(due day and time in Beijing, status) of each flag."""
    return [(f.due_at.astimezone(CHINA).strftime("%d %H:%M"), f.status) for f in found]


# --- the rules file ---------------------------------------------------------------------------------


def test_the_default_rules_are_those_of_the_regulations() -> None:
    assert RULES.version == DEFAULT_VERSION
    assert (RULES.county_initial_hours, RULES.upper_level_hours) == (2, 2)
    assert (RULES.severe_dead_or_missing, RULES.severe_hours) == (10, 2)
    assert (RULES.daily_county.isoformat(), RULES.daily_city.isoformat(), RULES.daily_province.isoformat()) == \
        ("09:00:00", "10:00:00", "12:00:00")
    assert (RULES.drought_follow_up_days, RULES.final_county_days) == (10, 5)
    assert (RULES.final_city_days, RULES.final_province_days) == (3, 5)
    assert (RULES.daily_governments, RULES.daily_levels, RULES.daily_until) == (("province", "national"), (1, 2),
                                                                               "stable")
    assert set(RULE_NAMES) == {"initial.county", "initial.upper", "initial.city", "initial.province",
                               "severe.province", "daily.county", "daily.upper", "daily.province",
                               "drought.follow_up", "final.county", "final.city", "final.province"}


# --- 初报 by the county: 2 h after the disaster --------------------------------------------------------


@pytest.mark.parametrize(("recorded", "status", "delay"), [
    (bj(0, 9, 30), "on_time", None),
    (bj(0, 10), "on_time", None),  # exactly at the deadline
    (bj(0, 10, 0) + timedelta(seconds=1), "late", 1),
    (bj(0, 10, 30), "late", 1800),
    (bj(1, 10), "late", 86400),
])
def test_the_county_initial_report_is_due_two_hours_after_the_disaster(
    recorded: datetime, status: str, delay: int | None,
) -> None:
    flag = one(state(initial(recorded)), bj(3), "initial.county")
    assert flag.due_at == bj(0, 10)
    assert flag.arrived_at == recorded
    assert (flag.status, flag.delay_seconds) == (status, delay)
    assert (flag.level, flag.unit, flag.report_number) == ("county", COUNTY_UNIT, 1)
    assert flag.disaster_id == "7a1c0000-0000-5000-8000-000000000001"
    assert flag.rules_version == DEFAULT_VERSION


def test_a_report_phoned_in_on_time_and_entered_later_is_a_supplement_not_late() -> None:
    """补报, not 迟报: the system was down, the county phoned at 09:30 and entered it at 15:00."""
    flag = one(state(initial(bj(0, 15), phoned=bj(0, 9, 30))), bj(3), "initial.county")
    assert flag.arrived_at == bj(0, 9, 30)
    assert flag.status == "on_time" and flag.delay_seconds is None

    # Phoned in late too: late by the phone call, not by the entry.
    flag = one(state(initial(bj(0, 15), phoned=bj(0, 11))), bj(3), "initial.county")
    assert (flag.status, flag.delay_seconds) == ("late", 3600)

    # A phone time after the entry changes nothing: it arrived when it was recorded.
    flag = one(state(initial(bj(0, 9), phoned=bj(0, 12))), bj(3), "initial.county")
    assert flag.arrived_at == bj(0, 9) and flag.status == "on_time"


def test_the_initial_deadline_counts_from_the_time_the_disaster_occurred() -> None:
    """An 初报 recorded late at night for a disaster that began before midnight (Beijing)."""
    st = state(initial(bj(1, 0, 30)), occurred=bj(0, 23))
    flag = one(st, bj(3), "initial.county")
    assert flag.due_at == bj(1, 1) and flag.status == "on_time"


# --- the level above: review (report upward) within 2 h of receipt ----------------------------------------


@pytest.mark.parametrize(("reviewed", "reviewer", "now", "status"), [
    (bj(0, 10, 30), CITY_DESK, bj(1), "on_time"),  # received 09:00, due 11:00
    (bj(0, 11), CITY_DESK, bj(1), "on_time"),
    (bj(0, 11, 30), CITY_DESK, bj(1), "late"),
    (bj(0, 10), PROVINCE_DESK, bj(1), "on_time"),  # the province counts as the level above too
    (None, None, bj(0, 12), "missing"),
    (None, None, bj(0, 10), "pending"),
    (bj(0, 9, 30), COUNTY_DESK, bj(0, 12), "on_time"),  # a township's 初报: the county is the level above
    (bj(0, 11, 30), COUNTY_DESK, bj(0, 12), "late"),
])
def test_the_upper_level_reviews_the_initial_report_within_two_hours(
    reviewed: datetime | None, reviewer: dict[str, Any] | None, now: datetime, status: str,
) -> None:
    first = initial(bj(0, 9), filed_by=TOWNSHIP_DESK if reviewer is COUNTY_DESK else COUNTY_DESK,
                    reviewed=reviewed, reviewer=reviewer)
    flag = one(state(first), now, "initial.upper")
    assert flag.due_at == bj(0, 11)
    by_township = reviewer is COUNTY_DESK
    expected_level = ("county", "320921000000") if by_township else ("city", CITY_UNIT)
    assert (flag.level, flag.unit, flag.report_number) == (*expected_level, 1)
    assert flag.status == status
    counted = reviewer is not None and reviewer["role"] in (("county",) if by_township else ("city", "province"))
    assert flag.arrived_at == (reviewed if counted else None)
    # Late: by how much it arrived late; missing: how long overdue at evaluation; otherwise none.
    expected_delay = {"late": 1800, "missing": int((now - bj(0, 11)).total_seconds())}.get(status)
    assert flag.delay_seconds == expected_delay


def test_a_return_by_the_city_is_its_handling_of_the_report() -> None:
    first = initial(bj(0, 9), review="returned", reviewed=bj(0, 10), reviewer=CITY_DESK)
    assert one(state(first), bj(1), "initial.upper").status == "on_time"


def test_the_upper_deadline_counts_from_the_phoned_in_arrival() -> None:
    first = initial(bj(0, 15), phoned=bj(0, 9), reviewed=bj(0, 12), reviewer=CITY_DESK)
    flag = one(state(first), bj(1), "initial.upper")
    assert flag.due_at == bj(0, 11) and flag.status == "late"


# --- ≥ 10 dead or missing: the province within 2 h ---------------------------------------------------------


def test_ten_dead_or_missing_across_townships_are_due_at_the_province_within_two_hours() -> None:
    st = state(
        initial(bj(0, 9), figures={XIANGSHUI: {"deaths": "4", "missing": "3"}}),
        report(bj(0, 13), figures={CHENJIAGANG: {"deaths": "2"}}, as_of=bj(0, 12)),  # 9 in all
        report(bj(0, 16, 30), figures={XIAOJIAN: {"missing": "1", "affected_population": "80"}},
               as_of=bj(0, 15)),  # 10
        report(bj(0, 20), figures={XIAOJIAN: {"missing": "5"}}, as_of=bj(0, 19)),  # still one flag
    )
    flag = one(st, bj(1), "severe.province")
    assert flag.report_number == 3
    assert flag.due_at == bj(0, 17)  # as_of 15:00 + 2 h
    assert flag.arrived_at == bj(0, 16, 30) and flag.status == "on_time"
    assert (flag.level, flag.unit) == ("county", COUNTY_UNIT)
    assert RULE_NAMES[flag.rule].startswith("死亡失踪 10 人以上")


def test_ten_dead_in_the_initial_report_are_due_two_hours_after_the_disaster() -> None:
    st = state(initial(bj(0, 11), figures={XIANGSHUI: {"deaths": "10"}}))
    flag = one(st, bj(1), "severe.province")
    assert flag.due_at == bj(0, 10) and flag.report_number == 1
    assert (flag.status, flag.delay_seconds) == ("late", 3600)


def test_nine_dead_or_missing_are_not_severe() -> None:
    st = state(
        initial(bj(0, 9), figures={XIANGSHUI: {"deaths": "5", "missing": "3"}}),
        report(bj(0, 13), figures={CHENJIAGANG: {"missing": "1", "injured": "40"}}),
    )
    assert flags(st, bj(1), "severe.province") == []


def test_a_later_report_replaces_a_townships_figures_rather_than_adding_to_them() -> None:
    """Totals to date: 响水镇 7 → 8 dead or missing is 8, not 15."""
    st = state(
        initial(bj(0, 9), figures={XIANGSHUI: {"deaths": "4", "missing": "3"}}),
        report(bj(0, 13), figures={XIANGSHUI: {"deaths": "5"}}),
    )
    assert flags(st, bj(1), "severe.province") == []


def test_a_returned_report_does_not_make_a_process_severe() -> None:
    """A returned (驳回) report's figures count nowhere — not towards the 10 dead or missing either."""
    st = state(
        initial(bj(0, 9), figures={XIANGSHUI: {"deaths": "2"}}),
        report(bj(0, 13), figures={XIANGSHUI: {"deaths": "12"}}, review="returned", reviewed=bj(0, 14)),
        report(bj(0, 15), figures={XIANGSHUI: {"deaths": "2"}}),
    )
    assert flags(st, bj(1), "severe.province") == []


def test_a_refiled_report_that_reaches_ten_is_the_severe_one() -> None:
    st = state(
        initial(bj(0, 9), figures={XIANGSHUI: {"deaths": "2"}}),
        report(bj(0, 13), figures={XIANGSHUI: {"deaths": "12"}}, as_of=bj(0, 12), review="returned",
               reviewed=bj(0, 14)),
        report(bj(0, 17), figures={XIANGSHUI: {"deaths": "11"}}, as_of=bj(0, 16)),
    )
    flag = one(st, bj(1), "severe.province")
    assert flag.report_number == 3 and flag.due_at == bj(0, 18) and flag.status == "on_time"


# --- 24 h 零报告 while a response is active -----------------------------------------------------------------


def daily_state(*extra_reports: dict[str, Any], responses: list[dict[str, Any]] | None = None,
                **kw: Any) -> dict[str, Any]:
    """Response started on day 0 at 10:00; the county reports on day 1 at 08:30 (reviewed by the city at
    09:45) and on day 2 at 09:30 (not reviewed); nothing on day 3."""
    return state(
        initial(bj(0, 9)),
        report(bj(1, 8, 30), as_of=bj(1, 0), reviewed=bj(1, 9, 45), reviewer=CITY_DESK),
        report(bj(2, 9, 30), as_of=bj(2, 0)),
        *extra_reports,
        responses=responses if responses is not None else [response("start", bj(0, 10))],
        **kw,
    )


def test_daily_reports_are_due_each_day_after_the_response_started() -> None:
    found = flags(daily_state(), bj(3, 12), "daily.county")
    assert statuses(found) == [("02 09:00", "on_time"), ("03 09:00", "late"), ("04 09:00", "missing")]
    assert [f.report_number for f in found] == [2, 3, None]
    assert found[0].arrived_at == bj(1, 8, 30)
    assert found[1].delay_seconds == 1800
    assert found[2].arrived_at is None
    assert found[2].delay_seconds == 3 * 3600  # overdue since 09:00, evaluated at 12:00
    assert all((f.level, f.unit) == ("county", COUNTY_UNIT) for f in found)

    upper = flags(daily_state(), bj(3, 12), "daily.upper")
    assert statuses(upper) == [("02 10:00", "on_time"), ("03 10:00", "missing"), ("04 10:00", "missing")]
    assert upper[0].arrived_at == bj(1, 9, 45)
    assert all((f.level, f.unit) == ("city", CITY_UNIT) for f in upper)


def test_no_daily_report_is_due_on_the_day_the_response_started() -> None:
    found = flags(daily_state(), bj(0, 23), "daily.county")
    assert found == []


def test_a_daily_report_not_yet_due_is_not_flagged() -> None:
    """At 08:00 on day 3, day 3's report is not due until 09:00: no flag for it yet."""
    found = flags(daily_state(), bj(3, 8), "daily.county")
    assert statuses(found) == [("02 09:00", "on_time"), ("03 09:00", "late")]
    # At 09:30 it is overdue.
    assert statuses(flags(daily_state(), bj(3, 9, 30), "daily.county"))[-1] == ("04 09:00", "missing")


def test_daily_reports_stop_after_the_final_report() -> None:
    """核报 on day 3 at 08:00: it is day 3's report; nothing is due on days 4 and later."""
    st = daily_state(report(bj(3, 8), "final", as_of=bj(3, 0)))
    found = flags(st, bj(8, 12), "daily.county")
    assert statuses(found) == [("02 09:00", "on_time"), ("03 09:00", "late"), ("04 09:00", "on_time")]
    assert found[-1].report_number == 4


def test_a_returned_final_report_does_not_stop_the_daily_reports() -> None:
    st = daily_state(report(bj(3, 8), "final", as_of=bj(3, 0), review="returned", reviewed=bj(3, 9)))
    found = flags(st, bj(5, 12), "daily.county")
    assert statuses(found)[3:] == [("05 09:00", "missing"), ("06 09:00", "missing")]


def test_daily_reports_stop_when_the_response_ends() -> None:
    st = daily_state(responses=[response("start", bj(0, 10)), response("adjust", bj(1, 12), 1),
                                response("end", bj(2, 12))])
    found = flags(st, bj(8, 12), "daily.county")
    assert statuses(found) == [("02 09:00", "on_time"), ("03 09:00", "late")]
    # Lowered to Ⅲ: no longer a 重大 disaster, so no daily report after that day.
    st = daily_state(responses=[response("start", bj(0, 10)), response("adjust", bj(1, 12), 3)])
    assert statuses(flags(st, bj(8, 12), "daily.county")) == [("02 09:00", "on_time")]

    # A new response starts the clock again, from the next day.
    st = daily_state(responses=[response("start", bj(0, 10)), response("end", bj(1, 12)),
                                response("start", bj(3, 18))])
    found = flags(st, bj(5, 12), "daily.county")
    assert statuses(found) == [("02 09:00", "on_time"), ("05 09:00", "missing"), ("06 09:00", "missing")]


def test_without_a_response_no_daily_report_is_due() -> None:
    assert flags(daily_state(responses=[]), bj(8), "daily.county") == []
    assert flags(daily_state(responses=[]), bj(8), "daily.upper") == []


# --- drought: a 续报 every 10 days ----------------------------------------------------------------------


def drought(*reports: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return state(*reports, hazard="drought", **kw)


def test_a_drought_needs_a_follow_up_every_ten_days() -> None:
    st = drought(
        initial(bj(0, 9)),
        report(bj(9, 16)),  # due day 10 09:00: on time
        report(bj(20, 9)),  # due day 19 16:00: late
    )  # next due day 30 09:00
    found = flags(st, bj(31), "drought.follow_up")
    assert statuses(found) == [("11 09:00", "on_time"), ("20 16:00", "late"), ("31 09:00", "missing")]
    assert [f.report_number for f in found] == [2, 3, None]
    assert found[1].delay_seconds == int(timedelta(hours=17).total_seconds())
    assert all((f.level, f.unit) == ("county", COUNTY_UNIT) for f in found)

    assert statuses(flags(st, bj(25), "drought.follow_up"))[-1] == ("31 09:00", "pending")


def test_a_drought_needs_no_follow_up_after_its_final_report() -> None:
    st = drought(initial(bj(0, 9)), report(bj(8, 9)), report(bj(15, 9), "final"))
    found = flags(st, bj(60), "drought.follow_up")
    assert statuses(found) == [("11 09:00", "on_time"), ("19 09:00", "on_time")]
    assert found[-1].report_number == 3


def test_other_hazards_need_no_ten_day_follow_ups() -> None:
    assert flags(state(initial(bj(0, 9))), bj(60), "drought.follow_up") == []


# --- 核报 after stabilisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(("final_at", "now", "status"), [
    (bj(6, 9), bj(20), "on_time"),
    (bj(7, 12), bj(20), "on_time"),  # exactly 5 days after stabilisation
    (bj(8, 12), bj(20), "late"),
    (None, bj(9), "missing"),
    (None, bj(5), "pending"),
])
def test_the_final_report_is_due_days_after_stabilisation(final_at: datetime | None, now: datetime,
                                                          status: str) -> None:
    reports = [initial(bj(0, 9)), report(bj(1, 9))]
    if final_at is not None:
        reports.append(report(final_at, "final"))
    flag = one(state(*reports, stabilised=bj(2, 12)), now, "final.county")
    assert flag.due_at == bj(2, 12) + timedelta(days=RULES.final_county_days) == bj(7, 12)
    assert flag.status == status
    assert flag.report_number == (3 if final_at else None)
    assert (flag.level, flag.unit) == ("county", COUNTY_UNIT)
    expected_delay = {"late": 86400, "missing": int((now - bj(7, 12)).total_seconds())}.get(status)
    assert flag.delay_seconds == expected_delay


def test_no_final_report_is_due_before_stabilisation() -> None:
    assert flags(state(initial(bj(0, 9))), bj(60), "final.county") == []


# --- configured rules ------------------------------------------------------------------------------------


CUSTOM_RULES = """
version = "test-county-2025"

[initial]
county_hours = 1
upper_level_hours = 4

[severe]
dead_or_missing = 3
hours = 1

[daily]
county = "08:00"
city = "09:00"
province = "11:00"

[drought]
follow_up_days = 7

[final]
county_days = 2
"""


def test_a_configured_rules_file_changes_the_deadlines_and_the_flags_version(tmp_path: Path) -> None:
    path = tmp_path / "deadlines.toml"
    path.write_text(CUSTOM_RULES, encoding="utf-8")
    custom = DeadlineRules.load(path)
    assert custom.version == "test-county-2025"

    st = state(initial(bj(0, 9, 30), figures={XIANGSHUI: {"deaths": "3"}}, reviewed=bj(0, 13), reviewer=CITY_DESK),
               stabilised=bj(1, 12))
    by_default = {f.rule: f for f in evaluate(st, RULES, bj(5))}
    configured = {f.rule: f for f in evaluate(st, custom, bj(5))}

    # 初报 at 09:30 for a disaster at 08:00: on time in 2 h, late in 1 h.
    assert by_default["initial.county"].status == "on_time"
    assert configured["initial.county"].status == "late"
    assert configured["initial.county"].due_at == bj(0, 9)
    assert configured["initial.county"].delay_seconds == 1800
    # The city's review 3.5 h after receipt: late in 2 h, on time in 4 h.
    assert (by_default["initial.upper"].status, configured["initial.upper"].status) == ("late", "on_time")
    # 3 dead is severe under the configured threshold only.
    assert "severe.province" not in by_default
    assert configured["severe.province"].due_at == bj(0, 9) and configured["severe.province"].status == "late"
    # 核报 due 2 days after stabilisation: missing on day 5 (pending by default).
    assert (by_default["final.county"].status, configured["final.county"].status) == ("pending", "missing")

    assert {f.rules_version for f in by_default.values()} == {DEFAULT_VERSION}
    assert {f.rules_version for f in configured.values()} == {"test-county-2025"}


def test_configured_daily_times_and_drought_interval(tmp_path: Path) -> None:
    path = tmp_path / "deadlines.toml"
    path.write_text(CUSTOM_RULES, encoding="utf-8")
    custom = DeadlineRules.load(path)

    found = flags(daily_state(), bj(3, 12), "daily.county", custom)
    assert statuses(found) == [("02 08:00", "late"), ("03 08:00", "late"), ("04 08:00", "missing")]
    st = drought(initial(bj(0, 9)), report(bj(9, 16)))
    assert statuses(flags(st, bj(20), "drought.follow_up", custom)) == [("08 09:00", "late"), ("17 16:00", "missing")]


def test_an_incomplete_rules_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deadlines.toml"
    path.write_text(CUSTOM_RULES.replace("county_days = 2", ""), encoding="utf-8")
    with pytest.raises(ValueError, match="incomplete or invalid"):
        DeadlineRules.load(path)
    path.write_text(CUSTOM_RULES.replace('county = "08:00"', 'county = "8 o\'clock"'), encoding="utf-8")
    with pytest.raises(ValueError, match="incomplete or invalid"):
        DeadlineRules.load(path)


# --- 核销 ----------------------------------------------------------------------------------------------


def test_a_retracted_process_is_not_flagged_missing_after_its_retraction() -> None:
    """Retracted on day 3 at 12:00; evaluated on day 30."""
    st = state(
        initial(bj(0, 9), reviewed=bj(0, 10), reviewer=CITY_DESK),
        report(bj(1, 8, 30), as_of=bj(1, 0)),
        responses=[response("start", bj(0, 10))],
        stabilised=bj(2, 12),
        retracted=bj(3, 12),
    )
    found = flags(st, bj(30))
    assert not [f for f in found if f.due_at > bj(3, 12)]  # nothing falls due after the retraction

    # Daily reports were due on days 1–2 only: the disaster was declared stable on day 2 (day 2's is missing).
    assert statuses([f for f in found if f.rule == "daily.county"]) == \
        [("02 09:00", "on_time"), ("03 09:00", "missing")]
    # The 核报 (due day 7) is not missing: the process ended before it fell due.
    assert not [f for f in found if f.rule == "final.county"]  # nothing falls due after a retraction
    # What was missing is overdue until the retraction, not until now.
    day_2 = next(f for f in found if f.rule == "daily.county" and f.status == "missing")
    assert day_2.delay_seconds == int((bj(3, 12) - bj(2, 9)).total_seconds())
    assert {f.rule: f.status for f in found if f.rule.startswith("initial")} == \
        {"initial.county": "on_time", "initial.upper": "on_time", "initial.province": "missing"}


def test_a_retracted_drought_needs_no_follow_ups_after_its_retraction() -> None:
    st = drought(initial(bj(0, 9)), report(bj(8, 9)), retracted=bj(12))
    found = flags(st, bj(60), "drought.follow_up")
    assert statuses(found) == [("11 09:00", "on_time")]


def test_missing_reports_before_the_retraction_stay_missing() -> None:
    st = state(initial(bj(0, 9)), retracted=bj(1))
    assert one(st, bj(30), "initial.upper").status == "missing"


# --- from real events ----------------------------------------------------------------------------------


def test_a_state_folded_from_real_events_is_evaluated() -> None:
    """初报 and 续报 by the county (recorded now, for a disaster on 2024-07-01), accepted by the city."""
    disaster = a_disaster(township(affected_population=1200, deaths=6))
    follow_up(disaster, township(CHENJIAGANG, missing=4), explanation="新增陈家港镇失踪人员")
    disaster.accept(1, CITY_DESK)
    st: dict[str, Any] | None = None
    for event in disaster.collect_events():
        st = ds.apply(st, event)
    assert st is not None
    recorded = datetime.fromisoformat(st["reports"][0]["recorded_at"])

    found = {f.rule: f for f in evaluate(st, RULES, recorded + timedelta(minutes=5))}
    # The city accepted it: the province's own 2 h clock runs from then (pending 5 minutes later).
    assert set(found) == {"initial.county", "initial.upper", "initial.province", "severe.province"}
    assert found["initial.province"].status == "pending"
    assert found["initial.county"].status == "late"  # recorded years after 2024-07-01 10:00
    assert found["initial.county"].due_at == datetime(2024, 7, 1, 10, tzinfo=CHINA)
    assert found["initial.upper"].status == "on_time"
    assert found["initial.upper"].arrived_at is not None
    severe = found["severe.province"]
    assert severe.report_number == 2 and severe.status == "late"  # 6 dead + 4 missing, as of 2024-07-01 12:00
    assert severe.due_at == datetime(2024, 7, 1, 14, tzinfo=CHINA)


# --- every level's own clock (issue 15, points 1, 2 and 10) ------------------------------------------------

PROVINCE_UNIT = "320000000000"
PROCESS = "7a1c0000-0000-5000-8000-000000000001"


def upward(level: str, kind: str, recorded: datetime, day: int | None = None) -> dict[str, Any]:
    """An upward report (UpwardReport) of the city or the province naming the process."""
    return {"level": level, "kind": kind, "recorded_at": recorded.isoformat(), "disaster_ids": [PROCESS],
            "day": bj(day).date().isoformat() if day is not None else None}


def test_given_a_township_initial_when_the_county_handles_it_then_the_city_and_province_each_have_two_hours():
    """Township 初报 09:00 → county accepts 10:00 (due 11:00) → city reports up 11:30 (due 12:00) →
    province reports up 14:00 (due 13:30: late)."""
    st = state(initial(bj(0, 9), filed_by=TOWNSHIP_DESK, reviewed=bj(0, 10), reviewer=COUNTY_DESK))
    ups = [upward("city", "initial", bj(0, 11, 30)), upward("province", "initial", bj(0, 14))]
    found = {f.rule: f for f in evaluate(st, RULES, bj(1), ups)}
    assert (found["initial.upper"].level, found["initial.upper"].status) == ("county", "on_time")
    city = found["initial.city"]
    assert (city.level, city.unit, city.due_at, city.arrived_at, city.status) == \
        ("city", CITY_UNIT, bj(0, 12), bj(0, 11, 30), "on_time")
    province = found["initial.province"]
    assert (province.level, province.unit, province.due_at, province.status, province.delay_seconds) == \
        ("province", PROVINCE_UNIT, bj(0, 13, 30), "late", 1800)


def test_given_a_county_initial_reviewed_by_the_city_when_the_province_never_reports_then_it_is_missing():
    st = state(initial(bj(0, 9), reviewed=bj(0, 10), reviewer=CITY_DESK))
    province = one(st, bj(0, 15), "initial.province")
    assert (province.due_at, province.status, province.delay_seconds) == (bj(0, 12), "missing", 3 * 3600)
    assert one(st, bj(0, 11), "initial.province").status == "pending"
    # The city's own upward report counts as its handling even before its review.
    st = state(initial(bj(0, 9)))
    city = next(f for f in evaluate(st, RULES, bj(1), [upward("city", "initial", bj(0, 10, 30))])
                if f.rule == "initial.upper")
    assert (city.arrived_at, city.status) == (bj(0, 10, 30), "on_time")


def test_given_a_level_that_has_not_received_the_report_then_its_clock_has_not_started():
    st = state(initial(bj(0, 9), filed_by=TOWNSHIP_DESK))  # the county has not handled it
    assert flags(st, bj(5), "initial.city") == [] and flags(st, bj(5), "initial.province") == []


def test_given_a_provincial_response_then_the_province_daily_report_is_due_at_noon():
    st = daily_state()
    ups = [upward("province", "daily", bj(1, 11), day=1), upward("province", "daily", bj(2, 13), day=2),
           upward("city", "daily", bj(2, 9, 50), day=2)]
    found = [f for f in evaluate(st, RULES, bj(3, 13), ups) if f.rule == "daily.province"]
    assert statuses(found) == [("02 12:00", "on_time"), ("03 12:00", "late"), ("04 12:00", "missing")]
    assert all((f.level, f.unit) == ("province", PROVINCE_UNIT) for f in found)
    # The city's daily upward report for day 2 is its 10:00 report even without a review.
    city = [f for f in evaluate(st, RULES, bj(3, 13), ups) if f.rule == "daily.upper"]
    assert statuses(city) == [("02 10:00", "on_time"), ("03 10:00", "on_time"), ("04 10:00", "missing")]


def test_given_a_county_level_four_response_then_no_daily_zero_report_is_due():
    """A county's own Ⅳ is not a 特别重大/重大 disaster: no false 未报."""
    st = daily_state(responses=[response("start", bj(0, 10), 4, government="county")])
    assert [f for f in evaluate(st, RULES, bj(8)) if f.rule.startswith("daily")] == []
    st = daily_state(responses=[response("start", bj(0, 10), 1, government="county")])
    assert flags(st, bj(8), "daily.county") == []


def test_given_a_national_level_one_response_then_the_daily_reports_run_until_the_disaster_is_stable():
    st = daily_state(responses=[response("start", bj(0, 10), 1, government="national")], stabilised=bj(2, 18))
    assert statuses(flags(st, bj(8, 12), "daily.county")) == [("02 09:00", "on_time"), ("03 09:00", "late")]


TRIGGER_RULES = CUSTOM_RULES.replace('province = "11:00"', '''province = "11:00"
until = "final"

[daily.trigger]
governments = ["county", "province"]
levels = [1, 2, 3, 4]
figures = { "deaths+missing" = 30 }''').replace("county_days = 2", "county_days = 2\ncity_days = 1")


def test_given_configured_triggers_then_a_county_response_or_the_figures_start_the_daily_report(tmp_path: Path):
    path = tmp_path / "deadlines.toml"
    path.write_text(TRIGGER_RULES, encoding="utf-8")
    custom = DeadlineRules.load(path)
    assert (custom.daily_until, custom.final_city_days, custom.final_province_days) == ("final", 1, None)
    county_four = daily_state(responses=[response("start", bj(0, 10), 4, government="county")],
                              stabilised=bj(1, 12))
    # until = "final": stabilisation does not stop it
    assert len(flags(county_four, bj(3, 12), "daily.county", custom)) == 3
    by_figures = state(initial(bj(0, 9)), report(bj(1, 8), figures={XIANGSHUI: {"deaths": "20", "missing": "10"}}),
                       report(bj(2, 8)))
    assert statuses(flags(by_figures, bj(3, 12), "daily.county", custom)) == \
        [("03 08:00", "on_time"), ("04 08:00", "missing")]


def test_given_the_county_final_then_the_city_and_province_final_clocks_run_where_configured():
    st = state(initial(bj(0, 9)), report(bj(5, 9), "final"), stabilised=bj(3, 12))
    city = one(st, bj(7), "final.city")
    assert (city.level, city.due_at, city.status) == ("city", bj(8, 9), "pending")
    assert one(st, bj(9), "final.city").status == "missing"
    assert flags(st, bj(9), "final.province") == []  # the city has not filed its 核报
    ups = [upward("city", "final", bj(6, 9)), upward("province", "final", bj(12, 9))]
    found = {f.rule: f for f in evaluate(st, RULES, bj(20), ups)}
    assert found["final.city"].status == "on_time"
    assert (found["final.province"].due_at, found["final.province"].status) == (bj(11, 9), "late")
