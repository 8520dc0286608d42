"""The accountability report (问责报告) of an area and a period, from the event log itself.

One pass over the notification log (in order, up to one position) collects,
for the aggregates that lie in the area and the events recorded in the
period (Beijing civil dates, inclusive):

- `late_and_missing` — 迟报 / 未报: the deadline flags of the processes whose
  disaster date lies in the period, each process rebuilt by replaying its
  events with `projections.disaster_state.apply` and evaluated at "now" with
  the deadline rules in force (`ledger.deadlines.evaluate`);
- `corrections` — 勘误: what changed (old → new), who, which unit, when, why;
- `retractions` — 核销 with the reason;
- `returns` — 驳回 of a report with the reason;
- `jumps` — 激增激减: each jump a 续报 / 核报 recorded, with its written explanation;
- `above_standard` — 县定 above the configured standard, with the written reason;
- `returned_or_reversed` — 退回 / 冲正 of payments, with the reason;
- `access_log` — every read of unmasked personal data (查看) and every roster
  exported with it (导出): who, which case (id and village — never the
  household's personal data), when, why;
- `actions_per_account` — how many events of each type each account recorded.

Where an aggregate lies: a disaster process by its county, a relief case by
its village, a fund by its county, a personal-data read by the village of the
case read, a roster export by its area (when it overlaps the report's area),
an account by its scope. The report covers a province, a city or a county
(2, 4 or 6 digits). Events without an acting account (key claims, token
index, idempotency records) count nowhere.

Rows are plain JSON values (str, int, None): times in Beijing time (ISO 8601
with +08:00), money as integer fen and as exact 元 text. Free text typed by
users (reasons, explanations, purposes, 灾情文字) passes through `scrub`, which
masks any run of ten or more digits (an ID, phone or card number typed into a
reason) to its last four. Nothing is written: building a report only reads.

Who may ask for it: auditors, and county, city and province accounts, for an
area within their scope (`require_report_reader`). Township staff, relief
officers and administrators may not: the report is about their own actions,
and it carries the log of reads of personal data.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from ledger.account import Account
from ledger.actors import Actor, Role
from ledger.areas import AreaCode, Level
from ledger.deadlines import RULE_NAMES, evaluate
from ledger.disaster import Disaster
from ledger.errors import FieldProblem, InvalidInput, NotPermitted
from ledger.relief import PROGRAMME_NAMES, PersonalDataExported, PersonalDataViewed, ReliefCase, ReliefFund
from projections import disaster_state

if TYPE_CHECKING:
    from ledger.application import LedgerRuntime

CHINA = ZoneInfo("Asia/Shanghai")
BATCH = 1000
REPORT_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY)
READER_ROLES = (Role.AUDITOR, Role.COUNTY, Role.CITY, Role.PROVINCE)
FLAGGED = ("late", "missing")
CENT = Decimal("0.01")

REPORT_KIND_NAMES = {"initial": "初报", "follow_up": "续报", "final": "核报"}
STATUS_NAMES = {"late": "迟报", "missing": "未报", "on_time": "按时", "pending": "未到期"}
JUMP_KIND_NAMES = {"surge": "激增", "decrease": "减少"}
COMEBACK_NAMES = {"returned": "退回", "reversed": "冲正"}
ACCESS_NAMES = {"viewed": "查看", "exported": "导出"}
CORRECTABLE = ("disaster_date", "occurred_at", "hazard", "subtype", "text")
CORRECTABLE_NAMES = {"disaster_date": "灾害日期", "occurred_at": "发生时间", "hazard": "灾种",
                     "subtype": "亚灾种", "text": "灾情文字"}

ACTION_NAMES = {
    "Disaster.InitialReportFiled": "初报",
    "Disaster.FollowUpReportFiled": "续报",
    "Disaster.FinalReportFiled": "核报",
    "Disaster.ReportAccepted": "审核通过",
    "Disaster.ReportReturned": "驳回",
    "Disaster.Corrected": "勘误",
    "Disaster.DeclaredStable": "灾情稳定",
    "Disaster.ResponseLevelChanged": "响应级别变更",
    "Disaster.Retracted": "核销",
    "ReliefFund.Opened": "资金建账",
    "ReliefFund.Allocated": "下达资金",
    "ReliefFund.GivenBack": "资金收回",
    "ReliefFund.Debited": "资金支出",
    "ReliefFund.Credited": "资金退回入账",
    "ReliefCase.Applied": "户报",
    "ReliefCase.VillageAssessed": "村评",
    "ReliefCase.Posted": "公示",
    "ReliefCase.ObjectionRaised": "异议",
    "ReliefCase.ObjectionResolved": "异议处理",
    "ReliefCase.TownshipReviewed": "乡审",
    "ReliefCase.CountyApproved": "县定",
    "ReliefCase.Rejected": "驳回（救助）",
    "ReliefCase.Withdrawn": "撤回",
    "ReliefCase.PaymentMade": "发放",
    "ReliefCase.PaymentReturned": "退回",
    "ReliefCase.PaymentReversed": "冲正",
    "ReliefCase.GoodsIssued": "发放物资",
    "PersonalDataViewed.Viewed": "查看个人信息",
    "PersonalDataExported.Exported": "导出个人信息",
    "Account.Registered": "注册账号",
    "Account.TokenIssued": "签发令牌",
    "Account.TokenRevoked": "撤销令牌",
    "Account.Revoked": "停用账号",
}


@dataclass(frozen=True)
class Section:
    key: str
    title: str  # Chinese title (sheet name: at most 31 characters)
    columns: tuple[tuple[str, str], ...]  # (row key, Chinese label)


_ACTOR_COLUMNS = (("actor", "操作账号"), ("actor_role", "角色"), ("actor_unit", "单位"), ("recorded_at", "记录时间"))

SECTIONS: tuple[Section, ...] = (
    Section("late_and_missing", "迟报未报", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("hazard_name", "灾种名称"), ("disaster_date", "灾害日期"), ("rule", "规则"), ("rule_name", "规则名称"),
        ("level", "层级"), ("unit", "责任单位"), ("status", "状态"), ("status_name", "状态名称"),
        ("due_at", "应报时间"), ("arrived_at", "实报时间"), ("delay_seconds", "延误秒数"),
        ("report_number", "报告序号"), ("rules_version", "规则版本"),
    )),
    Section("corrections", "勘误", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("disaster_date", "灾害日期"), ("changed", "更改项"), ("changes", "更改内容（原 → 新）"),
        ("reason", "理由"), *_ACTOR_COLUMNS,
    )),
    Section("retractions", "核销", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("disaster_date", "灾害日期"), ("reason", "理由"), *_ACTOR_COLUMNS,
    )),
    Section("returns", "驳回", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("disaster_date", "灾害日期"), ("report_number", "报告序号"), ("report_kind", "报告类型"),
        ("filed_by", "报送账号"), ("filed_unit", "报送单位"), ("reason", "驳回理由"), *_ACTOR_COLUMNS,
    )),
    Section("jumps", "激增激减", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("report_number", "报告序号"), ("report_kind", "报告类型"), ("as_of", "统计时间"),
        ("township", "乡镇"), ("township_name", "乡镇名称"), ("indicator", "指标"), ("indicator_name", "指标名称"),
        ("previous", "原值"), ("reported", "报送值"), ("kind", "类型"), ("kind_name", "类型名称"),
        ("explanation", "书面说明"), *_ACTOR_COLUMNS,
    )),
    Section("above_standard", "超标准核定", (
        ("case_id", "救助案件"), ("county", "县"), ("village", "村"), ("village_name", "村名"),
        ("programme", "救助项目"), ("programme_name", "项目名称"), ("period", "期间"),
        ("amount_fen", "核定金额（分）"), ("amount_yuan", "核定金额（元）"), ("cap_fen", "标准（分）"),
        ("cap_yuan", "标准（元）"), ("reason", "书面说明"), ("rules_version", "规则版本"), *_ACTOR_COLUMNS,
    )),
    Section("returned_or_reversed", "退回冲正", (
        ("case_id", "救助案件"), ("county", "县"), ("village", "村"), ("village_name", "村名"),
        ("programme", "救助项目"), ("period", "期间"), ("payment_id", "支付编号"), ("batch_id", "批次"),
        ("amount_fen", "金额（分）"), ("amount_yuan", "金额（元）"), ("kind", "类型"), ("kind_name", "类型名称"),
        ("reason", "理由"), *_ACTOR_COLUMNS,
    )),
    Section("access_log", "个人信息访问", (
        ("kind", "类型"), ("kind_name", "类型名称"), ("case_id", "救助案件"), ("village", "村"),
        ("village_name", "村名"), ("programme", "救助项目"), ("period", "期间"), ("area", "导出区域"),
        ("purpose", "用途"), *_ACTOR_COLUMNS,
    )),
    Section("actions_per_account", "账号操作", (
        ("actor", "账号"), ("account_id", "账号 ID"), ("actor_role", "角色"), ("actor_unit", "单位"),
        ("event_type", "操作类型"), ("event_name", "操作名称"), ("count", "次数"),
    )),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)


@dataclass
class AccountabilityReport:
    area: str  # the area-code prefix (2, 4 or 6 digits)
    area_name: str
    date_from: date
    date_to: date
    generated_at: datetime
    position: int
    """The last notification read: the report describes the log up to and including it."""
    rules_versions: dict[str, str]
    sections: dict[str, list[dict[str, Any]]]
    seal: list[str] = field(default_factory=list)
    """Digest lines of the seal checkpoint(s) the report was produced under (filled by the exporter)."""

    def counts(self) -> dict[str, int]:
        return {key: len(self.sections.get(key, [])) for key in SECTION_KEYS}

    def metadata(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "area_name": self.area_name,
            "period": {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()},
            "generated_at": _iso(self.generated_at),
            "position": self.position,
            "rules_versions": dict(self.rules_versions),
            "counts": self.counts(),
            "seal": list(self.seal),
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.metadata(), "sections": {key: self.sections.get(key, []) for key in SECTION_KEYS}}


# --- who, what, when --------------------------------------------------------------------------------


def report_area(runtime: LedgerRuntime, area: str) -> AreaCode:
    """The report's area: a known province, city or county (422 otherwise)."""
    code = AreaCode.parse(area, "area")
    runtime.areas.require(code, "area")
    if code.level not in REPORT_LEVELS:
        raise InvalidInput(
            "问责报告按省、市或县出具", "the report covers a province, a city or a county",
            fields=[FieldProblem("area", "bad_level", "a province (2), city (4) or county (6 digits) code")],
        )
    return code


EARLIEST_YEAR = 1949  # as for disaster dates: nothing in the ledger was recorded earlier
LATEST_YEAR = 9998  # keeps the period's end (the day after date_to, in Beijing) representable


def check_period(date_from: date, date_to: date) -> None:
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise InvalidInput(
                "日期超出范围", "the date is out of range",
                fields=[FieldProblem(name, "out_of_range", f"a date in the years {EARLIEST_YEAR}–{LATEST_YEAR}")],
            )
    if date_from > date_to:
        raise InvalidInput(
            "起始日期晚于截止日期", "date_from is after date_to",
            fields=[FieldProblem("date_from", "after_date_to", "date_from must not be after date_to")],
        )


def require_report_reader(actor: Actor, area: str) -> None:
    """Auditors, county, city and province accounts, for an area within their scope."""
    if actor.role not in READER_ROLES:
        raise NotPermitted(
            f"角色 {actor.role.value} 不能查看问责报告",
            f"role {actor.role.value} may not read the accountability report (auditors, county, city, province)",
        )
    prefix = AreaCode.parse(area, "area").prefix
    if not prefix.startswith(actor.scope):
        raise NotPermitted(f"{prefix} 不在本账号的管辖范围内", f"{prefix} is outside this account's scope")


_DIGITS = re.compile(r"\d{10,}[Xx]?")


def scrub(text: str | None) -> str | None:
    """Free text with every run of ten or more digits (an ID, phone or card number) masked to its last four."""
    if text is None:
        return None
    return _DIGITS.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], str(text))


def _iso(moment: datetime | str | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA)
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def _yuan(fen: int) -> str:
    return str((Decimal(int(fen)) / 100).quantize(CENT))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def _who(actor: dict[str, Any] | None) -> dict[str, Any]:
    actor = actor or {}
    return {"actor": actor.get("username"), "actor_role": actor.get("role"), "actor_unit": actor.get("unit")}


# --- the scan ----------------------------------------------------------------------------------------


class _Scan:
    """Folds the log, event by event, into the report's sections."""

    def __init__(self, runtime: LedgerRuntime, prefix: str, start: datetime, end: datetime) -> None:
        self.rt = runtime
        self.prefix = prefix
        self.start = start
        self.end = end
        self.disasters: dict[UUID, dict[str, Any]] = {}  # states of the area's processes
        self.county_of: dict[UUID, str] = {}  # every process → county
        self.fund_county: dict[UUID, str] = {}
        self.cases: dict[UUID, dict[str, str]] = {}  # case → village, county, programme, period
        self.payments: dict[tuple[UUID, str], dict[str, Any]] = {}  # (case, payment id) → amount, batch
        self.account_scope: dict[UUID, str] = {}
        self.actions: Counter[tuple[str, str, str, str, str]] = Counter()
        self.rows: dict[str, list[dict[str, Any]]] = {key: [] for key in SECTION_KEYS}

    def within(self, code: str | None) -> bool:
        return code is not None and code.startswith(self.prefix)

    def in_period(self, event: Any) -> bool:
        return self.start <= event.timestamp < self.end

    def add(self, event: Any) -> None:
        oid = event.originator_id
        if isinstance(event, disaster_state.DISASTER_EVENTS):
            in_area = self._disaster(oid, event)
        elif isinstance(event, ReliefCase.Event):
            in_area = self._case(oid, event)
        elif isinstance(event, ReliefFund.Event):
            if isinstance(event, ReliefFund.Opened):
                self.fund_county[oid] = event.county
            in_area = self.within(self.fund_county.get(oid))
        elif isinstance(event, PersonalDataViewed.Viewed):
            in_area = self._viewed(event)
        elif isinstance(event, PersonalDataExported.Exported):
            in_area = self._exported(event)
        elif isinstance(event, Account.Event):
            if isinstance(event, Account.Registered):
                self.account_scope[oid] = event.scope
            in_area = self.within(self.account_scope.get(oid))
        else:
            return  # key claims, the token index, idempotency records: no acting account
        actor = getattr(event, "actor", None)
        if in_area and isinstance(actor, dict) and self.in_period(event):
            self.actions[(str(actor.get("account_id") or ""), str(actor.get("username") or ""),
                          str(actor.get("role") or ""), str(actor.get("unit") or ""),
                          type(event).__qualname__)] += 1

    # --- disasters -----------------------------------------------------------------------------

    def _disaster(self, oid: UUID, event: Any) -> bool:
        if isinstance(event, Disaster.InitialReportFiled):
            self.county_of[oid] = event.county
        county = self.county_of.get(oid)
        if not self.within(county):
            return False
        state = self.disasters.get(oid)
        before = {k: state.get(k) for k in CORRECTABLE} if state is not None else {}
        state = disaster_state.apply(state, event)
        self.disasters[oid] = state
        if self.in_period(event):
            self._disaster_rows(state, before, event)
        return True

    def _base(self, state: dict[str, Any]) -> dict[str, Any]:
        return {"disaster_id": state["id"], "county": state["county"], "county_name": self._name(state["county"]),
                "hazard": state["hazard"], "disaster_date": state["disaster_date"]}

    def _disaster_rows(self, state: dict[str, Any], before: dict[str, Any], event: Any) -> None:
        who = {**_who(event.actor), "recorded_at": _iso(event.timestamp)}
        if isinstance(event, Disaster.Corrected):
            changed = [k for k in CORRECTABLE if state.get(k) != before.get(k)]
            changes = "; ".join(
                f"{CORRECTABLE_NAMES[k]} {k}: {scrub(_text(before.get(k)))} → {scrub(_text(state.get(k)))}"
                for k in changed)
            self.rows["corrections"].append({**self._base(state), "changed": ", ".join(changed), "changes": changes,
                                             "reason": scrub(event.reason), **who})
        elif isinstance(event, Disaster.Retracted):
            self.rows["retractions"].append({**self._base(state), "reason": scrub(event.reason), **who})
        elif isinstance(event, Disaster.ReportReturned):
            report = state["reports"][event.number - 1]
            filer = report.get("filed_by") or {}
            self.rows["returns"].append({
                **self._base(state), "report_number": event.number, "report_kind": report["kind"],
                "filed_by": filer.get("username"), "filed_unit": filer.get("unit"), "reason": scrub(event.reason),
                **who,
            })
        elif isinstance(event, disaster_state.REPORT_EVENTS):
            report = state["reports"][-1]
            base = self._base(state)
            for jump in getattr(event, "jumps", None) or []:
                indicator = self.rt.indicators.indicators.get(jump.get("indicator"))
                self.rows["jumps"].append({
                    "disaster_id": base["disaster_id"], "county": base["county"], "county_name": base["county_name"],
                    "hazard": base["hazard"], "report_number": report["number"], "report_kind": report["kind"],
                    "as_of": _iso(report["as_of"]), "township": jump.get("township"),
                    "township_name": self._name(jump.get("township")), "indicator": jump.get("indicator"),
                    "indicator_name": indicator.name_zh if indicator else None,
                    "previous": _plain(jump.get("previous")), "reported": _plain(jump.get("reported")),
                    "kind": jump.get("kind"), "kind_name": JUMP_KIND_NAMES.get(str(jump.get("kind")), None),
                    "explanation": scrub(event.explanation), **who,
                })

    # --- relief --------------------------------------------------------------------------------

    def _case(self, oid: UUID, event: Any) -> bool:
        if isinstance(event, ReliefCase.Applied):
            self.cases[oid] = {"village": event.village, "county": event.county, "programme": event.programme,
                               "period": event.period}
        case = self.cases.get(oid)
        if case is None or not self.within(case["village"]):
            return False
        if isinstance(event, ReliefCase.PaymentMade):
            self.payments[(oid, event.payment_id)] = {"amount": event.amount, "batch_id": event.batch_id}
        if not self.in_period(event):
            return True
        who = {**_who(event.actor), "recorded_at": _iso(event.timestamp)}
        base = {"case_id": str(oid), "county": case["county"], "village": case["village"],
                "village_name": self._name(case["village"]), "programme": case["programme"]}
        if isinstance(event, ReliefCase.CountyApproved) and event.above_cap:
            self.rows["above_standard"].append({
                **base, "programme_name": _programme_name(case["programme"]), "period": case["period"],
                "amount_fen": event.amount, "amount_yuan": _yuan(event.amount), "cap_fen": event.cap,
                "cap_yuan": _yuan(event.cap), "reason": scrub(event.reason), "rules_version": event.rules_version,
                **who,
            })
        elif isinstance(event, (ReliefCase.PaymentReturned, ReliefCase.PaymentReversed)):
            kind = "reversed" if isinstance(event, ReliefCase.PaymentReversed) else "returned"
            paid = self.payments.get((oid, event.payment_id), {})
            amount = paid.get("amount")
            self.rows["returned_or_reversed"].append({
                **base, "period": case["period"], "payment_id": event.payment_id, "batch_id": paid.get("batch_id"),
                "amount_fen": amount, "amount_yuan": _yuan(amount) if amount is not None else None,
                "kind": kind, "kind_name": COMEBACK_NAMES[kind], "reason": scrub(event.reason), **who,
            })
        return True

    def _viewed(self, event: Any) -> bool:
        case = self.cases.get(event.case_id)
        if case is None or not self.within(case["village"]):
            return False
        if self.in_period(event):
            self.rows["access_log"].append({
                "kind": "viewed", "kind_name": ACCESS_NAMES["viewed"], "case_id": str(event.case_id),
                "village": case["village"], "village_name": self._name(case["village"]),
                "programme": case["programme"], "period": case["period"], "area": None,
                "purpose": scrub(event.purpose), **_who(event.actor), "recorded_at": _iso(event.timestamp),
            })
        return True

    def _exported(self, event: Any) -> bool:
        area = str(event.area)
        if not (area.startswith(self.prefix) or self.prefix.startswith(area)):
            return False
        if self.in_period(event):
            self.rows["access_log"].append({
                "kind": "exported", "kind_name": ACCESS_NAMES["exported"], "case_id": None, "village": None,
                "village_name": None, "programme": event.programme, "period": event.period, "area": area,
                "purpose": scrub(event.purpose), **_who(event.actor), "recorded_at": _iso(event.timestamp),
            })
        return True

    # --- at the end ----------------------------------------------------------------------------

    def compliance(self, date_from: date, date_to: date, now: datetime) -> None:
        rows = []
        for state in self.disasters.values():
            if not date_from.isoformat() <= state["disaster_date"] <= date_to.isoformat():
                continue
            for flag in evaluate(state, self.rt.deadlines, now):
                if flag.status not in FLAGGED:
                    continue
                rows.append({
                    **self._base(state),
                    "hazard_name": self._hazard_name(state["hazard"]),
                    "rule": flag.rule, "rule_name": RULE_NAMES.get(flag.rule, flag.rule), "level": flag.level,
                    "unit": flag.unit, "status": flag.status, "status_name": STATUS_NAMES[flag.status],
                    "due_at": _iso(flag.due_at), "arrived_at": _iso(flag.arrived_at),
                    "delay_seconds": flag.delay_seconds, "report_number": flag.report_number,
                    "rules_version": flag.rules_version,
                })
        order = [key for key, _ in SECTIONS[0].columns]
        rows = [{k: r[k] for k in order} for r in rows]
        rows.sort(key=lambda r: (r["disaster_date"], r["disaster_id"], r["due_at"] or "", r["rule"]))
        self.rows["late_and_missing"] = rows

    def action_rows(self) -> None:
        self.rows["actions_per_account"] = [
            {"actor": username, "account_id": account, "actor_role": role, "actor_unit": unit,
             "event_type": kind, "event_name": ACTION_NAMES.get(kind, kind), "count": count}
            for (account, username, role, unit, kind), count in sorted(
                self.actions.items(), key=lambda item: (item[0][1], item[0][0], item[0][4]))
        ]

    def _name(self, code: str | None) -> str | None:
        if not code:
            return None
        try:
            area = self.rt.areas.get(code)
        except InvalidInput:
            return None
        return area.name if area is not None else None

    def _hazard_name(self, code: str) -> str | None:
        hazard = self.rt.hazards.hazards.get(code)
        return hazard.name if hazard is not None else None


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(_plain(value))


def _programme_name(code: str) -> str | None:
    for programme, name in PROGRAMME_NAMES.items():
        if programme.value == code:
            return name
    return None


def period_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start, end) of Beijing civil dates date_from … date_to inclusive."""
    return (datetime.combine(date_from, time(0), CHINA),
            datetime.combine(date_to + timedelta(days=1), time(0), CHINA))


def build_report(runtime: LedgerRuntime, area: str, date_from: date, date_to: date, *,
                 upto: int | None = None, now: datetime | None = None) -> AccountabilityReport:
    """The accountability report of `area` (province, city or county) for recorded dates
    `date_from` … `date_to` (Beijing, inclusive), from the log up to position `upto` (default:
    the head now), deadlines evaluated at `now` (default: the runtime's clock). Reads only."""
    code = report_area(runtime, area)
    check_period(date_from, date_to)
    now = now or runtime.now()
    head = runtime.position() if upto is None else upto
    start, end = period_bounds(date_from, date_to)
    scan = _Scan(runtime, code.prefix, start, end)
    app = runtime.app
    last = 0
    while last < head:
        notifications = app.recorder.select_notifications(last, limit=BATCH, stop=head, inclusive_of_start=False)
        if not notifications:
            break
        for notification in notifications:
            scan.add(app.mapper.to_domain_event(notification))
        last = notifications[-1].id
    scan.compliance(date_from, date_to, now)
    scan.action_rows()
    found = runtime.areas.get(code)
    return AccountabilityReport(
        area=code.prefix, area_name=found.name if found else code.prefix, date_from=date_from, date_to=date_to,
        generated_at=now, position=head,
        rules_versions={"deadlines": runtime.deadlines.version, "reports": runtime.rules.version,
                        "relief": runtime.relief_rules.version, "hazards": runtime.hazards.version},
        sections=scan.rows,
    )
