"""Upward reports (上报) of the city and the province: one row per report and process it names.

The deadline clocks of the levels above the county (`ledger.disasters.deadlines`)
read them beside the board's process states.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.disasters.upward import UpwardReport
from projections.views import BatchingView, PostgresView, SQLiteView

DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_rows ("
    " report_id TEXT NOT NULL, disaster_id TEXT NOT NULL, level TEXT NOT NULL, unit TEXT NOT NULL,"
    " kind TEXT NOT NULL, day TEXT, recorded_at TEXT NOT NULL, PRIMARY KEY (report_id, disaster_id))",
    "CREATE INDEX IF NOT EXISTS {n}_rows_disaster ON {t}_rows (disaster_id)",
]


class UpwardQueries(BatchingView):
    own_tables = ("{t}_rows",)

    def table_ddl(self) -> list[str]:
        return DDL

    def filed(self, event: Any, tracking: Tracking) -> None:
        with self.writing(tracking) as c:
            day = event.day.isoformat() if event.day is not None else None
            c.executemany(self.sql(
                "INSERT INTO {t}_rows (report_id, disaster_id, level, unit, kind, day, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"),
                [(str(event.originator_id), d, event.level, event.unit, event.kind, day, event.timestamp.isoformat())
                 for d in event.disaster_ids])

    def for_processes(self, disaster_ids: list[str]) -> list[dict[str, Any]]:
        """The upward reports naming any of the processes, shaped as `deadlines.evaluate` reads them."""
        out: list[dict[str, Any]] = []
        for start in range(0, len(disaster_ids), 500):
            chunk = disaster_ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self.query(f"SELECT * FROM {{t}}_rows WHERE disaster_id IN ({marks})", chunk)
            out += [{"report_id": r["report_id"], "level": r["level"], "unit": r["unit"], "kind": r["kind"],
                     "day": r["day"], "recorded_at": r["recorded_at"], "disaster_ids": [r["disaster_id"]]}
                    for r in rows]
        return out


    def in_area(self, prefix: str, limit: int = 500) -> list[dict[str, Any]]:
        """Upward reports filed by units within an area (newest first), one entry per report."""
        rows = self.query("SELECT * FROM {t}_rows WHERE unit LIKE ? ORDER BY recorded_at DESC, report_id",
                          [prefix + "%"])
        reports: dict[str, dict[str, Any]] = {}
        for r in rows:
            item = reports.setdefault(r["report_id"], {
                "report_id": r["report_id"], "level": r["level"], "unit": r["unit"], "kind": r["kind"],
                "day": r["day"], "recorded_at": r["recorded_at"], "disaster_ids": []})
            item["disaster_ids"].append(r["disaster_id"])
        return list(reports.values())[:limit]


class SQLiteUpwardView(UpwardQueries, SQLiteView):
    projection_name = "upward"


class PostgresUpwardView(UpwardQueries, PostgresView):
    projection_name = "upward"


class UpwardProjection(Projection[UpwardQueries]):
    """One row per upward report and process it names."""

    name = "upward"
    topics = ()
    sqlite_view = SQLiteUpwardView
    postgres_view = PostgresUpwardView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, UpwardReport.Filed):
            self.view.filed(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
