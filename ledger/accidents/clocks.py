"""Report clocks of an accident: when each report was due, when it came, and who was late (迟报 / 未报).

A pure function of the read side's state (`ledger.accidents.state`) and of "now" — a report that
has not come is missing only once it is due. Each flag names its rule, the rules' version and the
clocks' source (national, or a province's own practice). Interpretation, where the regulations
leave room:

- arrival times are the stated ones (the unit's stated report time, each regulator's stated
  time of its report upward, a 续报's stated time if phoned in before it was entered);
- the county "received" the accident when the unit reported, or — if it never did — when the
  regulator recorded it;
- a level is due to report upward once the grade needs the level above (一般 → 市, 较大 → 省,
  重大/特别重大 → 国务院): within its minutes of the later of its own receipt and the arrival of
  the report that raised the grade; a level that never received the accident is not flagged
  (the level below it is);
- 续报: for each Beijing day after the day the county received the accident, until 应急救援结束,
  the close or a withdrawal, the grade in force at the day's start sets how many reports the day
  needs (the n-th report of a day answers the n-th slot);
- 补报: a casualty change is due the day it is known (as_of); one after the window is flagged;
- 批复: within the grade's days of the report's submission, plus an extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledger.accidents.rules import GRADE_NAMES, GRADES, LEVELS, AccidentRules, Clocks

CHINA = ZoneInfo("Asia/Shanghai")


MAX_DAYS = 366


RULE_NAMES = {
    "unit.report": "事故单位 1 小时内报告县级监管部门",
    "upward.city": "县级报告设区的市（2 小时内）",
    "upward.province": "设区的市报告省级（2 小时内）",
    "upward.national": "省级报告国务院（2 小时内）",
    "upward.direct_province": "较大以上事故报告省级（1 小时内）",
    "follow_up.daily": "续报（一般、较大每日至少 1 次；重大、特别重大每日至少 2 次）",
    "supplement.same_day": "伤亡人数变化当日补报",
    "supplement.window": "伤亡人数变化在规定期限内补报（30 日；道路交通、火灾 7 日）",
    "investigation.approval": "调查报告批复（15 日；特别重大 30 日，可延长一次）",
}


@dataclass(frozen=True)
class Flag:
    accident_id: str
    rule: str
    level: str  # unit | county | city | province
    unit: str  # the responsible unit: its credit code or name, or a regulator's 12-digit area code
    due_at: datetime
    arrived_at: datetime | None
    status: str  # on_time | late | missing | pending
    rules_version: str
    rule_source: str
    grade: str
    report_number: int | None = None
    delay_seconds: int | None = None

    @property
    def rule_name(self) -> str:
        return RULE_NAMES.get(self.rule, self.rule)


def dt(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _rank(grade: str) -> int:
    return GRADES.index(grade)


class _Evaluation:
    def __init__(self, state: dict[str, Any], rules: AccidentRules, now: datetime) -> None:
        self.s = state
        self.rules = rules
        self.clocks: Clocks = rules.clocks_for(state["county"])
        self.now = now
        withdrawn = state.get("withdrawn")
        self.stop = dt(withdrawn["recorded_at"]) if withdrawn else None
        self.flags: list[Flag] = []
        self.received = dt(state["unit_reported_at"]) or dt(state["first_recorded_at"])

    def flag(self, rule: str, level: str, unit: str, due: datetime, arrived: datetime | None, grade: str,
             number: int | None = None, status: str | None = None, source: str | None = None) -> None:
        end = self.stop or self.now
        if status is None:
            if arrived is not None:
                status = "on_time" if arrived <= due else "late"
            elif due < end:
                status = "missing"
            elif self.stop is not None:
                return  # nothing falls due after a withdrawal
            else:
                status = "pending"
        delay = None
        if status == "late" and arrived is not None:
            delay = int((arrived - due).total_seconds())
        elif status == "missing":
            delay = int((end - due).total_seconds())
        self.flags.append(Flag(self.s["id"], rule, level, unit, due, arrived, status, self.rules.version,
                               source or self.clocks.source, grade, number, delay))

    def regulator(self, level: str) -> str:
        digits = {"county": 6, "city": 4, "province": 2}[level]
        return self.s["county"][:digits].ljust(12, "0")

    def grade_since(self, minimum: str) -> tuple[str, datetime] | None:
        """The first grade at or above `minimum`, and when the report that brought it arrived."""
        for g in self.s["grades"]:
            if _rank(g["grade"]) >= _rank(minimum):
                report = self.s["reports"][g["report_number"] - 1]
                arrived = dt(report["arrived_at"])
                assert arrived is not None and self.received is not None
                return g["grade"], max(arrived, self.received)
        return None

    def arrival(self, level: str) -> datetime | None:
        times = [dt(u["reported_at"]) for u in self.s["upward"] if u["to_level"] == level]
        return min((t for t in times if t is not None), default=None)

    # --- the rules ------------------------------------------------------------------------------

    def unit_report(self) -> None:
        unit = self.s["unit"]
        occurred = dt(self.s["occurred_at"])
        assert occurred is not None
        self.flag("unit.report", "unit", unit.get("credit_code") or unit["name"],
                  occurred + timedelta(minutes=self.clocks.unit_report_minutes), dt(self.s["unit_reported_at"]),
                  self.s["grades"][0]["grade"], 1)

    def upward(self) -> None:
        top = LEVELS.index(self.clocks.chain[self.s["max_grade"]])
        below_arrival = self.received
        for index in range(1, top + 1):
            level, below = LEVELS[index], LEVELS[index - 1]
            needing = min((g for g in GRADES if LEVELS.index(self.clocks.chain[g]) >= index), key=_rank)
            since = self.grade_since(needing)
            if below_arrival is None or since is None:
                return
            grade, needed_at = since
            due = max(below_arrival, needed_at) + timedelta(minutes=self.clocks.upward_minutes[grade])
            arrived = self.arrival(level)
            self.flag(f"upward.{level}", below, self.regulator(below), due, arrived, grade)
            below_arrival = arrived

    def direct_to_province(self) -> None:
        minutes = self.clocks.direct_to_province_minutes
        since = self.grade_since(self.clocks.direct_to_province_from)
        if minutes <= 0 or since is None or self.received is None:
            return
        grade, needed_at = since
        self.flag("upward.direct_province", "county", self.regulator("county"),
                  max(self.received, needed_at) + timedelta(minutes=minutes), self.arrival("province"), grade)

    def follow_ups(self) -> None:
        assert self.received is not None
        ends = [dt(self.s.get("rescue_concluded_at")), dt(self.s.get("closed_at")), self.stop]
        stop = min((e for e in ends if e is not None), default=None)
        by_day: dict[date, list[dict[str, Any]]] = {}
        for r in self.s["reports"][1:]:
            arrived = dt(r["arrived_at"])
            assert arrived is not None
            by_day.setdefault(arrived.astimezone(CHINA).date(), []).append(r)
        first_day = self.received.astimezone(CHINA).date() + timedelta(days=1)
        for offset in range(MAX_DAYS):
            day = first_day + timedelta(days=offset)
            start = datetime.combine(day, time(0), CHINA)
            if start > self.now or (stop is not None and start >= stop):
                return
            grade = self.grade_at(start)
            rule = self.clocks.follow_up[grade]
            dues = ([datetime.combine(day, t, CHINA) for t in rule.times] if rule.times
                    else [start + timedelta(days=1)] * rule.per_day)
            reports = sorted(by_day.get(day, []), key=lambda r: str(r["arrived_at"]))
            for slot, due in enumerate(dues):
                if stop is not None and due > stop:
                    break
                report = reports[slot] if slot < len(reports) else None
                self.flag("follow_up.daily", "county", self.regulator("county"), due,
                          dt(report["arrived_at"]) if report else None, grade,
                          report["number"] if report else None)

    def grade_at(self, moment: datetime) -> str:
        grade = self.s["grades"][0]["grade"]
        for g in self.s["grades"][1:]:
            arrived = dt(self.s["reports"][g["report_number"] - 1]["arrived_at"])
            if arrived is not None and arrived <= moment:
                grade = g["grade"]
        return grade

    def supplements(self) -> None:
        occurred = dt(self.s["occurred_at"])
        assert occurred is not None
        for r in self.s["reports"][1:]:
            if not r["supplement"]:
                continue
            as_of, arrived = dt(r["as_of"]), dt(r["arrived_at"])
            assert as_of is not None and arrived is not None
            grade = self.grade_at(arrived)
            if self.clocks.same_day:
                day_end = datetime.combine(as_of.astimezone(CHINA).date() + timedelta(days=1), time(0), CHINA)
                self.flag("supplement.same_day", "county", self.regulator("county"), day_end, arrived, grade,
                          r["number"])
            if r["beyond_window"]:
                window_end = occurred + timedelta(days=int(r["window_days"]))
                self.flag("supplement.window", "county", self.regulator("county"), window_end, as_of, grade,
                          r["number"], status="late")

    def approval(self) -> None:
        inv = self.s.get("investigation")
        submitted = dt(inv["submitted_at"]) if inv else None
        if inv is None or submitted is None:
            return
        grade = inv["grade"] if _rank(inv["grade"]) >= _rank(self.s["max_grade"]) else self.s["max_grade"]
        days = self.rules.approval_days[grade] + int(inv["extension_days"] or 0)
        lead = inv["lead_level"]
        unit = self.regulator(lead) if lead != "national" else "national"
        self.flag("investigation.approval", lead, unit, submitted + timedelta(days=days), dt(inv["approved_at"]),
                  grade, source="national")


def evaluate(state: dict[str, Any], rules: AccidentRules, now: datetime) -> list[Flag]:
    """Every clock an accident was subject to, with its status as of `now`."""
    if not state:
        return []
    ev = _Evaluation(state, rules, now)
    ev.unit_report()
    ev.upward()
    ev.direct_to_province()
    ev.follow_ups()
    ev.supplements()
    ev.approval()
    return ev.flags


def grade_name(grade: str) -> str:
    return GRADE_NAMES.get(grade, grade)
