"""Incident command (应急指挥): one row per incident with its fold, and one row per 镇呼区应 call.

The incident's state (`ledger.incidents.state.fold`) answers who held command at a moment; the
calls table answers which calls went unanswered for longer than N minutes, across an area.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.accidents.state import entry
from ledger.incidents import state as incident_state
from projections.accidents.register import utc
from projections.views import BatchingView, PostgresView, SQLiteView

DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_rows ("
    " incident_id TEXT PRIMARY KEY, area TEXT NOT NULL, category TEXT NOT NULL, title TEXT NOT NULL,"
    " occurred_at TEXT NOT NULL, closed INTEGER NOT NULL, entries TEXT NOT NULL, version INTEGER NOT NULL){ff}",
    "CREATE INDEX IF NOT EXISTS {n}_rows_area ON {t}_rows (area)",
    "CREATE TABLE IF NOT EXISTS {t}_calls ("
    " incident_id TEXT NOT NULL, request_id TEXT NOT NULL, township TEXT NOT NULL, requested_at TEXT NOT NULL,"
    " answered_at TEXT, PRIMARY KEY (incident_id, request_id)){ff}",
    "CREATE INDEX IF NOT EXISTS {n}_calls_township ON {t}_calls (township, requested_at)",
]


UPSERT = (
    "INSERT INTO {t}_rows (incident_id, area, category, title, occurred_at, closed, entries, version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET closed = excluded.closed,"
    " entries = excluded.entries, version = excluded.version"
)


class CommandQueries(BatchingView):
    own_tables = ("{t}_rows", "{t}_calls")

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking) -> None:
        with self.writing(tracking) as c:
            incident_id = str(event.originator_id)
            entries = self._pending.get(incident_id)
            if entries is None:
                c.execute(self.sql("SELECT entries FROM {t}_rows WHERE incident_id = ?"), (incident_id,))
                row = c.fetchone()
                entries = json.loads(row["entries"]) if row else []
            e = entry(event, tracking.notification_id)
            entries.append(e)
            self._pending[incident_id] = entries
            if e["type"] == "SupportRequested":
                c.execute(self.sql("INSERT INTO {t}_calls (incident_id, request_id, township, requested_at)"
                                   " VALUES (?, ?, ?, ?)"), (incident_id, e["request_id"], e["township"],
                                                             utc(e["requested_at"])))
            elif e["type"] == "SupportAnswered":
                c.execute(self.sql("UPDATE {t}_calls SET answered_at = ? WHERE incident_id = ? AND request_id = ?"),
                          (utc(e["answered_at"]), incident_id, e["request_id"]))

    def flush(self, c: Any) -> None:
        rows = []
        for incident_id, entries in self._pending.items():
            s = incident_state.fold(entries)
            rows.append((incident_id, s["area"], s["category"], s["title"], s["occurred_at"],
                         1 if s["closed"] else 0, json.dumps(entries, ensure_ascii=False), s["version"]))
        if rows:
            c.executemany(self.sql(UPSERT), rows)

    def find(self, area: str, open_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
        sql = "SELECT * FROM {t}_rows WHERE area LIKE ?" + (" AND closed = 0" if open_only else "")
        return self.query(sql + " ORDER BY occurred_at DESC, incident_id LIMIT ?", [area + "%", limit])

    def get(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        return {r["incident_id"]: r for r in self.query(f"SELECT * FROM {{t}}_rows WHERE incident_id IN ({marks})",
                                                         ids)}

    def calls_waiting_since(self, area: str, requested_before: str) -> list[dict[str, Any]]:
        """Calls in the area made before `requested_before` (UTC ISO) — the candidates for "unanswered for N min"."""
        return self.query("SELECT * FROM {t}_calls WHERE township LIKE ? AND requested_at < ?"
                          " ORDER BY requested_at, incident_id, request_id", [area + "%", requested_before])


class SQLiteCommandView(CommandQueries, SQLiteView):
    projection_name = "incidents"


class PostgresCommandView(CommandQueries, PostgresView):
    projection_name = "incidents"


class IncidentCommandProjection(Projection[CommandQueries]):
    """One row per incident, and its calls."""

    name = "incidents"
    topics = ()
    sqlite_view = SQLiteCommandView
    postgres_view = PostgresCommandView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, incident_state.INCIDENT_EVENTS):
            self.view.apply(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
