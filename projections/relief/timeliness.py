"""Relief timeliness from the disaster (seed 001: 「灾害发生后得到有效救助时间」 ≤ 10 h).

The roster keeps, per case, each moment relief reached the household for a
disaster process: a payment (its recorded time) of a case that names the
process, and a goods delivery (its stated `delivered_at`) that names it or
whose case does (`{t}_relief_moments`). A payment that came back (退回 /
冲正) was not effective and stops counting. The households of a process are
the open cases that name it and the cases with deliveries for it.

The figure itself — time from the disaster's `occurred_at` (the board's,
after any 勘误) to each household's first effective relief, the share within
the configured target and the breaches — is `ledger.relief.timeliness`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.relief.case import CLOSED, ReliefCase
from ledger.relief.timeliness import Timeliness, measure
from projections.areas import area_bounds

TIMELINESS_TABLES = ("{t}_relief_moments",)


TIMELINESS_DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_relief_moments (case_id TEXT NOT NULL, ref TEXT NOT NULL,"
    " disaster_id TEXT NOT NULL, village TEXT NOT NULL, kind TEXT NOT NULL, moment TEXT NOT NULL,"
    " active INTEGER NOT NULL, PRIMARY KEY (case_id, ref)){ff}",
    "CREATE INDEX IF NOT EXISTS {n}_relief_moments_disaster ON {t}_relief_moments (disaster_id, village)",
]


class TimelinessQueries:
    """Moments of effective relief per disaster process (mixed into the roster view)."""

    query: Any
    sql: Any

    def timeliness_event(self, c: Any, event: Any, row: dict[str, Any]) -> None:
        if isinstance(event, ReliefCase.PaymentMade) and row.get("disaster_id"):
            self._moment(c, row, f"payment:{event.payment_id}", row["disaster_id"], "payment",
                         event.timestamp.isoformat())
        elif isinstance(event, ReliefCase.GoodsIssued) and (event.disaster_id or row.get("disaster_id")):
            moment = (event.delivered_at or event.timestamp).isoformat()
            self._moment(c, row, f"goods:{event.goods_id or event.originator_version}",
                         str(event.disaster_id or row["disaster_id"]), "goods", moment)
        elif isinstance(event, (ReliefCase.PaymentReturned, ReliefCase.PaymentReversed)):
            c.execute(self.sql("UPDATE {t}_relief_moments SET active = 0 WHERE case_id = ? AND ref = ?"),
                      (row["case_id"], f"payment:{event.payment_id}"))

    def _moment(self, c: Any, row: dict[str, Any], ref: str, disaster_id: str, kind: str, moment: str) -> None:
        c.execute(self.sql("INSERT INTO {t}_relief_moments (case_id, ref, disaster_id, village, kind, moment, active)"
                           " VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (case_id, ref) DO NOTHING"),
                  (row["case_id"], ref, disaster_id, row["village"], kind, moment))

    def relief_households(self, disaster_ids: list[str], area: str) -> list[dict[str, Any]]:
        """Per (process, case): village, programme and the first effective relief (None if none yet)."""
        if not disaster_ids:
            return []
        low, high = area_bounds(area)
        marks = ", ".join("?" for _ in disaster_ids)
        closed = ", ".join(f"'{s.value}'" for s in CLOSED)
        rows = self.query(
            "SELECT d.disaster_id, r.case_id, r.village, r.programme, r.head_name,"
            " (SELECT MIN(m.moment) FROM {t}_relief_moments m WHERE m.case_id = r.case_id"
            "  AND m.disaster_id = d.disaster_id AND m.active = 1) AS first_relief_at"
            " FROM (SELECT disaster_id, case_id FROM {t}_rows WHERE disaster_id IN (" + marks + ")"
            "       UNION SELECT disaster_id, case_id FROM {t}_relief_moments WHERE disaster_id IN (" + marks + ")) d"
            " JOIN {t}_rows r ON r.case_id = d.case_id"
            f" WHERE r.village BETWEEN ? AND ? AND (r.stage NOT IN ({closed}) OR EXISTS (SELECT 1 FROM"
            " {t}_relief_moments x WHERE x.case_id = r.case_id AND x.active = 1))"
            " ORDER BY d.disaster_id, r.village, r.case_id",
            [*disaster_ids, *disaster_ids, low, high],
        )
        return rows

    def relief_disasters(self, area: str) -> list[str]:
        """The processes some case or delivery in the area answers."""
        low, high = area_bounds(area)
        rows = self.query(
            "SELECT DISTINCT disaster_id FROM {t}_rows WHERE disaster_id IS NOT NULL AND village BETWEEN ? AND ?"
            " UNION SELECT DISTINCT disaster_id FROM {t}_relief_moments WHERE village BETWEEN ? AND ?",
            [low, high, low, high])
        return sorted(r["disaster_id"] for r in rows)


def timeliness_of(roster: Any, board: Any, area: str, disaster_id: str | None, target_hours: int,
                  now: datetime) -> list[Timeliness]:
    """The timeliness figure of each process relief in the area answers (the board gives `occurred_at`,
    after any 勘误; a process the board does not know yet is left out)."""
    ids = [disaster_id] if disaster_id else roster.relief_disasters(area)
    rows = roster.relief_households(ids, area)
    processes = board.get(ids)
    out = []
    for did in ids:
        process = processes.get(did)
        if process is None:
            continue
        mine = [r for r in rows if r["disaster_id"] == did]
        out.append(measure(did, datetime.fromisoformat(process["occurred_at"]), mine, target_hours, now))
    return out
