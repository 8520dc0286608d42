"""Disaster board: one row per disaster process (灾害过程).

Stage (初报/续报/核报/核销), latest county totals, response level, review
status of the latest report, last report time; filterable by area prefix,
一级灾种, date range and stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.disasters import state as ds
from projections.disasters.fold import fold_into
from projections.views import BatchingView, PostgresView, SQLiteView

DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_rows ("
    " disaster_id TEXT PRIMARY KEY, county TEXT NOT NULL, hazard TEXT NOT NULL, subtype TEXT,"
    " disaster_date TEXT NOT NULL, occurred_at TEXT NOT NULL, stage TEXT NOT NULL, response_level INTEGER,"
    " review_status TEXT, last_report_at TEXT, report_count INTEGER NOT NULL, totals TEXT NOT NULL,"
    " state TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL){ff}",
    "CREATE INDEX IF NOT EXISTS {n}_rows_county ON {t}_rows (county, disaster_date)",
    "CREATE INDEX IF NOT EXISTS {n}_rows_date ON {t}_rows (disaster_date, disaster_id)",
]


UPSERT = (
    "INSERT INTO {t}_rows (disaster_id, county, hazard, subtype, disaster_date, occurred_at, stage,"
    " response_level, review_status, last_report_at, report_count, totals, state, version, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (disaster_id) DO UPDATE SET county = excluded.county, hazard = excluded.hazard,"
    " subtype = excluded.subtype, disaster_date = excluded.disaster_date, occurred_at = excluded.occurred_at,"
    " stage = excluded.stage, response_level = excluded.response_level, review_status = excluded.review_status,"
    " last_report_at = excluded.last_report_at, report_count = excluded.report_count, totals = excluded.totals,"
    " state = excluded.state, version = excluded.version, updated_at = excluded.updated_at"
)


@dataclass(frozen=True)
class BoardFilter:
    area: str = ""  # area-code prefix
    hazard: str | None = None
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None
    stage: str | None = None


class BoardQueries(BatchingView):
    own_tables = ("{t}_rows",)

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking) -> None:
        """Fold the event into the process's state; the row is written once per batch (`flush`)."""
        with self.writing(tracking) as c:
            fold_into(self, c, "SELECT state FROM {t}_rows WHERE disaster_id = ?", event)

    def flush(self, c: Any) -> None:
        rows = []
        for disaster_id, state in self._pending.items():
            latest = ds.latest_report(state)
            rows.append((
                disaster_id, state["county"], state["hazard"], state["subtype"], state["disaster_date"],
                state["occurred_at"], ds.stage(state), state["response_level"],
                latest["review"] if latest else None, latest["recorded_at"] if latest else None,
                len(state["reports"]), json.dumps({k: str(v) for k, v in ds.totals(state).items()}),
                json.dumps(state, ensure_ascii=False), state["version"], state["updated_at"],
            ))
        if rows:
            c.executemany(self.sql(UPSERT), rows)

    def find(self, f: BoardFilter, after: tuple[str, str] | None, limit: int) -> list[dict[str, Any]]:
        """Newest first, keyset-paginated on (disaster_date, disaster_id)."""
        where, params = self._where(f)
        if after is not None:
            where.append("(disaster_date < ? OR (disaster_date = ? AND disaster_id < ?))")
            params += [after[0], after[0], after[1]]
        sql = "SELECT * FROM {t}_rows"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY disaster_date DESC, disaster_id DESC LIMIT ?"
        return self.query(sql, [*params, limit])

    def count(self, f: BoardFilter) -> int:
        where, params = self._where(f)
        sql = "SELECT COUNT(*) AS n FROM {t}_rows" + (" WHERE " + " AND ".join(where) if where else "")
        return int(self.query(sql, params)[0]["n"])

    def get(self, disaster_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not disaster_ids:
            return {}
        marks = ", ".join("?" for _ in disaster_ids)
        rows = self.query(f"SELECT * FROM {{t}}_rows WHERE disaster_id IN ({marks})", disaster_ids)
        return {r["disaster_id"]: r for r in rows}

    @staticmethod
    def _where(f: BoardFilter) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if f.area:
            county_prefix = f.area[:6]
            where.append("county LIKE ?")
            params.append(county_prefix + "%")
        if f.hazard:
            where.append("hazard = ?")
            params.append(f.hazard)
        if f.date_from:
            where.append("disaster_date >= ?")
            params.append(f.date_from)
        if f.date_to:
            where.append("disaster_date <= ?")
            params.append(f.date_to)
        if f.stage:
            where.append("stage = ?")
            params.append(f.stage)
        return where, params


class SQLiteBoardView(BoardQueries, SQLiteView):
    projection_name = "board"


class PostgresBoardView(BoardQueries, PostgresView):
    projection_name = "board"


class BoardProjection(Projection[BoardQueries]):
    """One row per 灾害过程, for the board and the disaster lists."""

    name = "board"
    topics = ()  # every event, so every position is tracked
    sqlite_view = SQLiteBoardView
    postgres_view = PostgresBoardView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, ds.DISASTER_EVENTS):
            self.view.apply(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
