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
from typing import Any

from ledger.relief.case import Stage
from ledger.relief.programmes import Programme
from projections.areas import RELIEF_CHILD_DIGITS, area_bounds

NEED_STAGES = (Stage.TOWNSHIP_REVIEWED.value, Stage.APPROVED.value, Stage.PAID.value)


FIGURES = ("need_households", "need_people", "aided_households", "aided_people", "paid_fen", "goods_fen")


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


class SeasonArrivals:
    """When each county's 冬春 survey got under way: its first 户报 of the season, recorded (mixed into the
    roster view)."""

    query: Any

    def survey_started(self, period: str, area: str) -> dict[str, str]:
        """county → the recorded time (ISO, UTC) of its first 冬春 application of the period."""
        low, high = area_bounds(area)
        rows = self.query(
            "SELECT county, MIN(applied_at) AS first FROM {t}_rows WHERE programme = ? AND period = ?"
            " AND village BETWEEN ? AND ? GROUP BY county ORDER BY county",
            [Programme.WINTER_SPRING.value, period, low, high])
        return {r["county"]: r["first"] for r in rows}


class EqualAmounts:
    """不得平均分配 (C55): villages where every approved household got the same amount (mixed into the roster)."""

    query: Any

    def equal_amounts(self, area: str, min_households: int, programme: str | None = None,
                      period: str | None = None) -> list[dict[str, Any]]:
        low, high = area_bounds(area)
        where, params = ["village BETWEEN ? AND ?", "stage IN ('approved', 'paid')"], [low, high]
        for column, value in (("programme", programme), ("period", period)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        rows = self.query(
            "SELECT village, programme, period, COUNT(*) AS households, MIN(approved_fen) AS amount_fen,"
            " MAX(approved_at) AS last_approved_at FROM {t}_rows WHERE " + " AND ".join(where)
            + " GROUP BY village, programme, period HAVING COUNT(*) >= ? AND MIN(approved_fen) = MAX(approved_fen)"
            " ORDER BY village, programme, period", [*params, min_households])
        return [{**r, "households": int(r["households"]), "amount_fen": int(r["amount_fen"])} for r in rows]
