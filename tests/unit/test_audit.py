"""Audit (`ledger.audit.AuditService`): any aggregate as known at a moment, and the diff between versions.

The issue's question — "what figures had the county reported for this flood
at 14:00 on the second day, and what arrived later?" — is told on a clock
the test sets: every event takes its recorded time from
`eventsourcing.domain.datetime_now_with_tzinfo`, which `clock` replaces, so
each command is recorded at a known Beijing time. One test uses the real
clock (short pauses between commands) to check the stored times round-trip.
The answer at a moment must equal the aggregate rebuilt from exactly the
events recorded up to it (`repository.get(id, version=v)`, flattened).
Every test runs on SQLite and on PostgreSQL (the `runtime` fixture).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from ledger.accounts.service import local_operator
from ledger.audit.replay import flatten
from ledger.disasters.inputs import Correction, FiguresReport, InitialReport
from ledger.personal.identifiers import id_check_digit, mask_card, mask_id, mask_phone
from ledger.relief.applications import Application
from ledger.relief.fund import fund_id
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor, Role
from ledger.store.errors import NotFound, NotPermitted

BEIJING = ZoneInfo("Asia/Shanghai")
COUNTY = "320921"  # 响水县
OTHER_COUNTY = "320922"  # 滨海县 (盐城)
XIANGSHUI = "320921100"  # 响水镇 (the township account's)
CHENJIAGANG = "320921101"  # 陈家港镇
DONGYUAN = "320921100001"  # 东园居委会 (响水镇)
HAIAN = "320921101001"  # 海安居委会 (陈家港镇)
WS = "winter_spring"
PERIOD = f"{datetime.now(BEIJING).year}-{datetime.now(BEIJING).year + 1}"  # the season of this winter

EXPLAIN_CJG = "陈家港镇首次报送"
EXPLAIN_V4 = "据乡镇核实后的最新统计，数据变化属实"
EXPLAIN_V5 = "转移安置人口计入受灾人口，数据激增属实"
CORRECTION_REASON = "灾情描述漏写陈家港镇，予以勘误"


def bj(day: int, hour: int, minute: int = 0, month: int = 7) -> datetime:
    """A Beijing time in 2025."""
    return datetime(2025, month, day, hour, minute, tzinfo=BEIJING)


# --- the clock events are recorded by ---------------------------------------------------------------------


class Clock:
    """Replaces eventsourcing's `datetime_now_with_tzinfo`: every event is recorded at `at` (in UTC)."""

    def __init__(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(bj(1, 8))
    monkeypatch.setattr("eventsourcing.domain.datetime_now_with_tzinfo", c)
    return c


@pytest.fixture
def officers(runtime: LedgerRuntime, tokens: dict[str, str]) -> dict[str, Actor]:
    """The test accounts (township 320921100, county 320921, city 3209, auditor 3209, relief officer 320921, …)."""
    return {role: runtime.accounts.authenticate(token) for role, token in tokens.items()}


def an_officer(runtime: LedgerRuntime, role: str, scope: str) -> Actor:
    name = f"{role}-{scope}"
    runtime.accounts.register(local_operator(), name, role, scope)
    token, _ = runtime.accounts.issue_token(local_operator(), name)
    return runtime.accounts.authenticate(token)


def expected(runtime: LedgerRuntime, aggregate_id: UUID, version: int, masked: bool = True,
             township: str | None = None) -> dict[str, Any]:
    """The state rebuilt from exactly the first `version` events, as the audit flattens it."""
    if version == 0:
        return {}
    state = flatten(runtime.app.repository.get(aggregate_id, version=version), masked=masked)
    if township is not None:
        state = {k: v for k, v in state.items() if not k.startswith("figures.") or k.split(".")[1] == township}
    return state


def versions(events: list[Any]) -> list[int]:
    return [e.originator_version for e in events]


# --- the flood of 2025-07-08 in 响水县 ------------------------------------------------------------------------

SECOND_DAY_14H = bj(9, 14)


@dataclass
class Flood:
    id: UUID
    recorded: dict[int, datetime]  # version → recorded time (Beijing)
    at: datetime = SECOND_DAY_14H  # 14:00 on the second day
    explanations: dict[int, str] = field(default_factory=dict)


def file_flood(runtime: LedgerRuntime, officers: dict[str, Actor], clock: Clock) -> Flood:
    """初报 by 响水镇 (1200 people), accepted by the county; 续报 adding 陈家港镇 (300); 续报 响水镇 1500 at
    13:30 on the second day; — 14:00 — 续报 响水镇 5000 at 21:00; 勘误 of the text by the city next morning."""
    d = runtime.disasters
    recorded = {1: bj(8, 8), 2: bj(8, 9), 3: bj(8, 19), 4: bj(9, 13, 30), 5: bj(9, 21), 6: bj(10, 9)}
    clock.set(recorded[1])
    flood_id = d.file_initial(officers["township"], InitialReport(
        county=COUNTY, hazard="flood", subtype="river_flood", occurred_at=bj(8, 6, 30), text="响水镇暴雨内涝",
        figures={XIANGSHUI: {"affected_population": 1200, "direct_loss_10k_yuan": "560.25"}},
    )).id
    clock.set(recorded[2])
    d.accept(officers["county"], flood_id, 1)
    clock.set(recorded[3])
    d.file_follow_up(officers["county"], flood_id, FiguresReport(
        figures={CHENJIAGANG: {"affected_population": 300}}, as_of=bj(8, 18), explanation=EXPLAIN_CJG))
    clock.set(recorded[4])
    d.file_follow_up(officers["county"], flood_id, FiguresReport(
        figures={XIANGSHUI: {"affected_population": 1500, "direct_loss_10k_yuan": "600.50"}}, as_of=bj(9, 12),
        explanation=EXPLAIN_V4))
    clock.set(recorded[5])
    d.file_follow_up(officers["county"], flood_id, FiguresReport(
        figures={XIANGSHUI: {"affected_population": 5000}}, as_of=bj(9, 20), explanation=EXPLAIN_V5))
    clock.set(recorded[6])
    d.correct(officers["city"], flood_id, Correction(reason=CORRECTION_REASON, text="响水镇、陈家港镇暴雨内涝"))
    return Flood(flood_id, recorded, explanations={3: EXPLAIN_CJG, 4: EXPLAIN_V4, 5: EXPLAIN_V5})


@pytest.fixture
def flood(runtime: LedgerRuntime, officers: dict[str, Actor], clock: Clock) -> Flood:
    return file_flood(runtime, officers, clock)


def test_what_the_county_had_reported_at_14_00_on_the_second_day_and_what_arrived_later(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    known = runtime.audit.as_known_at(officers["county"], flood.id, flood.at)

    assert known.version == 4
    assert known.state == expected(runtime, flood.id, 4, masked=False)
    assert known.state["figures.320921100.affected_population"] == "1500"
    assert known.state["figures.320921100.direct_loss_10k_yuan"] == "600.50"
    assert known.state["figures.320921101.affected_population"] == "300"
    assert known.state["stage"] == "follow_up"
    assert known.state["text"] == "响水镇暴雨内涝"
    assert known.state["report_reviews.1"] == "accepted"  # reports: 1 初报, 2–3 续报 so far
    assert known.state["report_reviews.3"] == "submitted"
    assert "report_reviews.4" not in known.state

    assert versions(known.recorded_after) == [5, 6]
    assert [type(e).__name__ for e in known.recorded_after] == ["FollowUpReportFiled", "Corrected"]
    assert [e.timestamp for e in known.recorded_after] == [flood.recorded[5], flood.recorded[6]]
    assert known.recorded_after[0].explanation == EXPLAIN_V5
    # what the latest state says, for contrast
    now = runtime.audit.as_known_at(officers["county"], flood.id, datetime.now(UTC))
    assert now.version == 6 and now.recorded_after == []
    assert now.state["figures.320921100.affected_population"] == "5000"
    assert runtime.audit.version_at(officers["county"], flood.id, flood.at) == 4


def test_at_every_moment_the_state_is_rebuilt_from_exactly_the_events_recorded_until_then(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    auditor = officers["auditor"]
    for version, recorded in flood.recorded.items():
        for at, known_version in ((recorded - timedelta(microseconds=1), version - 1), (recorded, version),
                                  (recorded + timedelta(minutes=1), version)):
            known = runtime.audit.as_known_at(auditor, flood.id, at)
            assert known.version == known_version, at
            assert known.state == expected(runtime, flood.id, known_version), at
            assert versions(known.recorded_after) == list(range(known_version + 1, 7)), at


def test_before_the_first_event_nothing_had_been_recorded(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    known = runtime.audit.as_known_at(officers["auditor"], flood.id, bj(8, 7, 59))
    assert known.version == 0
    assert known.state == {}
    assert versions(known.recorded_after) == [1, 2, 3, 4, 5, 6]
    assert runtime.audit.diff(officers["auditor"], flood.id, 0, 0) == []


def test_the_stored_recorded_times_on_the_real_clock(runtime: LedgerRuntime, officers: dict[str, Actor]) -> None:
    """No clock replaced: T taken between two commands separated by short pauses."""
    d = runtime.disasters
    occurred = datetime.now(UTC) - timedelta(hours=3)
    before = datetime.now(UTC)
    time.sleep(0.02)
    flood_id = d.file_initial(officers["county"], InitialReport(
        county=COUNTY, hazard="flood", subtype="river_flood", occurred_at=occurred,
        figures={XIANGSHUI: {"affected_population": 10}})).id
    time.sleep(0.02)
    between = datetime.now(UTC)
    time.sleep(0.02)
    d.file_follow_up(officers["county"], flood_id, FiguresReport(
        figures={XIANGSHUI: {"affected_population": 12}}, as_of=occurred + timedelta(hours=1), explanation="核实"))

    assert runtime.audit.as_known_at(officers["county"], flood_id, before).version == 0
    known = runtime.audit.as_known_at(officers["county"], flood_id, between)
    assert known.version == 1
    assert known.state == expected(runtime, flood_id, 1, masked=False)
    assert known.state["figures.320921100.affected_population"] == "10"
    assert versions(known.recorded_after) == [2]
    # the same moment in Beijing time answers the same
    assert runtime.audit.as_known_at(officers["county"], flood_id, between.astimezone(BEIJING)).version == 1
    events = list(runtime.app.events.get(flood_id))
    assert all(e.timestamp.tzinfo is not None for e in events)
    assert before < events[0].timestamp < between < events[1].timestamp


# --- diff -------------------------------------------------------------------------------------------------


def test_the_diff_between_versions_names_each_changed_field(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    changes = runtime.audit.diff(officers["auditor"], flood.id, 3, 5)
    by_field = {(c.version, c.field): c for c in changes}

    people = by_field[(4, "figures.320921100.affected_population")]
    assert (people.old, people.new) == ("1200", "1500")
    assert people.event == "FollowUpReportFiled"
    assert (people.actor, people.unit) == ("test-county", "320921000000")
    assert people.recorded_at == flood.recorded[4]
    assert people.reason == EXPLAIN_V4
    loss = by_field[(4, "figures.320921100.direct_loss_10k_yuan")]
    assert (loss.old, loss.new) == ("560.25", "600.50")
    review = by_field[(4, "report_reviews.3")]  # the version-4 event is report 3
    assert (review.old, review.new) == (None, "submitted")
    jump = by_field[(5, "figures.320921100.affected_population")]
    assert (jump.old, jump.new, jump.reason, jump.recorded_at) == ("1500", "5000", EXPLAIN_V5, flood.recorded[5])
    # only versions 4 and 5, and only the fields that changed
    assert {c.version for c in changes} == {4, 5}
    assert all(c.old != c.new for c in changes)
    assert not any(c.field.startswith("figures.320921101") for c in changes)
    for c in changes:
        before = expected(runtime, flood.id, c.version - 1)
        after = expected(runtime, flood.id, c.version)
        assert (before.get(c.field), after.get(c.field)) == (c.old, c.new)
    # exactly the fields that differ between consecutive versions
    for v in (4, 5):
        before, after = expected(runtime, flood.id, v - 1), expected(runtime, flood.id, v)
        differing = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        assert {c.field for c in changes if c.version == v} == differing


def test_the_diff_names_the_correction_and_its_reason(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    [text] = runtime.audit.diff(officers["auditor"], flood.id, 5, None)  # to the latest
    assert text.field == "text"
    assert (text.old, text.new) == ("响水镇暴雨内涝", "响水镇、陈家港镇暴雨内涝")
    assert (text.version, text.event, text.reason) == (6, "Corrected", CORRECTION_REASON)
    assert (text.actor, text.unit, text.recorded_at) == ("test-city", "320900000000", flood.recorded[6])

    [accepted] = runtime.audit.diff(officers["auditor"], flood.id, 1, 2)
    assert (accepted.field, accepted.old, accepted.new) == ("report_reviews.1", "submitted", "accepted")
    assert (accepted.event, accepted.reason, accepted.actor) == ("ReportAccepted", None, "test-county")


def test_the_diff_between_times_is_the_diff_between_the_versions_known_then(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    audit, auditor = runtime.audit, officers["auditor"]
    start, end = bj(8, 12), flood.at  # noon of the first day → 14:00 of the second
    from_version, to_version = audit.version_at(auditor, flood.id, start), audit.version_at(auditor, flood.id, end)
    assert (from_version, to_version) == (2, 4)
    changes = audit.diff(auditor, flood.id, from_version, to_version)
    assert changes == audit.diff(auditor, flood.id, 2, 4)
    assert {c.version for c in changes} == {3, 4}
    assert all(start < c.recorded_at <= end for c in changes)
    cjg = next(c for c in changes if c.field == "figures.320921101.affected_population")
    assert (cjg.old, cjg.new, cjg.version, cjg.reason) == (None, "300", 3, EXPLAIN_CJG)
    # from the beginning: every field of version 1 appears as new
    first = [c for c in audit.diff(auditor, flood.id, 0, 1)]
    assert {c.field: c.new for c in first} == {k: v for k, v in expected(runtime, flood.id, 1).items() if v is not None}
    assert all(c.old is None and c.event == "InitialReportFiled" and c.actor == "test-township" for c in first)
    assert first[0].unit == "320921100000"


# --- scope ------------------------------------------------------------------------------------------------


def test_an_auditor_of_the_city_reads_a_county_process(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    known = runtime.audit.as_known_at(officers["auditor"], flood.id, flood.at)  # scope 3209, process in 320921
    assert known.version == 4 and known.state == expected(runtime, flood.id, 4)


def test_a_county_account_of_another_county_is_refused(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    other = an_officer(runtime, "county", OTHER_COUNTY)
    with pytest.raises(NotPermitted):
        runtime.audit.as_known_at(other, flood.id, flood.at)
    with pytest.raises(NotPermitted):
        runtime.audit.diff(other, flood.id, 0, None)
    with pytest.raises(NotPermitted):
        runtime.audit.version_at(other, flood.id, flood.at)


def test_a_township_account_sees_only_its_townships_figures(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    town = officers["township"]
    known = runtime.audit.as_known_at(town, flood.id, flood.at)
    assert known.version == 4
    assert known.state == expected(runtime, flood.id, 4, township=XIANGSHUI)
    assert known.state["figures.320921100.affected_population"] == "1500"
    assert not any(k.startswith("figures.320921101") for k in known.state)
    changes = runtime.audit.diff(town, flood.id, 0, None)
    assert changes and not any(c.field.startswith("figures.320921101") for c in changes)
    assert {c.version for c in changes} >= {1, 4, 5}

    other_town = an_officer(runtime, "township", CHENJIAGANG)
    theirs = runtime.audit.as_known_at(other_town, flood.id, flood.at).state
    assert theirs == expected(runtime, flood.id, 4, township=CHENJIAGANG)
    assert theirs["figures.320921101.affected_population"] == "300"
    assert not any(k.startswith("figures.320921100") for k in theirs)


def test_an_unknown_id_is_not_found(runtime: LedgerRuntime, officers: dict[str, Actor]) -> None:
    with pytest.raises(NotFound):
        runtime.audit.as_known_at(officers["auditor"], uuid4(), datetime.now(UTC))
    with pytest.raises(NotFound):
        runtime.audit.diff(officers["admin"], uuid4(), 0, None)


# --- relief cases, funds, accounts ------------------------------------------------------------------------------


def an_id_number(seq: int) -> str:
    first17 = f"320921{1950 + seq}0315{100 + seq:03d}"
    return first17 + id_check_digit(first17)


def a_card(seq: int) -> str:
    body = f"6217{seq:014d}"
    for digit in "0123456789":
        total = 0
        for i, d in enumerate(reversed(body + digit)):
            n = int(d) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return body + digit
    raise AssertionError("unreachable")


ID_NUMBER, PHONE, CARD = an_id_number(1), "13900000001", a_card(1)


@dataclass
class Household:
    case_id: UUID
    fund_id: UUID
    recorded: dict[str, datetime]
    at: datetime  # after the assessment, before the posting


def file_household(runtime: LedgerRuntime, officers: dict[str, Actor], clock: Clock) -> Household:
    """Fund: central (v2) and provincial (v3) money, — at — some given back (v4). Case: 户报 (v1), 村评 (v2),
    — at — 公示 (v3), 乡审 (v4), 县定 above the cap with a reason (v5)."""
    relief, town, county, officer = runtime.relief, officers["township"], officers["county"], officers["relief_officer"]
    today = datetime.now(BEIJING).date()
    fund = fund_id(COUNTY, WS, PERIOD)
    recorded = {"allocate": bj(1, 9, month=11), "top_up": bj(2, 9, month=11), "apply": bj(3, 9, month=11),
                "assess": bj(4, 9, month=11), "post": bj(6, 9, month=11), "review": bj(20, 9, month=11),
                "approve": bj(21, 9, month=11), "give_back": bj(22, 9, month=11)}
    clock.set(recorded["allocate"])
    relief.allocate(officer, COUNTY, WS, PERIOD, "central", 500_000, "苏财救〔2025〕1号")
    clock.set(recorded["top_up"])
    relief.allocate(officer, COUNTY, WS, PERIOD, "provincial", 200_000, "苏财救〔2025〕2号")
    clock.set(recorded["apply"])
    case_id = relief.apply(town, Application(
        programme=WS, period=PERIOD, village=DONGYUAN, head_name="张三", id_number=ID_NUMBER, phone=PHONE,
        card_number=CARD, household_type="一般户", household_size=3, people_in_need=2, address="东园 1 号",
        causes=["flood"], needs=["food"], applied_on=today - timedelta(days=30),
    )).id
    clock.set(recorded["assess"])
    relief.assess(town, case_id, "村民代表会议纪要 1 号", True, today - timedelta(days=25))
    clock.set(recorded["post"])
    relief.post(town, case_id, today - timedelta(days=20), today - timedelta(days=10), "村务公开栏",
                "公示照片补录（纸质公示已张贴）")
    clock.set(recorded["review"])
    relief.township_review(town, case_id)
    clock.set(recorded["approve"])
    relief.approve(county, case_id, 150_000, "重点救助: 因灾倒房户")
    clock.set(recorded["give_back"])
    relief.give_back(county, fund, 10_000, "响财〔2025〕9号", "结余收回")
    return Household(case_id, fund, recorded, at=bj(5, 12, month=11))


@pytest.fixture
def household(runtime: LedgerRuntime, officers: dict[str, Actor], clock: Clock) -> Household:
    return file_household(runtime, officers, clock)


def test_a_relief_case_is_masked_for_every_role_in_the_audit(
        runtime: LedgerRuntime, officers: dict[str, Actor], household: Household) -> None:
    """Clear personal data only through the recorded reveal of the relief case, never through the audit."""
    audit, case = runtime.audit, household.case_id
    for role in ("auditor", "city", "province", "township", "admin", "county", "relief_officer"):
        known = audit.as_known_at(officers[role], case, household.at)
        assert known.version == 2, role
        assert known.state == expected(runtime, case, 2, masked=True), role
        assert (known.state["id_number"], known.state["phone"], known.state["card_number"]) == (
            mask_id(ID_NUMBER), mask_phone(PHONE), mask_card(CARD)), role
        assert "id_hash" not in known.state
        assert known.state["stage"] == "assessed" and known.state["head_name"] == "张*"  # names are personal data: audit reads mask them
        assert versions(known.recorded_after) == [3, 4, 5], role
        shown = {str(v) for c in audit.diff(officers[role], case, 0, None) for v in (c.old, c.new)}
        assert mask_id(ID_NUMBER) in shown and not {ID_NUMBER, PHONE, CARD} & shown, role


def test_a_relief_case_diff_carries_the_approvals_reason(
        runtime: LedgerRuntime, officers: dict[str, Actor], household: Household) -> None:
    changes = runtime.audit.diff(officers["auditor"], household.case_id, 4, None)
    fields = {c.field: c for c in changes}
    assert fields["approved_amount"].old == 0 and fields["approved_amount"].new == 150_000
    assert fields["stage"].old == "township_reviewed" and fields["stage"].new == "approved"
    assert {c.reason for c in changes} == {"重点救助: 因灾倒房户"}
    assert {(c.version, c.actor, c.unit, c.recorded_at) for c in changes} == {
        (5, "test-county", "320921000000", household.recorded["approve"])}


def test_a_relief_case_is_scoped_to_its_village(
        runtime: LedgerRuntime, officers: dict[str, Actor], household: Household) -> None:
    with pytest.raises(NotPermitted):
        runtime.audit.as_known_at(an_officer(runtime, "township", CHENJIAGANG), household.case_id, household.at)
    with pytest.raises(NotPermitted):
        runtime.audit.as_known_at(an_officer(runtime, "county", OTHER_COUNTY), household.case_id, household.at)


def test_a_fund_as_known_between_allocations(
        runtime: LedgerRuntime, officers: dict[str, Actor], household: Household) -> None:
    audit, fund = runtime.audit, household.fund_id
    known = audit.as_known_at(officers["auditor"], fund, household.at)
    assert known.version == 3  # opened and allocated (v1, v2), topped up (v3)
    assert known.state == expected(runtime, fund, 3)
    assert (known.state["allocated.central"], known.state["allocated.provincial"]) == (500_000, 200_000)
    assert known.state["withdrawn"] == 0
    assert [type(e).__name__ for e in known.recorded_after] == ["GivenBack"]
    between = audit.as_known_at(officers["auditor"], fund, household.recorded["top_up"] - timedelta(seconds=1))
    assert between.version == 2 and "allocated.provincial" not in between.state
    [documents, withdrawn] = sorted(audit.diff(officers["auditor"], fund, 3, None), key=lambda c: c.field)
    assert (documents.field, withdrawn.field) == ("documents", "withdrawn")
    assert (withdrawn.old, withdrawn.new, withdrawn.reason, withdrawn.event) == (0, 10_000, "结余收回", "GivenBack")
    assert documents.new == ["苏财救〔2025〕1号", "苏财救〔2025〕2号", "响财〔2025〕9号"]
    with pytest.raises(NotPermitted):
        audit.as_known_at(an_officer(runtime, "county", OTHER_COUNTY), fund, household.at)
    assert audit.as_known_at(officers["township"], fund, household.at).version == 3  # the county's fund


def test_an_account_as_known_at_for_auditors_admins_and_itself(
        clock: Clock, runtime: LedgerRuntime, officers: dict[str, Actor]) -> None:
    audit, operator = runtime.audit, local_operator()
    account = officers["township"].account_id  # registered and given a token by the fixture, at clock's start
    clock.set(bj(2, 10))
    runtime.accounts.issue_token(operator, "test-township", label="备用")
    clock.set(bj(3, 10))
    token_id = next(t for t, v in runtime.accounts.get("test-township").tokens.items() if v["label"] == "备用")
    runtime.accounts.revoke_token(operator, "test-township", token_id)
    at = bj(2, 12)

    for reader in (officers["auditor"], officers["admin"], operator, officers["township"]):
        known = audit.as_known_at(reader, account, at)
        assert known.version == 3, reader.username
        assert known.state == expected(runtime, account, 3), reader.username
        assert known.state[f"tokens.{token_id}.revoked"] is False
        assert known.state[f"tokens.{token_id}.label"] == "备用"
        assert not any("hash" in k for k in known.state)
        assert [type(e).__name__ for e in known.recorded_after] == ["TokenRevoked"]
    [revoked] = audit.diff(officers["auditor"], account, 3, None)
    assert (revoked.field, revoked.old, revoked.new, revoked.event) == (f"tokens.{token_id}.revoked", False, True,
                                                                        "TokenRevoked")
    assert revoked.actor == operator.username and revoked.recorded_at == bj(3, 10)
    for role in ("county", "city", "relief_officer"):
        with pytest.raises(NotPermitted):
            audit.as_known_at(officers[role], account, at)


def test_the_local_operator_reads_everything(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood, household: Household) -> None:
    """The CLI acts as the local operator: an admin with an empty scope (masked, as any admin)."""
    operator = local_operator()
    assert operator.role is Role.ADMIN and operator.scope == ""
    assert runtime.audit.as_known_at(operator, flood.id, flood.at).state == expected(runtime, flood.id, 4)
    case = runtime.audit.as_known_at(operator, household.case_id, household.at)
    assert case.state["id_number"] == mask_id(ID_NUMBER)
    assert runtime.audit.as_known_at(operator, household.fund_id, household.at).version == 3
    assert runtime.audit.diff(operator, flood.id, 0, None)
    # any other aggregate (a key claim) is for auditors and admins only
    from ledger.relief.case import CaseClaim

    claim = CaseClaim.create_id(WS, PERIOD, runtime.pii.hash("id_number", ID_NUMBER))
    assert runtime.audit.as_known_at(operator, claim, datetime.now(UTC)).version >= 1
    assert "id_hash" not in runtime.audit.as_known_at(operator, claim, datetime.now(UTC)).state
    with pytest.raises(NotPermitted):
        runtime.audit.as_known_at(officers["county"], claim, datetime.now(UTC))


def test_a_moment_in_any_offset_names_the_same_instant(
        runtime: LedgerRuntime, officers: dict[str, Actor], flood: Flood) -> None:
    assert flood.at.date() == date(2025, 7, 9)  # the second day, in Beijing
    for at in (flood.at, flood.at.astimezone(UTC), flood.at.astimezone(ZoneInfo("America/New_York"))):
        assert runtime.audit.as_known_at(officers["auditor"], flood.id, at).version == 4


# --- known product bugs (strict xfail: they start failing — i.e. passing — when fixed) ---------------------


def test_recorded_times_that_go_backwards_still_give_a_state_the_aggregate_had(
        runtime: LedgerRuntime, officers: dict[str, Actor], clock: Clock) -> None:
    d, county = runtime.disasters, officers["county"]
    clock.set(bj(8, 10))
    flood_id = d.file_initial(county, InitialReport(
        county=COUNTY, hazard="flood", subtype="river_flood", occurred_at=bj(8, 6),
        figures={XIANGSHUI: {"affected_population": 10}})).id
    clock.set(bj(8, 10, 5))
    d.file_follow_up(county, flood_id, FiguresReport(
        figures={CHENJIAGANG: {"affected_population": 5}}, as_of=bj(8, 9), explanation="补报"))
    clock.set(bj(8, 10, 3))  # recorded by a server whose clock is two minutes behind
    d.file_follow_up(county, flood_id, FiguresReport(
        figures={XIANGSHUI: {"affected_population": 12}}, as_of=bj(8, 9, 30), explanation="核实"))

    known = runtime.audit.as_known_at(county, flood_id, bj(8, 10, 4))
    assert known.state == expected(runtime, flood_id, known.version, masked=False)
    assert versions(known.recorded_after) == list(range(known.version + 1, 4))
