"""Disaster board: one row per disaster process (灾害过程).

Stage (初报/续报/核报/核销), latest county totals, response level, review
status of the latest report, last report time; filterable by area prefix,
一级灾种, date range and stage. The row keeps a small header of the process
(projections/disasters/process.py); its reports are rows of their own,
appended as they are filed and marked when reviewed, and the figures that
count are the tops of its per-township stacks. Readers get the process as
before (`state`: header, reports, figures), put together when they read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.disasters.state import DISASTER_EVENTS
from projections.disasters import process
from projections.disasters.fold import STACKS_DDL, ProcessFolding
from projections.views import BatchingView, PostgresView, SQLiteView

DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_rows ("
    " disaster_id TEXT PRIMARY KEY, county TEXT NOT NULL, hazard TEXT NOT NULL, subtype TEXT,"
    " disaster_date TEXT NOT NULL, occurred_at TEXT NOT NULL, stage TEXT NOT NULL, response_level INTEGER,"
    " review_status TEXT, last_report_at TEXT, report_count INTEGER NOT NULL, totals TEXT NOT NULL,"
    " state TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL){ff}",
    "CREATE INDEX IF NOT EXISTS {n}_rows_county ON {t}_rows (county, disaster_date)",
    "CREATE INDEX IF NOT EXISTS {n}_rows_date ON {t}_rows (disaster_date, disaster_id)",
    "CREATE TABLE IF NOT EXISTS {t}_reports (disaster_id TEXT NOT NULL, number INTEGER NOT NULL,"
    " kind TEXT NOT NULL, review TEXT NOT NULL, figures TEXT NOT NULL, as_of TEXT, recorded_at TEXT NOT NULL,"
    " filed_by TEXT NOT NULL, phoned_at TEXT, reviewed_at TEXT, reviewed_by TEXT,"
    " PRIMARY KEY (disaster_id, number)){ff}",
    *STACKS_DDL,
]

REPORT_COLUMNS = ("disaster_id", "number", "kind", "review", "figures", "as_of", "recorded_at", "filed_by",
                  "phoned_at", "reviewed_at", "reviewed_by")
JSON_COLUMNS = ("figures", "filed_by", "reviewed_by")


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


class BoardQueries(ProcessFolding, BatchingView):
    own_tables = ("{t}_rows", "{t}_reports", "{t}_stacks")
    header_sql = "SELECT state FROM {t}_rows WHERE disaster_id = ?"

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking) -> None:
        """Apply the event to the process; rows are written once per batch (`flush`)."""
        with self.writing(tracking) as c:
            applied, _ = self.fold(c, event)
            disaster_id = str(event.originator_id)
            for report in applied.new_reports:
                self._new_reports[(disaster_id, report["number"])] = {"disaster_id": disaster_id, **report}
            for review in applied.reviews:
                report = self._new_reports.get((disaster_id, review["number"]))
                if report is not None:
                    report.update(review)
                else:
                    self._reviews.append({"disaster_id": disaster_id, **review})

    def flush(self, c: Any) -> None:
        rows = []
        for disaster_id, header in self._pending.items():
            latest = header["latest"]
            rows.append((
                disaster_id, header["county"], header["hazard"], header["subtype"], header["disaster_date"],
                header["occurred_at"], process.stage(header), header["response_level"],
                latest["review"] if latest else None, latest["recorded_at"] if latest else None,
                header["report_count"], json.dumps({k: str(v) for k, v in process.totals(header).items()}),
                json.dumps(header, ensure_ascii=False), header["version"], header["updated_at"],
            ))
        if rows:
            c.executemany(self.sql(UPSERT), rows)
        self.flush_stacks(c)
        if self._new_reports:
            marks = ", ".join("?" for _ in REPORT_COLUMNS)
            c.executemany(
                self.sql(f"INSERT INTO {{t}}_reports ({', '.join(REPORT_COLUMNS)}) VALUES ({marks})"),
                [tuple(_stored(r, k) for k in REPORT_COLUMNS) for _, r in sorted(self._new_reports.items())],
            )
        if self._reviews:
            c.executemany(
                self.sql("UPDATE {t}_reports SET review = ?, reviewed_at = ?, reviewed_by = ?"
                         " WHERE disaster_id = ? AND number = ?"),
                [(r["review"], r["reviewed_at"], json.dumps(r["reviewed_by"], ensure_ascii=False),
                  r["disaster_id"], r["number"]) for r in self._reviews],
            )

    def discard(self) -> None:
        super().discard()
        self._new_reports: dict[tuple[str, int], dict[str, Any]] = {}
        self._reviews: list[dict[str, Any]] = []

    def _rows(self, rows: list[dict[str, Any]], with_states: bool) -> list[dict[str, Any]]:
        """Rows whose `state` (the process as readers know it, JSON) is read for all at once, or on first use."""
        rows = [ProcessRow(self, r) for r in rows]
        return self._with_states(rows) if with_states else rows

    def _with_states(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row's `state` as readers know it (JSON): the header, the reports and the figures that count."""
        ids = [r["disaster_id"] for r in rows]
        if not ids:
            return rows
        reports: dict[str, list[dict[str, Any]]] = {}
        current: dict[str, dict[str, dict[str, str]]] = {}
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            marks = ", ".join("?" for _ in chunk)
            for r in self.query(f"SELECT * FROM {{t}}_reports WHERE disaster_id IN ({marks})"
                                " ORDER BY disaster_id, number", chunk):
                reports.setdefault(r["disaster_id"], []).append(_report(r))
            for r in self.query(f"SELECT disaster_id, township, indicator, stack FROM {{t}}_stacks"
                                f" WHERE disaster_id IN ({marks}) ORDER BY disaster_id, township, indicator", chunk):
                top = json.loads(r["stack"])[-1][1]
                current.setdefault(r["disaster_id"], {}).setdefault(r["township"], {})[r["indicator"]] = top
        for row in rows:
            d = row["disaster_id"]
            header = row._header if isinstance(row, ProcessRow) else row["state"]
            state = process.full_state(json.loads(header), reports.get(d, []), current.get(d, {}))
            dict.__setitem__(row, "state", json.dumps(state, ensure_ascii=False))
        return rows

    def find(self, f: BoardFilter, after: tuple[str, str] | None, limit: int,
             with_states: bool = False) -> list[dict[str, Any]]:
        """Newest first, keyset-paginated on (disaster_date, disaster_id)."""
        where, params = self._where(f)
        if after is not None:
            where.append("(disaster_date < ? OR (disaster_date = ? AND disaster_id < ?))")
            params += [after[0], after[0], after[1]]
        sql = "SELECT * FROM {t}_rows"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY disaster_date DESC, disaster_id DESC LIMIT ?"
        return self._rows(self.query(sql, [*params, limit]), with_states)

    def count(self, f: BoardFilter) -> int:
        where, params = self._where(f)
        sql = "SELECT COUNT(*) AS n FROM {t}_rows" + (" WHERE " + " AND ".join(where) if where else "")
        return int(self.query(sql, params)[0]["n"])

    def get(self, disaster_ids: list[str], with_states: bool = False) -> dict[str, dict[str, Any]]:
        if not disaster_ids:
            return {}
        marks = ", ".join("?" for _ in disaster_ids)
        rows = self._rows(self.query(f"SELECT * FROM {{t}}_rows WHERE disaster_id IN ({marks})", disaster_ids),
                          with_states)
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


class ProcessRow(dict):  # type: ignore[type-arg]
    """A board row; its `state` is put together from the process's rows when first asked for."""

    def __init__(self, view: BoardQueries, row: dict[str, Any]) -> None:
        super().__init__(row)
        self._view = view
        self._header = self.pop("state")

    def __missing__(self, key: str) -> Any:
        if key != "state":
            raise KeyError(key)
        self._view._with_states([self])  # noqa: SLF001
        return dict.__getitem__(self, "state")


def _stored(report: dict[str, Any], column: str) -> Any:
    value = report.get(column)
    return json.dumps(value, ensure_ascii=False) if column in JSON_COLUMNS and value is not None else value


def _report(row: dict[str, Any]) -> dict[str, Any]:
    """A report row as the process state lists it."""
    out = {k: row[k] for k in ("number", "kind", "review", "as_of", "recorded_at", "phoned_at")}
    out["figures"] = json.loads(row["figures"])
    out["filed_by"] = json.loads(row["filed_by"])
    if row["reviewed_at"] is not None:
        out["reviewed_at"] = row["reviewed_at"]
        out["reviewed_by"] = json.loads(row["reviewed_by"]) if row["reviewed_by"] else None
    return out


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
        if isinstance(domain_event, DISASTER_EVENTS):
            self.view.apply(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
