"""Relief: funds, household cases (户报 → 村评 → 公示 → 乡审 → 县定), payments — on the in-memory store.

Accounts are registered through the account service, so roles and scopes are
the real ones. The clock runs ahead of real time, from 10:00 Beijing tomorrow
(`BASE`), and tests move it on (`later`): recorded times stay real, so a
posting recorded now is reviewed only once the clock has passed seven days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.households.evidence import Evidence
from ledger.relief.applications import Application
from ledger.relief.case import ReliefCase, Stage
from ledger.relief.fund import ReliefFund, fund_id
from ledger.relief.rules import ReliefRules
from ledger.runtime import LedgerConfig, LedgerRuntime
from ledger.store.actors import Actor
from ledger.store.clock import OffsetClock
from ledger.store.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tests.unit.builders import (
    BEIJING,
    CHENJIAGANG,
    CITY,
    COUNTY,
    OTHER_COUNTY,
    PROVINCE,
    XIANGSHUI,
    a_runtime,
    an_account,
    area_table,
    county_officer,
)
from tests.unit.test_personal import gb11643, luhn_complete

BASE = (datetime.now(BEIJING) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
TODAY = BASE.date()
PERIOD = f"{TODAY.year}-{TODAY.year + 1}"
WS = "winter_spring"
VILLAGE = "320921100001"  # 响水镇 东园居委会
OTHER_VILLAGE = "320921100002"  # 响水镇 城东居委会
CHENJIAGANG_VILLAGE = "320921101001"  # 陈家港镇 海安居委会
POSTED_FROM, POSTED_TO = TODAY, TODAY + timedelta(days=6)  # seven days from today
HELD_ON = TODAY
PER_PERSON_CAP = 30000  # relief.toml: winter_spring 300 元 per person
HOUSING_CAP = 2000000  # relief.toml: housing 20000 元 per household
PHOTO = [Evidence("sha256:" + "ab" * 32, "image/jpeg", "发放照片.jpg")]

ZHANG = gb11643("32092119800101123")
LI = gb11643("32092119751212246")
WANG = gb11643("32092119900505031")
ZHAO = gb11643("32092119850301006")  # ends in X
assert ZHAO.endswith("X")
CARD = luhn_complete("621700001001234567")


@dataclass(frozen=True)
class Staff:
    township: Actor  # 响水镇
    other_township: Actor  # 陈家港镇
    county: Actor  # 响水县
    relief: Actor  # 响水县 relief officer
    other_county: Actor  # 滨海县
    city: Actor  # 盐城市
    province: Actor  # 江苏省
    auditor: Actor  # 盐城市 auditor


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def later(rt: LedgerRuntime, days: float = 8) -> None:
    """Move the runtime's clock on (recorded times stay real)."""
    rt.config.clock.advance(days=days)  # type: ignore[attr-defined]


def a_clock() -> OffsetClock:
    return OffsetClock(BASE - datetime.now(BEIJING))


@pytest.fixture
def rt() -> Iterator[LedgerRuntime]:
    runtime = a_runtime(clock=a_clock())
    yield runtime
    runtime.close()


@pytest.fixture
def staff(rt: LedgerRuntime) -> Staff:
    return Staff(
        township=an_account(rt, "township", XIANGSHUI),
        other_township=an_account(rt, "township", CHENJIAGANG),
        county=an_account(rt, "county", COUNTY),
        relief=an_account(rt, "relief_officer", COUNTY),
        other_county=an_account(rt, "county", OTHER_COUNTY),
        city=an_account(rt, "city", CITY),
        province=an_account(rt, "province", PROVINCE),
        auditor=an_account(rt, "auditor", CITY),
    )


def an_application(**overrides: Any) -> Application:
    values: dict[str, Any] = {
        "programme": WS,
        "period": PERIOD,
        "village": VILLAGE,
        "head_name": "张三",
        "id_number": ZHANG,
        "phone": "13800138000",
        "card_number": CARD,
        "household_type": "低保户",
        "household_size": 4,
        "people_in_need": 3,
        "address": "响水镇东园居委会 12 号",
        "causes": ["倒房"],
        "needs": ["口粮", "取暖"],
    }
    values.update(overrides)
    return Application(**values)


def a_fund(
    rt: LedgerRuntime,
    staff: Staff,
    amount: int = 1_000_000,
    programme: str = WS,
    document: str = "苏财社〔2024〕88号",
) -> UUID:
    return rt.relief.allocate(staff.county, COUNTY, programme, PERIOD, "central", amount, document).id


def fund(rt: LedgerRuntime, programme: str = WS) -> ReliefFund:
    return rt.app.repository.get(fund_id(COUNTY, programme, PERIOD))


def case(rt: LedgerRuntime, case_id: UUID) -> ReliefCase:
    return rt.app.repository.get(case_id)


def applied(rt: LedgerRuntime, staff: Staff, **overrides: Any) -> UUID:
    return rt.relief.apply(staff.township, an_application(**overrides)).id


def posted(
    rt: LedgerRuntime, staff: Staff, start: date = POSTED_FROM, end: date = POSTED_TO, **overrides: Any
) -> UUID:
    case_id = applied(rt, staff, **overrides)
    rt.relief.assess(staff.township, case_id, "东园居委会村民代表会议记录", True, HELD_ON)
    rt.relief.post(staff.township, case_id, start, end, "村务公开栏")
    return case_id


def reviewed(rt: LedgerRuntime, staff: Staff, **overrides: Any) -> UUID:
    case_id = posted(rt, staff, **overrides)
    later(rt)
    rt.relief.township_review(staff.township, case_id)
    return case_id


def approved(rt: LedgerRuntime, staff: Staff, amount: int = 90000, **overrides: Any) -> UUID:
    case_id = reviewed(rt, staff, **overrides)
    rt.relief.approve(staff.county, case_id, amount, None)
    return case_id


def pay(rt: LedgerRuntime, by: Actor, case_id: UUID, amount: int, payment_id: str | None = None) -> Any:
    return rt.relief.pay(by, case_id, amount, "2024-07-批次01", f"NX{uuid4().hex[:10]}", payment_id)


def event_names(rt: LedgerRuntime, aggregate_id: UUID) -> list[str]:
    return [type(e).__name__ for e in rt.app.events.get(aggregate_id)]


def fields_of(error: InvalidInput) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.fields}


def refused(exc_type: type[Exception], rt: LedgerRuntime, call: Any, *args: Any, **kwargs: Any) -> Any:
    """The call is refused with `exc_type` and nothing at all is written."""
    before = rt.position()
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    assert rt.position() == before
    return caught.value


# --- the fund -------------------------------------------------------------------------------------


def test_the_balance_is_allocated_minus_given_back_minus_paid_plus_returned():
    f = ReliefFund(county=COUNTY, programme=WS, period=PERIOD, actor=county_officer.as_dict())
    f.allocate("central", 500_000, "财社〔2024〕1号", county_officer.as_dict())
    f.allocate("provincial", 200_000, "苏财社〔2024〕2号", county_officer.as_dict())
    case_id = uuid4()
    f.debit(case_id, "p1", 90_000, county_officer.as_dict())
    f.debit(case_id, "p2", 60_000, county_officer.as_dict())
    f.credit(case_id, "p2", 60_000, "账户冻结退回", county_officer.as_dict())
    f.give_back(100_000, "响财〔2024〕3号", "结余资金收回", county_officer.as_dict())
    assert f.allocated == {"central": 500_000, "provincial": 200_000}
    assert f.balance == 700_000 - 100_000 - 150_000 + 60_000 == 510_000


def test_a_debit_above_the_balance_is_refused_with_insufficient_funds():
    f = ReliefFund(county=COUNTY, programme=WS, period=PERIOD, actor=county_officer.as_dict())
    f.allocate("central", 100_000, "财社〔2024〕1号", county_officer.as_dict())
    with pytest.raises(Conflict) as caught:
        f.debit(uuid4(), "p1", 100_001, county_officer.as_dict())
    assert caught.value.code == "insufficient_funds"
    assert caught.value.details == {"balance_fen": 100_000, "requested_fen": 100_001}
    f.debit(uuid4(), "p2", 100_000, county_officer.as_dict())
    assert f.balance == 0


def test_the_first_allocation_opens_the_fund_and_a_second_tops_it_up(rt, staff):
    first = rt.relief.allocate(staff.county, COUNTY, WS, PERIOD, "central", 500_000, "财社〔2024〕1号")
    second = rt.relief.allocate(staff.city, COUNTY, WS, PERIOD, "city", 100_000, "盐财社〔2024〕7号")
    assert (first.status, second.status) == (201, 200)
    assert first.id == second.id == fund_id(COUNTY, WS, PERIOD)
    assert fund(rt).allocated == {"central": 500_000, "city": 100_000}
    assert fund(rt).balance == 600_000
    assert fund(rt).documents == ["财社〔2024〕1号", "盐财社〔2024〕7号"]


def test_the_same_allocating_document_cannot_be_recorded_twice(rt, staff):
    a_fund(rt, staff, document="财社〔2024〕1号")
    error = refused(
        Conflict,
        rt,
        rt.relief.allocate,
        staff.county,
        COUNTY,
        WS,
        PERIOD,
        "provincial",
        5_000,
        "财社〔2024〕1号",
    )
    assert error.code == "duplicate_document"
    assert fund(rt).balance == 1_000_000


def test_giving_back_reduces_the_balance_but_never_below_zero(rt, staff):
    fid = a_fund(rt, staff, amount=300_000)
    rt.relief.give_back(staff.county, fid, 100_000, "响财〔2024〕3号", "结余资金收回")
    assert fund(rt).balance == 200_000
    error = refused(Conflict, rt, rt.relief.give_back, staff.county, fid, 200_001, "响财〔2024〕4号", "收回")
    assert error.code == "insufficient_funds"
    error = refused(InvalidInput, rt, rt.relief.give_back, staff.county, fid, 1_000, "响财〔2024〕5号", " ")
    assert ("reason", "required") in fields_of(error)


def test_an_allocation_names_a_known_county_a_source_a_period_and_a_document(rt, staff):
    error = refused(
        InvalidInput,
        rt,
        rt.relief.allocate,
        staff.province,
        "320921100",
        "winter",
        "2024-2026",
        "donors",
        1_000,
        " ",
    )
    assert {f for f, _ in fields_of(error)} == {"county", "programme", "period", "source", "document"}


@pytest.mark.parametrize("amount", [0, -1])
def test_an_allocation_must_be_a_positive_amount(rt, staff, amount):
    error = refused(
        InvalidInput, rt, rt.relief.allocate, staff.county, COUNTY, WS, PERIOD, "central", amount, "文"
    )
    assert ("amount_fen", "not_positive") in fields_of(error)


@pytest.mark.parametrize("who", ["township", "auditor", "other_county"])
def test_only_the_county_and_levels_above_allocate_to_a_county(rt, staff, who):
    refused(
        NotPermitted, rt, rt.relief.allocate, getattr(staff, who), COUNTY, WS, PERIOD, "central", 1_000, "文"
    )


# --- the chain ------------------------------------------------------------------------------------


def test_the_full_chain_takes_a_household_from_application_to_payment(rt, staff):
    a_fund(rt, staff, amount=1_000_000)
    case_id = applied(rt, staff)
    assert case(rt, case_id).stage is Stage.APPLIED
    rt.relief.assess(staff.township, case_id, "东园居委会村民代表会议记录", True, HELD_ON)
    assert case(rt, case_id).stage is Stage.ASSESSED
    rt.relief.post(staff.township, case_id, POSTED_FROM, POSTED_TO, "村务公开栏")
    assert case(rt, case_id).stage is Stage.POSTED
    later(rt)
    rt.relief.township_review(staff.township, case_id)
    assert case(rt, case_id).stage is Stage.TOWNSHIP_REVIEWED
    rt.relief.approve(staff.county, case_id, 90_000, None)
    assert case(rt, case_id).stage is Stage.APPROVED
    assert case(rt, case_id).approved_amount == 90_000

    paid = pay(rt, staff.relief, case_id, 90_000)
    assert paid.status == 201
    done = case(rt, case_id)
    assert done.stage is Stage.PAID
    assert done.paid_total == 90_000
    assert fund(rt).balance == 1_000_000 - 90_000
    assert event_names(rt, case_id) == [
        "Applied",
        "VillageAssessed",
        "Posted",
        "TownshipReviewed",
        "CountyApproved",
        "PaymentMade",
    ]


def test_a_case_is_paid_in_part_and_stays_approved_until_paid_in_full(rt, staff):
    a_fund(rt, staff)
    case_id = approved(rt, staff, amount=90_000)
    pay(rt, staff.county, case_id, 30_000)
    assert case(rt, case_id).stage is Stage.APPROVED
    pay(rt, staff.county, case_id, 60_000)
    assert case(rt, case_id).stage is Stage.PAID
    assert case(rt, case_id).paid_total == 90_000


def test_the_case_records_the_household_as_filed(rt, staff):
    case_id = applied(rt, staff, id_number=ZHAO.lower(), phone="138 0013 8000")
    c = case(rt, case_id)
    assert (c.county, c.township, c.village) == (COUNTY, XIANGSHUI, VILLAGE)
    assert c.id_number == ZHAO and c.phone == "13800138000" and c.card_number == CARD
    assert c.review_flags == []
    [application] = [e for e in rt.app.events.get(case_id) if type(e).__name__ == "Applied"]
    assert application.applied_on == TODAY  # today in Beijing when not given


# --- 户报: the application ---------------------------------------------------------------------------


def test_an_application_with_many_problems_names_each_field_and_saves_nothing(rt, staff):
    error = refused(
        InvalidInput,
        rt,
        rt.relief.apply,
        staff.township,
        an_application(
            id_number=ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"),
            phone="12345",
            card_number=CARD[:-1] + "0" if CARD[-1] != "0" else CARD[:-1] + "1",
            people_in_need=5,
            household_size=4,
            period="2024-2026",
            village="320921100000",
        ),
    )
    assert {f for f, _ in fields_of(error)} == {
        "id_number",
        "phone",
        "card_number",
        "people_in_need",
        "period",
        "village",
    }


def test_a_refused_application_never_repeats_the_personal_data_it_refused(rt, staff):
    bad_id, bad_card = (
        ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"),
        CARD[:-1] + str((int(CARD[-1]) + 1) % 10),
    )
    error = refused(
        InvalidInput,
        rt,
        rt.relief.apply,
        staff.township,
        an_application(id_number=bad_id, phone="1380013800", card_number=bad_card),
    )
    text = " ".join(
        [str(error), repr(error.details), *(f"{p.field} {p.code} {p.message}" for p in error.fields)]
    )
    for value in (bad_id, "1380013800", bad_card, bad_id[6:14]):
        assert value not in text


def test_a_head_of_household_born_after_today_is_refused(rt, staff):
    error = refused(
        InvalidInput,
        rt,
        rt.relief.apply,
        staff.township,
        an_application(id_number=gb11643(f"320921{TODAY + timedelta(days=1):%Y%m%d}123")),
    )
    assert ("id_number", "bad_id_number") in fields_of(error)


@pytest.mark.parametrize("village", ["320921100999", "320921100", "3209211000011"])
def test_an_application_names_a_known_village(rt, staff, village):
    error = refused(InvalidInput, rt, rt.relief.apply, staff.township, an_application(village=village))
    assert "village" in {f for f, _ in fields_of(error)}


# --- one open case per programme, period and household head ------------------------------------------


def test_a_second_open_case_for_the_same_head_is_refused_with_the_existing_case(rt, staff):
    first = applied(rt, staff, id_number=ZHAO)
    error = refused(
        Conflict,
        rt,
        rt.relief.apply,
        staff.county,
        an_application(village=OTHER_VILLAGE, id_number=ZHAO.lower(), head_name="张 三"),
    )
    assert error.code == "duplicate_case"
    assert error.details == {"existing_id": str(first)}


def test_the_same_head_in_another_period_is_a_new_case(rt, staff):
    applied(rt, staff)
    other = rt.relief.apply(staff.township, an_application(period=f"{TODAY.year + 1}-{TODAY.year + 2}"))
    assert other.status == 201
    assert case(rt, other.id).review_flags == []


def test_the_same_head_in_another_programme_of_the_period_is_accepted_but_flagged_for_review(rt, staff):
    applied(rt, staff)
    second = applied(rt, staff, programme="transitional")
    assert case(rt, second).review_flags == ["also_in:winter_spring"]
    third = applied(rt, staff, programme="emergency")
    assert sorted(case(rt, third).review_flags) == ["also_in:transitional", "also_in:winter_spring"]


def test_a_closed_case_in_another_programme_is_not_flagged(rt, staff):
    first = applied(rt, staff)
    rt.relief.withdraw(staff.township, first, "户主申请撤回")
    assert case(rt, applied(rt, staff, programme="transitional")).review_flags == []


def test_a_rejected_case_releases_the_head_for_a_new_application(rt, staff):
    first = posted(rt, staff)
    rt.relief.reject(staff.township, first, "经核实家庭收入较高")
    assert case(rt, first).stage is Stage.REJECTED
    assert case(rt, first).closing_reason == "经核实家庭收入较高"
    assert rt.relief.apply(staff.township, an_application()).status == 201


def test_a_withdrawn_case_releases_the_head_for_a_new_application(rt, staff):
    first = applied(rt, staff)
    rt.relief.withdraw(staff.township, first, "户主申请撤回")
    assert case(rt, first).stage is Stage.WITHDRAWN
    assert rt.relief.apply(staff.township, an_application()).status == 201


def test_a_case_rejected_by_the_village_assessment_releases_the_head(rt, staff):
    first = applied(rt, staff)
    rt.relief.assess(staff.township, first, "村民代表会议记录: 未通过", False, HELD_ON)
    assert case(rt, first).stage is Stage.REJECTED
    assert rt.relief.apply(staff.township, an_application()).status == 201


def test_a_rejected_or_withdrawn_case_cannot_be_closed_again(rt, staff):
    first = applied(rt, staff)
    rt.relief.withdraw(staff.township, first, "户主申请撤回")
    second = applied(rt, staff)  # takes the released claim
    assert refused(Conflict, rt, rt.relief.reject, staff.township, first, "again").code == "wrong_stage"
    assert refused(Conflict, rt, rt.relief.withdraw, staff.township, first, "again").code == "wrong_stage"
    # closing the old case again must not free the claim the new case holds
    assert refused(Conflict, rt, rt.relief.apply, staff.township, an_application()).details == {
        "existing_id": str(second)
    }


def test_a_rejection_or_withdrawal_needs_a_reason(rt, staff):
    case_id = applied(rt, staff)
    assert ("reason", "required") in fields_of(
        refused(InvalidInput, rt, rt.relief.reject, staff.township, case_id, "  ")
    )
    assert ("reason", "required") in fields_of(
        refused(InvalidInput, rt, rt.relief.withdraw, staff.township, case_id, "")
    )


def test_an_approved_case_can_no_longer_be_rejected_and_a_paid_one_not_withdrawn(rt, staff):
    a_fund(rt, staff)
    case_id = approved(rt, staff)
    assert refused(Conflict, rt, rt.relief.reject, staff.county, case_id, "改判").code == "wrong_stage"
    pay(rt, staff.county, case_id, 10_000)
    assert refused(Conflict, rt, rt.relief.withdraw, staff.township, case_id, "撤回").code == "wrong_stage"


# --- 村评 and 公示 ----------------------------------------------------------------------------------


def test_the_assessment_must_reference_its_minutes(rt, staff):
    case_id = applied(rt, staff)
    error = refused(InvalidInput, rt, rt.relief.assess, staff.township, case_id, "  ", True, HELD_ON)
    assert ("minutes_ref", "required") in fields_of(error)


def test_a_posting_before_the_village_assessment_is_refused(rt, staff):
    case_id = applied(rt, staff)
    error = refused(Conflict, rt, rt.relief.post, staff.township, case_id, POSTED_FROM, POSTED_TO, "公开栏")
    assert error.code == "wrong_stage"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 5),  # 6 days
        (0, 0),
        (0, -2),  # ends before it starts
    ],
)
def test_a_posting_shorter_than_the_configured_seven_days_is_refused(rt, staff, start, end):
    case_id = applied(rt, staff)
    rt.relief.assess(staff.township, case_id, "记录", True, HELD_ON)
    error = refused(InvalidInput, rt, rt.relief.post, staff.township, case_id, day(start), day(end), "公开栏")
    assert {("end", "posting_too_short"), ("end", "before_start")} & fields_of(error)
    assert case(rt, case_id).stage is Stage.ASSESSED


def test_a_posting_of_exactly_seven_days_counting_both_ends_is_enough(rt, staff):
    case_id = posted(rt, staff, start=day(0), end=day(6))
    posting = case(rt, case_id).posting
    assert {k: posting[k] for k in ("start", "end", "place", "reason", "backdated_days")} == {
        "start": day(0), "end": day(6), "place": "村务公开栏", "reason": None, "backdated_days": 0,
    }


@pytest.mark.parametrize("end", [8, 12])  # the clock moves 8 days on
def test_the_township_review_waits_until_the_posting_has_ended(rt, staff, end):
    case_id = posted(rt, staff, start=day(0), end=day(end))
    later(rt)
    error = refused(Conflict, rt, rt.relief.township_review, staff.township, case_id)
    assert error.code == "posting_not_ended"
    assert case(rt, case_id).stage is Stage.POSTED


def test_the_township_review_is_possible_the_day_after_the_posting_ended(rt, staff):
    case_id = posted(rt, staff, start=day(0), end=day(6))
    later(rt, days=7)
    rt.relief.township_review(staff.township, case_id)
    assert case(rt, case_id).stage is Stage.TOWNSHIP_REVIEWED


def objection_ids(rt: LedgerRuntime, case_id: UUID) -> list[str]:
    return list(case(rt, case_id).objections)


def test_an_open_objection_holds_the_township_review(rt, staff):
    case_id = posted(rt, staff)
    rt.relief.raise_objection(staff.township, case_id, "村民反映该户家庭收入较高", day(0))
    [objection] = objection_ids(rt, case_id)
    later(rt)
    error = refused(Conflict, rt, rt.relief.township_review, staff.township, case_id)
    assert error.code == "objections_open"
    assert error.details == {"objections": [objection]}


def test_a_dismissed_objection_lets_the_case_go_on(rt, staff):
    case_id = posted(rt, staff)
    rt.relief.raise_objection(staff.township, case_id, "村民反映该户家庭收入较高", day(0))
    [objection] = objection_ids(rt, case_id)
    rt.relief.resolve_objection(staff.township, case_id, objection, "经入户核实，异议不成立", False)
    later(rt)
    rt.relief.township_review(staff.township, case_id)
    assert case(rt, case_id).stage is Stage.TOWNSHIP_REVIEWED
    assert case(rt, case_id).objections[objection]["upheld"] is False


def test_an_upheld_objection_rejects_the_case_and_releases_the_head(rt, staff):
    case_id = posted(rt, staff)
    rt.relief.raise_objection(staff.township, case_id, "该户已在外地购房", day(0))
    [objection] = objection_ids(rt, case_id)
    rt.relief.resolve_objection(staff.township, case_id, objection, "经核实异议成立", True)
    closed = case(rt, case_id)
    assert closed.stage is Stage.REJECTED
    assert "经核实异议成立" in (closed.closing_reason or "")
    refused(Conflict, rt, rt.relief.township_review, staff.township, case_id)
    assert rt.relief.apply(staff.township, an_application()).status == 201


def test_an_objection_is_resolved_once_and_only_if_it_exists(rt, staff):
    case_id = posted(rt, staff)
    rt.relief.raise_objection(staff.township, case_id, "异议", day(0))
    [objection] = objection_ids(rt, case_id)
    assert (
        refused(Conflict, rt, rt.relief.resolve_objection, staff.township, case_id, "nope", "x", False).code
        == "no_open_objection"
    )
    error = refused(
        InvalidInput, rt, rt.relief.resolve_objection, staff.township, case_id, objection, " ", False
    )
    assert ("resolution", "required") in fields_of(error)
    rt.relief.resolve_objection(staff.township, case_id, objection, "不成立", False)
    assert (
        refused(
            Conflict, rt, rt.relief.resolve_objection, staff.township, case_id, objection, "再次", True
        ).code
        == "no_open_objection"
    )


def test_an_objection_is_raised_only_while_the_case_is_posted(rt, staff):
    case_id = applied(rt, staff)
    assert (
        refused(
            Conflict, rt, rt.relief.raise_objection, staff.township, case_id, "异议", day(0)
        ).code
        == "wrong_stage"
    )


# --- 县定: approval against the standard ------------------------------------------------------------


def a_reviewed_case_aggregate(posting_end: date = POSTED_TO, people_in_need: int = 3) -> ReliefCase:
    c = ReliefCase(
        programme=WS,
        period=PERIOD,
        county=COUNTY,
        township=XIANGSHUI,
        village=VILLAGE,
        head_name="张三",
        id_number=ZHANG,
        id_hash="h",
        phone="13800138000",
        card_number=CARD,
        household_type="一般户",
        household_size=4,
        people_in_need=people_in_need,
        address="x",
        causes=[],
        needs=[],
        applied_on=day(-1),
        review_flags=[],
        actor=county_officer.as_dict(),
        members=[],
        disaster_id=None,
    )
    c.assess("记录", True, day(0), day(0), county_officer.as_dict())
    c.post(day(0), posting_end, "公开栏", None, day(0), POSTING_RULES, county_officer.as_dict())
    c.review(REAL_LATER, posting_end + timedelta(days=1), POSTING_RULES, county_officer.as_dict())
    return c


POSTING_RULES = ReliefRules.load().posting
REAL_LATER = datetime.now(BEIJING) + timedelta(days=8)
STANDARD = {"id": "test"}


def approve(c: ReliefCase, on: date) -> None:
    c.approve(90_000, None, 90_000, STANDARD, None, REAL_LATER, on, POSTING_RULES, "v", county_officer.as_dict())


def test_the_county_approval_also_waits_for_the_end_of_the_posting():
    c = a_reviewed_case_aggregate(posting_end=day(9))
    with pytest.raises(Conflict) as caught:
        approve(c, day(9))
    assert caught.value.code == "posting_not_ended"
    approve(c, day(10))
    assert c.stage is Stage.APPROVED


def test_the_county_approval_is_refused_while_an_objection_is_open():
    c = a_reviewed_case_aggregate()
    c.objections["late"] = {"summary": "迟到的异议", "raised_on": day(5), "resolution": None}
    with pytest.raises(Conflict) as caught:
        approve(c, day(20))
    assert caught.value.code == "objections_open"


def test_an_approval_before_the_township_review_is_refused(rt, staff):
    case_id = posted(rt, staff)
    assert refused(Conflict, rt, rt.relief.approve, staff.county, case_id, 90_000, None).code == "wrong_stage"


def test_an_amount_above_the_per_person_standard_needs_a_written_reason(rt, staff):
    case_id = reviewed(rt, staff, people_in_need=3)
    for reason in (None, "", "   "):
        error = refused(
            InvalidInput, rt, rt.relief.approve, staff.county, case_id, 3 * PER_PERSON_CAP + 1, reason
        )
        assert error.code == "above_standard"
        assert error.details == {"cap_fen": 3 * PER_PERSON_CAP, "standard": "winter_spring/national"}
        assert ("reason", "above_standard") in fields_of(error)
    rt.relief.approve(
        staff.county, case_id, 3 * PER_PERSON_CAP + 1, "因灾倒房重建户，村委会书面说明，乡镇盖章"
    )
    assert case(rt, case_id).approved_amount == 3 * PER_PERSON_CAP + 1
    [approval] = [e for e in rt.app.events.get(case_id) if type(e).__name__ == "CountyApproved"]
    assert approval.above_cap is True
    assert approval.cap == 3 * PER_PERSON_CAP
    assert approval.rules_version == rt.relief_rules.version


def test_an_amount_at_the_standard_needs_no_reason(rt, staff):
    case_id = reviewed(rt, staff, people_in_need=2)
    rt.relief.approve(staff.relief, case_id, 2 * PER_PERSON_CAP, None)
    [approval] = [e for e in rt.app.events.get(case_id) if type(e).__name__ == "CountyApproved"]
    assert approval.above_cap is False


def test_a_relief_case_for_housing_reconstruction_is_refused_in_favour_of_a_housing_case(rt, staff):
    error = refused(InvalidInput, rt, rt.relief.apply, staff.township, an_application(programme="housing"))
    assert ("programme", "use_housing_cases") in fields_of(error)
    assert "/v1/housing/cases" in error.fields[0].message


@pytest.mark.parametrize("amount", [0, -100])
def test_an_approved_amount_must_be_positive(rt, staff, amount):
    case_id = reviewed(rt, staff)
    error = refused(InvalidInput, rt, rt.relief.approve, staff.county, case_id, amount, "理由")
    assert ("amount_fen", "not_positive") in fields_of(error)


# --- payments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["applied", "posted", "reviewed"])
def test_a_payment_before_the_county_approval_is_refused(rt, staff, stage):
    a_fund(rt, staff)
    case_id = {"applied": applied, "posted": posted, "reviewed": reviewed}[stage](rt, staff)
    error = refused(Conflict, rt, pay, rt, staff.county, case_id, 10_000)
    assert error.code == "wrong_stage"
    assert fund(rt).balance == 1_000_000


def test_a_payment_above_the_fund_balance_is_refused(rt, staff):
    a_fund(rt, staff, amount=50_000)
    case_id = approved(rt, staff, amount=90_000)
    error = refused(Conflict, rt, pay, rt, staff.county, case_id, 60_000)
    assert error.code == "insufficient_funds"
    assert error.details == {"balance_fen": 50_000, "requested_fen": 60_000}
    assert case(rt, case_id).paid_total == 0
    pay(rt, staff.county, case_id, 50_000)
    assert fund(rt).balance == 0


def test_a_payment_without_a_fund_for_the_programme_is_refused(rt, staff):
    a_fund(rt, staff, programme="transitional")
    case_id = approved(rt, staff)
    assert refused(InvalidInput, rt, pay, rt, staff.county, case_id, 10_000).code == "no_fund"


def test_the_total_paid_never_exceeds_the_approved_amount(rt, staff):
    a_fund(rt, staff)
    case_id = approved(rt, staff, amount=90_000)
    pay(rt, staff.county, case_id, 60_000)
    error = refused(InvalidInput, rt, pay, rt, staff.county, case_id, 30_001)
    assert error.code == "above_approved"
    assert error.details == {"remaining_fen": 30_000}
    pay(rt, staff.county, case_id, 30_000)
    assert refused(InvalidInput, rt, pay, rt, staff.county, case_id, 1).code == "above_approved"
    assert case(rt, case_id).paid_total == 90_000
    assert fund(rt).balance == 1_000_000 - 90_000


def test_a_payment_id_is_used_once(rt, staff):
    a_fund(rt, staff)
    case_id = approved(rt, staff)
    pay(rt, staff.county, case_id, 10_000, payment_id="pay-1")
    assert (
        refused(Conflict, rt, pay, rt, staff.county, case_id, 10_000, payment_id="pay-1").code
        == "duplicate_payment"
    )
    assert fund(rt).paid == 10_000


@pytest.mark.parametrize(("reversal", "event"), [(False, "PaymentReturned"), (True, "PaymentReversed")])
def test_a_payment_that_comes_back_restores_the_balance_and_may_be_paid_again(rt, staff, reversal, event):
    a_fund(rt, staff, amount=90_000)
    case_id = approved(rt, staff, amount=90_000)
    pay(rt, staff.county, case_id, 90_000, payment_id="first")
    assert (fund(rt).balance, case(rt, case_id).stage) == (0, Stage.PAID)

    rt.relief.payment_came_back(staff.relief, case_id, "first", "账户已销户，银行退回", reversal)
    assert fund(rt).balance == 90_000
    assert fund(rt).returned == 90_000
    assert case(rt, case_id).paid_total == 0
    assert case(rt, case_id).stage is Stage.APPROVED
    assert event_names(rt, case_id)[-1] == event
    assert event_names(rt, fund(rt).id)[-1] == "Credited"

    pay(rt, staff.county, case_id, 90_000, payment_id="second")
    assert (fund(rt).balance, case(rt, case_id).stage, case(rt, case_id).paid_total) == (
        0,
        Stage.PAID,
        90_000,
    )


def test_a_payment_comes_back_only_once_and_only_if_it_was_made(rt, staff):
    a_fund(rt, staff)
    case_id = approved(rt, staff)
    pay(rt, staff.county, case_id, 90_000, payment_id="first")
    refused(NotFound, rt, rt.relief.payment_came_back, staff.county, case_id, "nope", "退回", False)
    rt.relief.payment_came_back(staff.county, case_id, "first", "退回", False)
    assert (
        refused(Conflict, rt, rt.relief.payment_came_back, staff.county, case_id, "first", "冲正", True).code
        == "no_such_payment"
    )
    assert fund(rt).balance == 1_000_000


def test_a_returned_payment_needs_a_reason(rt, staff):
    a_fund(rt, staff)
    case_id = approved(rt, staff)
    pay(rt, staff.county, case_id, 90_000, payment_id="first")
    error = refused(InvalidInput, rt, rt.relief.payment_came_back, staff.county, case_id, "first", " ", False)
    assert ("reason", "required") in fields_of(error)


def test_goods_issued_add_to_the_goods_total_and_not_to_money_paid(rt, staff):
    a_fund(rt, staff)
    case_id = approved(rt, staff)
    rt.relief.issue_goods(staff.county, case_id, "棉被", 2, 30_000, evidence=PHOTO)
    rt.relief.issue_goods(staff.relief, case_id, "大米", 1, 12_000, evidence=PHOTO)
    c = case(rt, case_id)
    assert c.goods_total == 42_000
    assert [g["item"] for g in c.goods] == ["棉被", "大米"]
    assert c.paid_total == 0
    assert fund(rt).balance == 1_000_000


def test_goods_are_issued_only_after_approval_and_with_sensible_numbers(rt, staff):
    early = applied(rt, staff)
    assert (
        refused(
            Conflict, rt, rt.relief.issue_goods, staff.county, early, "棉被", 1, 100, evidence=PHOTO
        ).code
        == "wrong_stage"
    )
    case_id = approved(rt, staff, id_number=LI)
    assert ("quantity", "not_positive") in fields_of(
        refused(
            InvalidInput, rt, rt.relief.issue_goods, staff.county, case_id, "棉被", 0, 100, evidence=PHOTO
        )
    )
    assert ("value_fen", "negative") in fields_of(
        refused(
            InvalidInput, rt, rt.relief.issue_goods, staff.county, case_id, "棉被", 1, -1, evidence=PHOTO
        )
    )


def test_an_unknown_case_is_not_found(rt, staff):
    refused(NotFound, rt, rt.relief.assess, staff.township, uuid4(), "记录", True, HELD_ON)
    refused(NotFound, rt, pay, rt, staff.county, uuid4(), 100)
    with pytest.raises(NotFound):
        rt.relief.get(staff.county, uuid4())


def test_a_fund_id_is_not_a_case(rt, staff):
    fid = a_fund(rt, staff)
    with pytest.raises(NotFound):
        rt.relief.get(staff.county, fid)


# --- who may do what ----------------------------------------------------------------------------------


def test_a_township_files_applications_only_for_villages_of_its_township(rt, staff):
    refused(NotPermitted, rt, rt.relief.apply, staff.township, an_application(village=CHENJIAGANG_VILLAGE))
    assert rt.relief.apply(staff.other_township, an_application(village=CHENJIAGANG_VILLAGE)).status == 201


def test_a_township_cannot_act_on_a_case_of_another_township(rt, staff):
    case_id = applied(rt, staff)
    refused(NotPermitted, rt, rt.relief.assess, staff.other_township, case_id, "记录", True, HELD_ON)
    refused(NotPermitted, rt, rt.relief.withdraw, staff.other_township, case_id, "撤回")
    with pytest.raises(NotPermitted):
        rt.relief.get(staff.other_township, case_id)


def test_a_county_officer_may_file_for_any_village_of_the_county(rt, staff):
    assert rt.relief.apply(staff.county, an_application(village=CHENJIAGANG_VILLAGE)).status == 201
    assert rt.relief.apply(staff.relief, an_application(id_number=LI)).status == 201


def test_a_township_neither_approves_nor_pays(rt, staff):
    a_fund(rt, staff)
    case_id = reviewed(rt, staff)
    refused(NotPermitted, rt, rt.relief.approve, staff.township, case_id, 90_000, None)
    rt.relief.approve(staff.county, case_id, 90_000, None)
    refused(NotPermitted, rt, pay, rt, staff.township, case_id, 90_000)
    refused(
        NotPermitted, rt, rt.relief.issue_goods, staff.township, case_id, "棉被", 1, 100, evidence=PHOTO
    )


def test_only_the_township_records_the_township_review(rt, staff):
    case_id = posted(rt, staff)
    refused(NotPermitted, rt, rt.relief.township_review, staff.county, case_id)


@pytest.mark.parametrize("who", ["county", "relief"])
def test_county_and_relief_officers_approve_and_pay(rt, staff, who):
    actor = getattr(staff, who)
    a_fund(rt, staff)
    case_id = reviewed(rt, staff)
    rt.relief.approve(actor, case_id, 90_000, None)
    pay(rt, actor, case_id, 90_000)
    rt.relief.payment_came_back(actor, case_id, next(iter(case(rt, case_id).payments)), "退回", False)
    assert fund(rt).balance == 1_000_000


@pytest.mark.parametrize("who", ["city", "province", "other_county"])
def test_levels_other_than_the_own_county_neither_approve_nor_pay(rt, staff, who):
    a_fund(rt, staff)
    case_id = reviewed(rt, staff)
    refused(NotPermitted, rt, rt.relief.approve, getattr(staff, who), case_id, 90_000, None)
    rt.relief.approve(staff.county, case_id, 90_000, None)
    refused(NotPermitted, rt, pay, rt, getattr(staff, who), case_id, 90_000)


def test_an_auditor_never_writes_but_may_read(rt, staff):
    a_fund(rt, staff)
    case_id = approved(rt, staff)
    pay(rt, staff.county, case_id, 10_000, payment_id="p")
    auditor = staff.auditor
    refused(NotPermitted, rt, rt.relief.apply, auditor, an_application(id_number=LI))
    refused(NotPermitted, rt, rt.relief.apply_many, auditor, [an_application(id_number=WANG)])
    refused(NotPermitted, rt, rt.relief.allocate, auditor, COUNTY, WS, PERIOD, "central", 100, "审计文")
    refused(NotPermitted, rt, rt.relief.give_back, auditor, fund(rt).id, 100, "文", "收回")
    refused(NotPermitted, rt, rt.relief.assess, auditor, case_id, "记录", True, HELD_ON)
    refused(NotPermitted, rt, rt.relief.reject, auditor, case_id, "驳回")
    refused(NotPermitted, rt, rt.relief.withdraw, auditor, case_id, "撤回")
    refused(NotPermitted, rt, pay, rt, auditor, case_id, 10_000)
    refused(NotPermitted, rt, rt.relief.payment_came_back, auditor, case_id, "p", "退回", False)
    refused(NotPermitted, rt, rt.relief.issue_goods, auditor, case_id, "棉被", 1, 100, evidence=PHOTO)
    assert rt.relief.get(auditor, case_id).id == case_id
    assert rt.relief.fund(auditor, fund(rt).id).balance == 1_000_000 - 10_000


def test_unmasked_personal_data_is_for_county_and_relief_officers_and_each_read_is_recorded(rt, staff):
    case_id = applied(rt, staff)
    for who in ("township", "city", "auditor", "province"):
        refused(NotPermitted, rt, rt.relief.reveal, getattr(staff, who), case_id, "核对")
    refused(InvalidInput, rt, rt.relief.reveal, staff.county, case_id, "  ")
    before = rt.position()
    assert rt.relief.reveal(staff.relief, case_id, "核对一卡通账号").id_number == ZHANG
    assert rt.position() == before + 1
    [notification] = rt.app.recorder.select_notifications(start=before + 1, limit=10)
    assert notification.topic.endswith("PersonalDataViewed.Viewed")


# --- configured rules ------------------------------------------------------------------------------


def rules_file(
    tmp_path: Path, posting_days: int = 10, winter_spring: str = 'per = "household"\nyuan = 500'
) -> Path:
    caps = "\n".join(
        f'[caps.{p}]\nper = "person"\nyuan = 100'
        for p in ("emergency", "transitional", "bereavement", "drought", "housing")
    )
    path = tmp_path / "relief.toml"
    path.write_text(
        f'version = "响水县-2024.2"\nposting_min_days = {posting_days}\n'
        f"[caps.winter_spring]\n{winter_spring}\n{caps}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def configured(tmp_path: Path) -> Iterator[LedgerRuntime]:
    config = LedgerConfig(
        persistence={}, token_pepper=b"test", clock=a_clock(), relief_rules_file=rules_file(tmp_path)
    )
    runtime = LedgerRuntime(config, areas=area_table())
    yield runtime
    runtime.close()


def test_a_configured_rules_file_changes_the_posting_days(configured):
    township = an_account(configured, "township", XIANGSHUI)
    case_id = configured.relief.apply(township, an_application()).id
    configured.relief.assess(township, case_id, "记录", True, HELD_ON)
    error = refused(
        InvalidInput,
        configured,
        configured.relief.post,
        township,
        case_id,
        day(0),
        day(8),
        "公开栏",
    )  # 9 days: enough by default, not here
    assert "10" in error.fields[0].message
    configured.relief.post(township, case_id, day(0), day(9), "公开栏")
    assert case(configured, case_id).stage is Stage.POSTED


def test_a_configured_rules_file_changes_the_caps_and_is_recorded_in_the_approval(configured):
    township = an_account(configured, "township", XIANGSHUI)
    county = an_account(configured, "county", COUNTY)
    case_id = configured.relief.apply(township, an_application(people_in_need=3)).id
    configured.relief.assess(township, case_id, "记录", True, HELD_ON)
    configured.relief.post(township, case_id, day(0), day(9), "公开栏")
    later(configured, days=11)
    configured.relief.township_review(township, case_id)
    error = refused(InvalidInput, configured, configured.relief.approve, county, case_id, 60_000, None)
    assert error.details == {"cap_fen": 50_000, "standard": "winter_spring/national"}  # per household now
    configured.relief.approve(county, case_id, 50_000, None)
    [approval] = [e for e in configured.app.events.get(case_id) if type(e).__name__ == "CountyApproved"]
    assert approval.rules_version == "响水县-2024.2"


def test_the_default_rules_are_the_shipped_ones():
    rules = ReliefRules.load()
    assert rules.posting_min_days == 7
    assert rules.caps["winter_spring"].for_household(3) == 3 * PER_PERSON_CAP
    assert rules.caps["housing"].for_household(5) == HOUSING_CAP


@pytest.mark.parametrize("winter_spring", ['per = "family"\nyuan = 500', 'per = "person"', ""])
def test_a_rules_file_with_a_bad_or_missing_cap_is_refused_at_start(tmp_path, winter_spring):
    path = rules_file(tmp_path, winter_spring=winter_spring)
    if not winter_spring:
        path.write_text(
            path.read_text(encoding="utf-8").replace("[caps.winter_spring]\n", ""), encoding="utf-8"
        )
    with pytest.raises(ValueError):
        ReliefRules.load(path)


# --- apply_many: an import is all or nothing ------------------------------------------------------


def test_an_import_saves_every_application(rt, staff):
    ids = rt.relief.apply_many(
        staff.township,
        [
            an_application(),
            an_application(id_number=LI, head_name="李四"),
            an_application(id_number=WANG, head_name="王五", village=OTHER_VILLAGE),
        ],
    )
    assert len(set(ids)) == 3
    assert [case(rt, i).head_name for i in ids] == ["张三", "李四", "王五"]
    refused(Conflict, rt, rt.relief.apply, staff.township, an_application(id_number=LI))


def test_an_import_with_one_invalid_application_saves_nothing(rt, staff):
    before = rt.position()
    with pytest.raises(InvalidInput):
        rt.relief.apply_many(
            staff.township,
            [
                an_application(),
                an_application(id_number=LI, people_in_need=9),
                an_application(id_number=WANG),
            ],
        )
    assert rt.position() == before
    assert rt.relief.apply(staff.township, an_application()).status == 201  # the first was not claimed


def test_an_import_with_one_head_already_open_saves_nothing(rt, staff):
    existing = applied(rt, staff, id_number=LI)
    error = refused(
        Conflict,
        rt,
        rt.relief.apply_many,
        staff.township,
        [
            an_application(),
            an_application(id_number=LI),
            an_application(id_number=WANG),
        ],
    )
    assert error.code == "duplicate_case"
    assert error.details == {"existing_id": str(existing)}
    assert rt.relief.apply(staff.township, an_application()).status == 201


def test_an_import_naming_the_same_head_twice_is_refused(rt, staff):
    error = refused(
        InvalidInput,
        rt,
        rt.relief.apply_many,
        staff.township,
        [
            an_application(id_number=ZHAO),
            an_application(id_number=ZHAO.lower(), village=OTHER_VILLAGE),
        ],
    )
    assert error.code == "duplicate_in_file"


def test_an_import_with_one_village_outside_the_township_saves_nothing(rt, staff):
    refused(
        NotPermitted,
        rt,
        rt.relief.apply_many,
        staff.township,
        [
            an_application(),
            an_application(id_number=LI, village=CHENJIAGANG_VILLAGE),
        ],
    )


def test_an_import_naming_the_same_head_in_two_programmes_flags_both_for_review(rt, staff):
    ids = rt.relief.apply_many(
        staff.township, [an_application(), replace(an_application(), programme="transitional")]
    )
    assert [case(rt, i).review_flags for i in ids] == [["also_in:transitional"], ["also_in:winter_spring"]]


def test_the_same_give_back_document_cannot_be_recorded_twice(rt, staff):
    fid = a_fund(rt, staff, amount=300_000)
    rt.relief.give_back(staff.county, fid, 100_000, "响财〔2024〕3号", "结余资金收回")
    error = refused(
        Conflict, rt, rt.relief.give_back, staff.county, fid, 100_000, "响财〔2024〕3号", "结余资金收回"
    )
    assert error.code == "duplicate_document"
    assert fund(rt).balance == 200_000
