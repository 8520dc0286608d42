"""冬春 statistics and overdue relief work: queries over the roster (花名册) table.

需救助 (受灾人员冬春生活需救助情况统计表): the cases that passed 乡审 and were
not rejected or withdrawn — stage township_reviewed, approved or paid. A case
still in 户报/村评/公示 is an application, not yet a need the township
stands behind (乡审 enters it in the 需救助人口一览表, reporting-rules §3.3).
Households are counted once per case; people are the case's 需救助人口.

已救助 (受灾人员冬春生活政府已救助情况统计表): cases that received aid — money
paid and still standing (payments made minus returned or reversed) or goods
issued (物资折款 > 0). Money and goods are summed in fen over every case of
the area and period (only approved cases can hold either).

Both are summed for any area (2 province, 4 city, 6 county, 9 township, 12
village digits) with a breakdown by the next level down.

Overdue work (one item per case and kind):
- `posting_ended_not_reviewed`: the posting (公示) ended before today and the
  case still waits for 乡审 (open objections are shown: they block it);
- `approved_unpaid`: 县定 approved, no payment was ever made;
- `payment_returned_not_reissued`: a payment came back (退回 or 冲正) and
  what stands is below the approved amount;
- `unpaid_before_spring_festival`: a 冬春 case approved and not fully paid
  when today is on or after 春节 of its period minus the warning days
  (central funds must be paid before 春节, §3.2); kept after 春节 too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ledger.relief import Programme, Stage
from ledger.relief_rules import ReliefRules
from projections.statistics import CHILD_DIGITS

# Relief cases are filed per village, so a township breaks down by village.
RELIEF_CHILD_DIGITS = {**CHILD_DIGITS, 9: 12, 12: 12}
NEED_STAGES = (Stage.TOWNSHIP_REVIEWED.value, Stage.APPROVED.value, Stage.PAID.value)
FIGURES = ("need_households", "need_people", "aided_households", "aided_people", "paid_fen", "goods_fen")
OVERDUE_KINDS = (
    "posting_ended_not_reviewed", "approved_unpaid", "payment_returned_not_reissued", "unpaid_before_spring_festival",
)


def area_bounds(area: str) -> tuple[str, str]:
    """The village codes within an area prefix, as a range (index-friendly on both backends,
    and collation-safe: every code is 12 digits)."""
    return area.ljust(12, "0"), area.ljust(12, "9")


@dataclass(frozen=True)
class WinterSpringResult:
    area: str
    period: str
    totals: dict[str, int]  # FIGURES → value (households, people, fen)
    breakdown: dict[str, dict[str, int]]  # child area prefix → FIGURES


class WinterSpringQueries:
    """需救助 / 已救助 figures for an area and period (mixed into the roster view)."""

    query: Any

    def winter_spring_statistics(self, area: str, period: str,
                                 programme: str = Programme.WINTER_SPRING.value) -> WinterSpringResult:
        child = RELIEF_CHILD_DIGITS.get(len(area), 12)
        low, high = area_bounds(area)
        need = "stage IN ({})".format(", ".join(f"'{s}'" for s in NEED_STAGES))
        aided = "(paid_fen > 0 OR goods_fen > 0)"
        rows = self.query(
            f"SELECT substr(village, 1, {child}) AS child,"
            f" SUM(CASE WHEN {need} THEN 1 ELSE 0 END) AS need_households,"
            f" SUM(CASE WHEN {need} THEN people_in_need ELSE 0 END) AS need_people,"
            f" SUM(CASE WHEN {aided} THEN 1 ELSE 0 END) AS aided_households,"
            f" SUM(CASE WHEN {aided} THEN people_in_need ELSE 0 END) AS aided_people,"
            " SUM(paid_fen) AS paid_fen, SUM(goods_fen) AS goods_fen"
            " FROM {t}_rows WHERE programme = ? AND period = ? AND village BETWEEN ? AND ?"
            f" GROUP BY substr(village, 1, {child})",
            [programme, period, low, high],
        )
        breakdown = {}
        totals = dict.fromkeys(FIGURES, 0)
        for r in rows:
            figures = {k: int(r[k] or 0) for k in FIGURES}
            if not any(figures[k] for k in FIGURES):
                continue  # only applications, rejections or withdrawals there
            breakdown[r["child"]] = figures
            for k in FIGURES:
                totals[k] += figures[k]
        return WinterSpringResult(area=area, period=period, totals=totals, breakdown=dict(sorted(breakdown.items())))


class OverdueQueries:
    """Relief work past its time (mixed into the roster view)."""

    query: Any

    def overdue(self, area: str, today: date, rules: ReliefRules, kinds: list[str] | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        """Overdue items in an area, by kind, then village and case; at most `limit` per kind."""
        out: list[dict[str, Any]] = []
        for kind, where, params in self._overdue_filters(area, today, rules, kinds):
            sql = (
                "SELECT case_id, programme, period, county, township, village, head_name, stage, approved_fen,"
                " paid_fen, returned_fen, posting_end, open_objections, applied_on, approved_at, last_returned_at"
                f" FROM {{t}}_rows WHERE {where} ORDER BY village, case_id"
            )
            if limit is not None:
                sql += " LIMIT ?"
                params = [*params, limit]
            for r in self.query(sql, params):
                out.append(_item(kind, r, today, rules))
        return out

    def overdue_counts(self, area: str, today: date, rules: ReliefRules) -> dict[str, int]:
        return {
            kind: int(self.query(f"SELECT COUNT(*) AS n FROM {{t}}_rows WHERE {where}", params)[0]["n"])
            for kind, where, params in self._overdue_filters(area, today, rules, None)
        }

    @staticmethod
    def _overdue_filters(area: str, today: date, rules: ReliefRules,
                         kinds: list[str] | None) -> list[tuple[str, str, list[Any]]]:
        low, high = area_bounds(area)
        scope = "village BETWEEN ? AND ?"
        approved = f"stage = '{Stage.APPROVED.value}'"
        filters = [
            ("posting_ended_not_reviewed", f"{scope} AND stage = '{Stage.POSTED.value}' AND posting_end < ?",
             [low, high, today.isoformat()]),
            ("approved_unpaid", f"{scope} AND {approved} AND payment_count = 0", [low, high]),
            ("payment_returned_not_reissued",
             f"{scope} AND {approved} AND returned_count > 0 AND paid_fen < approved_fen", [low, high]),
        ]
        warned = sorted(p for p, festival in rules.spring_festival.items()
                        if today >= festival - timedelta(days=rules.spring_festival_warning_days))
        if warned:
            marks = ", ".join("?" for _ in warned)
            filters.append((
                "unpaid_before_spring_festival",
                f"{scope} AND {approved} AND paid_fen < approved_fen AND programme = ? AND period IN ({marks})",
                [low, high, Programme.WINTER_SPRING.value, *warned],
            ))
        return [f for f in filters if kinds is None or f[0] in kinds]


def _item(kind: str, r: dict[str, Any], today: date, rules: ReliefRules) -> dict[str, Any]:
    """An overdue row with `since` (the day the work became due) and, for 春节, `due` (the festival)."""
    due = None
    since: date | None
    if kind == "posting_ended_not_reviewed":
        since = date.fromisoformat(r["posting_end"]) + timedelta(days=1)
    elif kind == "approved_unpaid":
        since = _day(r["approved_at"])
    elif kind == "payment_returned_not_reissued":
        since = _day(r["last_returned_at"])
    else:
        due = rules.spring_festival[r["period"]]
        since = due - timedelta(days=rules.spring_festival_warning_days)
    return {
        "kind": kind, **{k: r[k] for k in ("case_id", "programme", "period", "county", "township", "village",
                                           "head_name", "stage", "posting_end")},
        **{k: int(r[k]) for k in ("approved_fen", "paid_fen", "returned_fen", "open_objections")},
        "since": since, "due": due, "days_overdue": (today - since).days if since else None,
    }


def _day(timestamp: str | None) -> date | None:
    """The civil date (Asia/Shanghai) of a stored UTC timestamp."""
    if not timestamp:
        return None
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(timestamp).astimezone(ZoneInfo("Asia/Shanghai")).date()
