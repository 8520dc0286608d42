"""The accountability report (问责报告), on SQLite and PostgreSQL: one scripted scenario, every section.

The real clock runs (events are stamped with the wall clock), so the scenario
is set relative to now: a 初报 filed 5 h after the disaster occurred (迟报 by
3 h), a 续报 whose jump carries a written explanation, a 驳回 of it by the
city, a second process filed 4 h late, whose date is corrected (勘误) 30 days
back and which is then retracted (核销); relief in 响水县 with an approval above
the standard, a returned and a reversed payment, a reveal of personal data and
an export; and the same kinds of facts in another county (九龙坡区 500107) that
must not appear.

`scenario` is shared with tests/api/test_accountability_api.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.files.accountability import check_jsonl, sealed_report, to_jsonl, to_xlsx
from ledger.audit.accountability import build_report, require_report_reader
from ledger.audit.accountability_scan import scrub
from ledger.audit.accountability_sections import SECTION_KEYS, SECTIONS
from ledger.audit.seal import parse_digest
from ledger.disasters.inputs import Correction, FiguresReport, InitialReport
from ledger.relief.applications import Application
from ledger.runtime import LedgerRuntime
from ledger.store.errors import InvalidInput, NotPermitted
from projections.audit.seal import Sealer
from tests.unit.builders import actor
from tests.unit.test_personal import gb11643, luhn_complete

CHINA = ZoneInfo("Asia/Shanghai")
COUNTY = "320921"  # 响水县
OTHER = "500107"  # 九龙坡区 (in the seed; outside 盐城)
VILLAGE_A = "320921100001"  # 响水镇 东园居委会
VILLAGE_B = "320921101001"  # 陈家港镇 海安居委会
OTHER_VILLAGE = "500107001001"
PERIOD = f"{datetime.now(CHINA).year}-{datetime.now(CHINA).year + 1}"  # the season of this winter

ZHANG = gb11643("32092119800101123")
LI = gb11643("32092119751212246")
ZHAO = gb11643("32092119850301006")
PHONE = "13800138000"
CARD = luhn_complete("621700001001234567")
NAMES = ("张三", "李四", "赵六", "东园居委会 12 号")
CLEAR = (ZHANG, LI, ZHAO, PHONE, CARD, "19800101", "19751212", "19850301", CARD[:12], "00138", *NAMES)

county = actor("county", COUNTY, "xs-county")
city = actor("city", "3209", "yc-city")
township = actor("township", "320921100", "xs-township")
township_b = actor("township", "320921101", "cjg-township")
relief_officer = actor("relief_officer", COUNTY, "xs-relief")
other_county = actor("county", OTHER, "jlp-county")
other_township = actor("township", "500107001", "jlp-township")

REVEAL_PURPOSE = f"户主电话 {PHONE} 无法接通，核对一卡通账号后发放"


@dataclass(frozen=True)
class Scenario:
    late: UUID  # D1: 初报 3 h late, 续报 with a jump, 驳回 of the 续报
    corrected: UUID  # D2: 初报 2 h late, 勘误 of the date (30 days back), 核销
    other: UUID  # D3 in another county
    case_above: UUID  # approved above the standard; one payment returned, one reversed; revealed
    case_within: UUID
    other_case: UUID
    started: datetime
    today: date
    old_date: date  # D2's corrected disaster date


def _application(village: str, name: str, id_number: str) -> Application:
    return Application(
        programme="winter_spring", period=PERIOD, village=village, head_name=name, id_number=id_number,
        phone=PHONE, card_number=CARD, household_type="低保户", household_size=4, people_in_need=3,
        address="响水镇东园居委会 12 号", causes=["倒房"], needs=["口粮"],
    )


@contextmanager
def recorded_at(moment: datetime) -> Iterator[None]:
    """Record the events of the block at `moment` (the library's clock, replaced for this test only)."""
    import eventsourcing.domain as domain

    real = domain.datetime_now_with_tzinfo
    domain.datetime_now_with_tzinfo = lambda: moment.astimezone(UTC)  # type: ignore[assignment]
    try:
        yield
    finally:
        domain.datetime_now_with_tzinfo = real  # type: ignore[assignment]


def _approved_case(rt: LedgerRuntime, village: str, name: str, id_number: str, filer: Any, approver: Any,
                   amount: int, reason: str | None) -> UUID:
    today = rt.now().astimezone(CHINA).date()
    case = rt.relief.apply(filer, replace(_application(village, name, id_number),
                                          applied_on=today - timedelta(days=10))).id
    rt.relief.assess(filer, case, "村民代表会议记录", True, today - timedelta(days=9))
    with recorded_at(rt.now() - timedelta(days=8)):  # the posting was entered eight days ago
        rt.relief.post(filer, case, today - timedelta(days=8), today - timedelta(days=2), "村务公开栏",
                       "纸质公示已于八天前张贴，系统补录")
    rt.relief.township_review(filer, case)
    rt.relief.approve(approver, case, amount, reason)
    return case


def scenario(rt: LedgerRuntime) -> Scenario:
    now = rt.now()
    today = now.astimezone(CHINA).date()
    old_date = today - timedelta(days=30)
    ds = rt.disasters

    late = ds.file_initial(county, InitialReport(
        county=COUNTY, hazard="flood", subtype="river_flood", occurred_at=now - timedelta(hours=5),
        figures={"320921100": {"affected_population": 100}}, text="暴雨致农田受淹")).id
    ds.file_follow_up(county, late, FiguresReport(
        figures={"320921100": {"affected_population": 1000}}, as_of=now - timedelta(hours=1),
        explanation="山洪暴发，转移安置人数激增"))
    ds.return_report(city, late, 2, "续报数据与乡镇台账不符，请核实后重报")

    corrected = ds.file_initial(township, InitialReport(
        county=COUNTY, hazard="wind_hail", occurred_at=now - timedelta(hours=4),
        figures={"320921100": {"affected_population": 20}})).id
    ds.correct(county, corrected, Correction(reason="发生日期录入错误", disaster_date=old_date))
    ds.retract(county, corrected, "经核查系重复报送")

    other = ds.file_initial(other_county, InitialReport(
        county=OTHER, hazard="flood", subtype="river_flood", occurred_at=now - timedelta(hours=5),
        figures={"500107001": {"affected_population": 50}})).id
    ds.file_follow_up(other_county, other, FiguresReport(
        figures={"500107001": {"affected_population": 500}}, as_of=now - timedelta(hours=1), explanation="激增"))
    ds.correct(other_county, other, Correction(reason="文字有误", text="改正后的文字"))
    ds.retract(other_county, other, "重复")

    rf = rt.relief
    rf.allocate(county, COUNTY, "winter_spring", PERIOD, "central", 1_000_000, "苏财社〔2025〕88号")
    above = _approved_case(rt, VILLAGE_A, "张三", ZHANG, township, county, 120_000, "因病致贫，经县局集体研究同意超标准救助")
    rf.pay(county, above, 120_000, "2026-01-批次03", "NX0001", payment_id="pay-1")
    rf.payment_came_back(county, above, "pay-1", "账户已销户", reversal=False)
    rf.pay(county, above, 120_000, "2026-01-批次04", "NX0002", payment_id="pay-2")
    rf.payment_came_back(county, above, "pay-2", "重复发放冲正", reversal=True)
    within = _approved_case(rt, VILLAGE_B, "李四", LI, township_b, relief_officer, 60_000, None)
    rf.reveal(county, above, REVEAL_PURPOSE)
    rf.record_export(relief_officer, "winter_spring", PERIOD, COUNTY, "发放前核对花名册")

    rf.allocate(other_county, OTHER, "winter_spring", PERIOD, "central", 1_000_000, "渝财社〔2025〕1号")
    other_case = _approved_case(rt, OTHER_VILLAGE, "赵六", ZHAO, other_township, other_county, 100_000, "特殊困难")
    rf.pay(other_county, other_case, 100_000, "批次1", "NX0003", payment_id="pay-9")
    rf.payment_came_back(other_county, other_case, "pay-9", "账户冻结", reversal=False)
    rf.reveal(other_county, other_case, "核对")
    rf.record_export(other_county, "winter_spring", PERIOD, OTHER, "核对花名册")
    return Scenario(late, corrected, other, above, within, other_case, now, today, old_date)


# --- what the scenario must give, section by section ----------------------------------------------------

EXPECTED_ACTIONS = {
    ("xs-county", "county", "320921000000"): {
        "Disaster.InitialReportFiled": 1, "Disaster.FollowUpReportFiled": 1, "Disaster.Corrected": 1,
        "Disaster.Retracted": 1, "ReliefFund.Opened": 1, "ReliefFund.Allocated": 1, "ReliefCase.CountyApproved": 1,
        "ReliefCase.PaymentMade": 2, "ReliefFund.Debited": 2, "ReliefCase.PaymentReturned": 1,
        "ReliefCase.PaymentReversed": 1, "ReliefFund.Credited": 2, "PersonalDataViewed.Viewed": 1,
    },
    ("yc-city", "city", "320900000000"): {"Disaster.ReportReturned": 1},
    ("xs-township", "township", "320921100000"): {
        "Disaster.InitialReportFiled": 1, "ReliefCase.Applied": 1, "ReliefCase.VillageAssessed": 1,
        "ReliefCase.TownshipReviewed": 1,  # the posting was recorded eight days before the period
    },
    ("cjg-township", "township", "320921101000"): {
        "ReliefCase.Applied": 1, "ReliefCase.VillageAssessed": 1, "ReliefCase.TownshipReviewed": 1,
    },
    ("xs-relief", "relief_officer", "320921000000"): {
        "ReliefCase.CountyApproved": 1, "PersonalDataExported.Exported": 1,
    },
}


def actions(report: Any) -> dict[tuple[str, str, str], dict[str, int]]:
    out: dict[tuple[str, str, str], dict[str, int]] = {}
    for row in report.sections["actions_per_account"] if hasattr(report, "sections") else report:
        out.setdefault((row["actor"], row["actor_role"], row["actor_unit"]), {})[row["event_type"]] = row["count"]
    return out


def assert_scenario_sections(sections: dict[str, list[dict[str, Any]]], s: Scenario,
                             extra_actions: dict[tuple[str, str, str], dict[str, int]] | None = None) -> None:
    """Every section of the 响水县 report for a period around today holds exactly the scenario's rows."""
    late = sections["late_and_missing"]
    assert [(r["disaster_id"], r["rule"], r["status"]) for r in late] == [(str(s.late), "initial.county", "late")]
    flag = late[0]
    assert (flag["county"], flag["county_name"], flag["hazard"], flag["level"], flag["unit"]) == (
        COUNTY, "响水县", "flood", "county", "320921000000")
    assert flag["rule_name"] == "县级初报 (2 小时内)" and flag["status_name"] == "迟报"
    assert flag["report_number"] == 1 and flag["rules_version"] == "deadlines-default-2026.2"
    assert 3 * 3600 <= flag["delay_seconds"] < 3 * 3600 + 300
    due = datetime.fromisoformat(flag["due_at"])
    assert abs(due - (s.started - timedelta(hours=3))) < timedelta(seconds=2)
    assert datetime.fromisoformat(flag["arrived_at"]) > due

    corrections = sections["corrections"]
    assert len(corrections) == 1
    c = corrections[0]
    assert (c["disaster_id"], c["changed"], c["reason"], c["actor"], c["actor_role"], c["actor_unit"]) == (
        str(s.corrected), "disaster_date, occurred_at", "发生日期录入错误", "xs-county", "county", "320921000000")
    # a corrected date moves the start time with it (same time of day), so the deadlines follow the date
    assert c["changes"].startswith(
        f"灾害日期 disaster_date: {(s.started - timedelta(hours=4)).astimezone(CHINA).date()} → {s.old_date}")
    assert c["disaster_date"] == s.old_date.isoformat()

    assert [(r["disaster_id"], r["reason"], r["actor"]) for r in sections["retractions"]] == [
        (str(s.corrected), "经核查系重复报送", "xs-county")]

    returns = sections["returns"]
    assert [(r["disaster_id"], r["report_number"], r["report_kind"], r["filed_by"], r["reason"], r["actor"],
             r["actor_unit"]) for r in returns] == [
        (str(s.late), 2, "follow_up", "xs-county", "续报数据与乡镇台账不符，请核实后重报", "yc-city", "320900000000")]

    jumps = sections["jumps"]
    assert [(r["disaster_id"], r["report_number"], r["township"], r["township_name"], r["indicator"],
             r["indicator_name"], r["previous"], r["reported"], r["kind"], r["explanation"], r["actor"])
            for r in jumps] == [
        (str(s.late), 2, "320921100", "响水镇", "affected_population", "受灾人口", "100", "1000", "surge",
         "山洪暴发，转移安置人数激增", "xs-county")]

    above = sections["above_standard"]
    assert [(r["case_id"], r["village"], r["village_name"], r["amount_fen"], r["amount_yuan"], r["cap_fen"],
             r["cap_yuan"], r["reason"], r["actor"]) for r in above] == [
        (str(s.case_above), VILLAGE_A, "东园居委会", 120_000, "1200.00", 90_000, "900.00",
         "因病致贫，经县局集体研究同意超标准救助", "xs-county")]
    assert above[0]["rules_version"] == "relief-default-2026.2"

    comebacks = sections["returned_or_reversed"]
    assert [(r["case_id"], r["payment_id"], r["amount_fen"], r["amount_yuan"], r["kind"], r["kind_name"],
             r["reason"], r["actor"]) for r in comebacks] == [
        (str(s.case_above), "pay-1", 120_000, "1200.00", "returned", "退回", "账户已销户", "xs-county"),
        (str(s.case_above), "pay-2", 120_000, "1200.00", "reversed", "冲正", "重复发放冲正", "xs-county"),
    ]

    access = sections["access_log"]
    assert [(r["kind"], r["case_id"], r["village"], r["area"], r["actor"], r["actor_role"]) for r in access] == [
        ("viewed", str(s.case_above), VILLAGE_A, None, "xs-county", "county"),
        ("exported", None, None, COUNTY, "xs-relief", "relief_officer"),
    ]
    assert access[0]["purpose"] == "户主电话 *******8000 无法接通，核对一卡通账号后发放"  # a typed number, masked
    assert access[1]["purpose"] == "发放前核对花名册"
    assert (access[1]["programme"], access[1]["period"]) == ("winter_spring", PERIOD)

    expected = {**EXPECTED_ACTIONS, **(extra_actions or {})}
    assert actions(sections["actions_per_account"]) == expected
    for section in SECTIONS:
        for row in sections[section.key]:
            assert list(row) == [key for key, _ in section.columns], section.key


def assert_no_clear_personal_data(text: str) -> None:
    for value in CLEAR:
        assert value not in text, value


def xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(name).decode("utf-8") for name in z.namelist())


# --- tests ---------------------------------------------------------------------------------------------


def test_each_section_has_exactly_the_scenario_rows_of_the_area(runtime):
    s = scenario(runtime)
    head = runtime.position()
    report = build_report(runtime, COUNTY, s.today - timedelta(days=2), s.today)
    assert runtime.position() == head  # reading writes nothing
    assert report.position == head
    assert (report.area, report.area_name) == (COUNTY, "响水县")
    assert_scenario_sections(report.sections, s)
    meta = report.metadata()
    assert meta["period"] == {"from": str(s.today - timedelta(days=2)), "to": str(s.today)}
    assert meta["rules_versions"]["deadlines"] == "deadlines-default-2026.2"
    assert meta["counts"] == {
        "late_and_missing": 1, "corrections": 1, "retractions": 1, "returns": 1, "jumps": 1, "above_standard": 1,
        "returned_or_reversed": 2, "access_log": 2, "actions_per_account": 23, "account_rights": 0,
        # sections from read models come with `sealed_report` (sources), not this scan: empty here
        "accident_clocks": 0, "accident_regradings": 0, "accident_findings": 0, "accident_late_supplements": 0,
        "backdated_postings": 0, "household_matches": 0, "relief_late_steps": 0, "season_deadlines": 0,
        "relief_timeliness": 0, "equal_amounts": 0, "housing_above_standard": 0, "housing_reconciliation": 0,
    }
    assert_no_clear_personal_data(json.dumps(report.as_dict(), ensure_ascii=False))


def test_another_county_is_never_included_and_a_city_report_covers_its_counties(runtime):
    s = scenario(runtime)
    period = (s.today - timedelta(days=2), s.today)
    text = json.dumps(build_report(runtime, COUNTY, *period).as_dict(), ensure_ascii=False)
    for foreign in (str(s.other), str(s.other_case), OTHER, "jlp-county", "jlp-township", "特殊困难", "账户冻结"):
        assert foreign not in text
    city_report = build_report(runtime, "3209", *period)  # 响水县 is the seed's only county of 盐城
    assert city_report.area_name == "盐城市"
    assert_scenario_sections(city_report.sections, s)
    province_report = build_report(runtime, "32", *period)
    assert_scenario_sections(province_report.sections, s)

    other = build_report(runtime, OTHER, *period)
    assert [r["disaster_id"] for r in other.sections["late_and_missing"]] == [str(s.other)]
    assert [r["reason"] for r in other.sections["retractions"]] == ["重复"]
    assert [r["case_id"] for r in other.sections["above_standard"]] == [str(s.other_case)]
    assert [r["kind"] for r in other.sections["access_log"]] == ["viewed", "exported"]
    assert {r["actor"] for r in other.sections["actions_per_account"]} == {"jlp-county", "jlp-township"}


def test_the_period_filters_events_by_recorded_date_and_deadlines_by_disaster_date(runtime):
    s = scenario(runtime)
    old = build_report(runtime, COUNTY, s.old_date - timedelta(days=1), s.old_date + timedelta(days=1))
    # the corrected process's disaster date is now 30 days back: its late 初报 belongs to that period …
    assert [(r["disaster_id"], r["rule"], r["status"], r["disaster_date"]) for r in
            old.sections["late_and_missing"]] == [(str(s.corrected), "initial.county", "late", s.old_date.isoformat())]
    assert old.sections["late_and_missing"][0]["delay_seconds"] >= 29 * 86400  # filed today for a date 30 days back
    # … while every event was recorded today
    assert all(old.sections[key] == [] for key in SECTION_KEYS if key != "late_and_missing")

    future = build_report(runtime, COUNTY, s.today + timedelta(days=1), s.today + timedelta(days=5))
    assert future.counts() == dict.fromkeys(SECTION_KEYS, 0)
    today = build_report(runtime, COUNTY, s.today, s.today)
    assert today.counts()["returned_or_reversed"] == 2 and today.counts()["access_log"] == 2


def test_a_report_up_to_a_position_reads_only_the_log_up_to_it(runtime):
    s = scenario(runtime)
    head = runtime.position()
    runtime.relief.reveal(county, s.case_above, "再次核对")
    assert build_report(runtime, COUNTY, s.today, s.today, upto=head).counts()["access_log"] == 2
    assert build_report(runtime, COUNTY, s.today, s.today).counts()["access_log"] == 3


def test_bad_areas_and_periods_are_refused(runtime):
    today = date.today()
    for area in ("320921100", "320921100001", "329999", "abc"):
        with pytest.raises(InvalidInput):
            build_report(runtime, area, today, today)
    with pytest.raises(InvalidInput) as refused:
        build_report(runtime, COUNTY, today, today - timedelta(days=1))
    assert refused.value.fields[0].field == "date_from"


@pytest.mark.parametrize("who, area", [
    (actor("auditor", "3209"), "3209"), (actor("auditor", "3209"), COUNTY), (actor("county", COUNTY), COUNTY),
    (actor("city", "3209"), COUNTY), (actor("province", "32"), "32"),
])
def test_auditors_and_the_chain_above_the_township_may_read_within_scope(who, area):
    require_report_reader(who, area)


@pytest.mark.parametrize("who, area", [
    (actor("township", "320921100"), COUNTY), (actor("relief_officer", COUNTY), COUNTY),
    (actor("admin", "32"), COUNTY), (actor("auditor", "3209"), "32"), (actor("auditor", "3209"), "3202"),
    (actor("county", COUNTY), "3209"), (actor("county", COUNTY), "320922"),
])
def test_everyone_else_or_outside_the_scope_is_refused(who, area):
    with pytest.raises(NotPermitted):
        require_report_reader(who, area)


def test_scrub_masks_long_digit_runs_only():
    assert scrub(f"身份证 {ZHANG} 电话{PHONE} 苏财社〔2025〕88号") == (
        f"身份证 {'*' * 14}{ZHANG[-4:]} 电话*******8000 苏财社〔2025〕88号")
    assert scrub(None) is None


def test_the_bundle_is_sealed_checkable_and_free_of_personal_data(runtime):
    s = scenario(runtime)
    report = sealed_report(runtime, COUNTY, s.today - timedelta(days=2), s.today)
    assert len(report.seal) == 1
    digest = parse_digest(report.seal[0])
    assert digest.position == report.position == runtime.position()
    buffer = io.BytesIO()
    rows = to_jsonl(report, buffer, report.seal)
    data = buffer.getvalue()
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    header, body, footer = lines[0], lines[1:-1], lines[-1]
    assert header["type"] == "header" and header["seal"] == report.seal
    assert (header["area"], header["position"], header["period"]) == (COUNTY, report.position, {
        "from": str(s.today - timedelta(days=2)), "to": str(s.today)})
    assert header["counts"] == report.counts() and rows == len(body) == sum(report.counts().values())
    assert footer == {"type": "footer", "rows": rows, "sha256": footer["sha256"]}
    assert check_jsonl(data)
    assert not check_jsonl(data.replace("账户已销户".encode(), "账户已注销".encode()))
    assert not check_jsonl(data.rsplit(b"\n", 2)[0] + b"\n")  # the footer cut off
    assert_scenario_sections({key: [{k: v for k, v in r.items() if k != "type"} for r in body if r["type"] == key]
                              for key in SECTION_KEYS}, s)
    assert_no_clear_personal_data(data.decode("utf-8"))
    with Sealer(runtime) as sealer:
        assert sealer.verify(header["seal"][0]).ok


def test_the_workbook_has_a_cover_and_a_sheet_per_section(runtime):
    s = scenario(runtime)
    report = sealed_report(runtime, COUNTY, s.today - timedelta(days=2), s.today)
    buffer = io.BytesIO()
    assert to_xlsx(report, buffer) == sum(report.counts().values())
    data = buffer.getvalue()
    wb = load_workbook(io.BytesIO(data), read_only=True)
    assert wb.sheetnames == ["封面", *[section.title for section in SECTIONS]]
    cover = [tuple(row) for row in wb["封面"].iter_rows(values_only=True)]
    assert ("封存摘要 seal", report.seal[0]) in cover
    assert ("账本位置 position", report.position) in cover
    for section in SECTIONS:
        rows = list(wb[section.title].iter_rows(values_only=True))
        assert len(rows) == 3 + len(report.sections[section.key]), section.key  # title, subtitle, header
        assert rows[2][0] == f"{section.columns[0][1]}\n{section.columns[0][0]}"
    above = list(wb["超标准核定"].iter_rows(values_only=True))[3]
    keys = [key for key, _ in SECTIONS[5].columns]
    assert above[keys.index("amount_yuan")] == 1200 and above[keys.index("cap_yuan")] == 900
    wb.close()
    assert_no_clear_personal_data(xlsx_text(data))


def test_the_cli_writes_a_sealed_bundle(tmp_path, monkeypatch):
    from api.cli.audit import audit_cli
    from api.settings import Settings

    monkeypatch.setenv("RELIEF_DATA_DIR", str(tmp_path))
    for name in ("RELIEF_DATABASE_URL", "RELIEF_CIPHER_KEY", "RELIEF_TOKEN_PEPPER", "RELIEF_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    with LedgerRuntime(Settings().ledger_config()) as rt:
        s = scenario(rt)
        head = rt.position()
    cli = CliRunner()
    out = tmp_path / "out" / "report.jsonl"
    args = ["report", str(out), "--area", COUNTY, "--from", str(s.today - timedelta(days=2)), "--to", str(s.today)]
    done = cli.invoke(audit_cli, args)
    assert done.exit_code == 0, done.output
    line = done.stdout.strip().splitlines()[-1]
    assert parse_digest(line).position == head
    data = out.read_bytes()
    assert check_jsonl(data) and json.loads(data.splitlines()[0])["seal"] == [line]
    xlsx = tmp_path / "report.xlsx"
    assert cli.invoke(audit_cli, [*args[:1], str(xlsx), *args[2:]]).exit_code == 0
    assert load_workbook(xlsx, read_only=True).sheetnames[0] == "封面"
    assert cli.invoke(audit_cli, [*args, "--format", "csv"]).exit_code == 2
    bad = cli.invoke(audit_cli, ["report", str(out), "--area", "320921100", "--from", "2026-01-01", "--to", "2026-01-02"])
    assert bad.exit_code == 1
    assert cli.invoke(audit_cli, [*args[:4], "--from", "2026-02-30", "--to", "2026-03-01"]).exit_code == 2
    with LedgerRuntime(Settings().ledger_config()) as rt:
        assert rt.position() == head  # the CLI only read the ledger
