"""Relief work past its time: queries over the roster (花名册) table, mixed into its view."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledger.relief.case import Stage
from ledger.relief.programmes import Programme
from ledger.relief.rules import ReliefRules
from projections.areas import area_bounds

OVERDUE_KINDS = (
    "posting_ended_not_reviewed", "approved_unpaid", "payment_returned_not_reissued", "unpaid_before_spring_festival",
    "township_review_late", "county_decision_late",
)


class OverdueQueries:
    """Relief work past its time (mixed into the roster view)."""

    query: Any

    def overdue(self, area: str, today: date, rules: ReliefRules, kinds: list[str] | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        """Overdue items in an area, by kind, then village and case; at most `limit` per kind."""
        out: list[dict[str, Any]] = []
        for kind, where, params in self._overdue_filters(area, today, rules, kinds):
            sql = (
                "SELECT case_id, programme, period, county, township, village, head_name, head_name_cipher, stage,"
                " approved_fen,"
                " paid_fen, returned_fen, posting_end, open_objections, applied_on, approved_at, last_returned_at,"
                " reviewed_at"
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
        if rules.township_review_days:  # 河南 C58: 乡镇 within N days after the posting
            limit = (today - timedelta(days=rules.township_review_days)).isoformat()
            filters.append(("township_review_late",
                            f"{scope} AND stage = '{Stage.POSTED.value}' AND posting_end < ?", [low, high, limit]))
        if rules.county_decision_days:  # 河南 C58: the county within N days after the township
            limit = datetime.combine(today - timedelta(days=rules.county_decision_days), time(0),
                                     ZoneInfo("Asia/Shanghai")).astimezone(UTC).isoformat()
            filters.append(("county_decision_late",
                            f"{scope} AND stage = '{Stage.TOWNSHIP_REVIEWED.value}' AND reviewed_at < ?",
                            [low, high, limit]))
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
    elif kind == "township_review_late":
        since = date.fromisoformat(r["posting_end"]) + timedelta(days=1 + (rules.township_review_days or 0))
    elif kind == "county_decision_late":
        reviewed = _day(r["reviewed_at"])
        since = reviewed + timedelta(days=1 + (rules.county_decision_days or 0)) if reviewed else None
    else:
        due = rules.spring_festival[r["period"]]
        since = due - timedelta(days=rules.spring_festival_warning_days)
    return {
        "kind": kind, **{k: r[k] for k in ("case_id", "programme", "period", "county", "township", "village",
                                           "head_name", "head_name_cipher", "stage", "posting_end")},
        **{k: int(r[k]) for k in ("approved_fen", "paid_fen", "returned_fen", "open_objections")},
        "since": since, "due": due, "days_overdue": (today - since).days if since else None,
    }


def _day(timestamp: str | None) -> date | None:
    """The civil date (Asia/Shanghai) of a stored UTC timestamp."""
    if not timestamp:
        return None
    return datetime.fromisoformat(timestamp).astimezone(ZoneInfo("Asia/Shanghai")).date()
