"""Queries over the housing list: rows, progress, overdue work, counts for reconciliation, above-standard
subsidies (mixed into the housing view)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from ledger.housing.case import KIND_OF_MODE
from ledger.housing.rules import HousingRules
from projections.areas import area_bounds
from projections.views import BatchingView

LIVE = "step NOT IN ('rejected', 'withdrawn')"


HOUSING_OVERDUE_KINDS = ("start_late", "completion_late", "progress_report_due", "final_tranche_due")


class HousingQueries(BatchingView):
    def rows(self, area: str, disaster_id: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
        low, high = area_bounds(area)
        where, params = ["village BETWEEN ? AND ?"], [low, high]
        if disaster_id:
            where.append("disaster_id = ?")
            params.append(disaster_id)
        if after:
            where.append("case_id > ?")
            params.append(after)
        return self.query("SELECT * FROM {t}_files WHERE " + " AND ".join(where) + " ORDER BY case_id LIMIT ?",
                          [*params, limit])

    def iter_rows(self, area: str, disaster_id: str | None, batch: int = 2000) -> Iterator[dict[str, Any]]:
        after = None
        while page := self.rows(area, disaster_id, after, batch):
            yield from page
            if len(page) < batch:
                return
            after = page[-1]["case_id"]

    def progress(self, area: str, disaster_id: str | None = None) -> dict[str, dict[str, int]]:
        """Per kind (rebuild / purchase / repair): households needing it, started, completed, accepted,
        moved in, closed; subsidy approved, paid, outstanding (fen)."""
        low, high = area_bounds(area)
        where, params = [f"village BETWEEN ? AND ? AND {LIVE}"], [low, high]
        if disaster_id:
            where.append("disaster_id = ?")
            params.append(disaster_id)
        out: dict[str, dict[str, int]] = {}
        for r in self.query("SELECT mode, started_on, completed_on, accepted_on, moved_in_on, closed_on, subsidy_fen,"
                            " paid_fen FROM {t}_files WHERE " + " AND ".join(where), params):
            f = out.setdefault(KIND_OF_MODE[r["mode"]], dict.fromkeys((
                "households", "started", "completed", "accepted", "moved_in", "closed", "approved_fen", "paid_fen",
                "outstanding_fen"), 0))
            f["households"] += 1
            for key in ("started", "completed", "accepted", "moved_in", "closed"):
                f[key] += 1 if r[f"{key}_on"] else 0
            f["approved_fen"] += int(r["subsidy_fen"] or 0)
            f["paid_fen"] += int(r["paid_fen"] or 0)
            f["outstanding_fen"] = f["approved_fen"] - f["paid_fen"]
        return out

    def case_counts(self, disaster_id: str, area: str) -> dict[tuple[str, str], tuple[int, int]]:
        """(township, damage) → (households, rooms) of the live files of a process."""
        low, high = area_bounds(area)
        rows = self.query(
            "SELECT township, damage, COUNT(*) AS households, SUM(rooms) AS rooms FROM {t}_files"
            f" WHERE disaster_id = ? AND village BETWEEN ? AND ? AND {LIVE} GROUP BY township, damage",
            [disaster_id, low, high])
        return {(r["township"], r["damage"]): (int(r["households"]), int(r["rooms"] or 0)) for r in rows}

    def disasters(self, area: str) -> list[str]:
        low, high = area_bounds(area)
        return [r["disaster_id"] for r in self.query(
            "SELECT DISTINCT disaster_id FROM {t}_files WHERE village BETWEEN ? AND ? ORDER BY disaster_id",
            [low, high])]

    def above_standard(self, area: str, recorded_from: str, recorded_to: str) -> list[dict[str, Any]]:
        low, high = area_bounds(area)
        return self.query(
            "SELECT case_id, disaster_id, county, village, damage, rooms, mode, subsidy_fen, standard_fen,"
            " approval_reason, table_version, standard_row, approved_at FROM {t}_files WHERE village BETWEEN ? AND ?"
            " AND above_standard = '1' AND approved_at >= ? AND approved_at < ? ORDER BY approved_at, case_id",
            [low, high, recorded_from, recorded_to])

    def overdue(self, area: str, today: date, rules: HousingRules) -> list[dict[str, Any]]:
        """Files past the agreement's dates, past the progress rhythm, or whose last tranche is past its
        working days after 验收."""
        low, high = area_bounds(area)
        out = []
        rows = self.query(
            "SELECT case_id, disaster_id, village, head_name, head_name_cipher, mode, step, planned_start,"
            " planned_completion, started_on, completed_on, accepted_on, last_progress_on, subsidy_fen, paid_fen"
            f" FROM {{t}}_files WHERE village BETWEEN ? AND ? AND {LIVE} AND step NOT IN ('closed', 'moved_in')"
            " ORDER BY village, case_id", [low, high])
        for r in rows:
            found = []
            if r["planned_start"] and not r["started_on"] and r["planned_start"] < today.isoformat():
                found.append(("start_late", date.fromisoformat(r["planned_start"])))
            if r["planned_completion"] and not r["completed_on"] and r["planned_completion"] < today.isoformat():
                found.append(("completion_late", date.fromisoformat(r["planned_completion"])))
            if r["step"] not in ("applied", "deliberated", "posted", "township_reviewed", "accepted"):
                due = date.fromordinal(date.fromisoformat(r["last_progress_on"]).toordinal()
                                       + rules.progress_report_days)
                if due < today:
                    found.append(("progress_report_due", due))
            if r["accepted_on"] and int(r["paid_fen"] or 0) < int(r["subsidy_fen"] or 0):
                days = rules.tranches_for(r["mode"])[-1].within_working_days or 5
                due = rules.calendar.add_working_days(date.fromisoformat(r["accepted_on"]), days)
                if due < today:
                    found.append(("final_tranche_due", due))
            for kind, since in found:
                out.append({"kind": kind, "since": since, "days_overdue": (today - since).days,
                            **{k: r[k] for k in ("case_id", "disaster_id", "village", "head_name", "head_name_cipher",
                                                 "mode", "step")},
                            "subsidy_fen": int(r["subsidy_fen"] or 0), "paid_fen": int(r["paid_fen"] or 0)})
        return out

    def tranches_of(self, row: dict[str, Any]) -> dict[str, Any]:
        return dict(json.loads(row["tranches"] or "{}"))
