"""Accident register (事故登记): one row per accident, and a log of what accountability looks at.

Rows: county, township, sector, date and year, current and highest grade, status, the death and
injury figures that count, loss, and the accident's entries (its events as plain JSON, from which
`ledger.accidents.state.fold` rebuilds it — up to a log position when a report asks). The log:
one row per regrading, finding (and its withdrawal) and casualty change after the 补报 window, with
the log position and the recorded time, so the accountability report can ask "in this area, in
this period, up to this position". Yearly sums for the plans' targets come from the rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.accidents import state as accident_state
from ledger.accidents.grading import Casualties
from projections.views import BatchingView, PostgresView, SQLiteView

DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_rows ("
    " accident_id TEXT PRIMARY KEY, county TEXT NOT NULL, township TEXT NOT NULL, sector TEXT NOT NULL,"
    " occurred_date TEXT NOT NULL, year INTEGER NOT NULL, grade TEXT NOT NULL, max_grade TEXT NOT NULL,"
    " status TEXT NOT NULL, deaths INTEGER NOT NULL, missing INTEGER NOT NULL, seriously_injured INTEGER NOT NULL,"
    " direct_loss_fen BIGINT NOT NULL, entries TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL){ff}",
    "CREATE INDEX IF NOT EXISTS {n}_rows_county ON {t}_rows (county, occurred_date)",
    "CREATE TABLE IF NOT EXISTS {t}_log ("
    " accident_id TEXT NOT NULL, position BIGINT NOT NULL, county TEXT NOT NULL, kind TEXT NOT NULL,"
    " recorded_at TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (accident_id, position))",
    "CREATE INDEX IF NOT EXISTS {n}_log_county ON {t}_log (county, recorded_at)",
]


UPSERT = (
    "INSERT INTO {t}_rows (accident_id, county, township, sector, occurred_date, year, grade, max_grade, status,"
    " deaths, missing, seriously_injured, direct_loss_fen, entries, version, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (accident_id) DO UPDATE SET grade = excluded.grade, max_grade = excluded.max_grade,"
    " status = excluded.status, deaths = excluded.deaths, missing = excluded.missing, seriously_injured = excluded.seriously_injured,"
    " direct_loss_fen = excluded.direct_loss_fen, entries = excluded.entries, version = excluded.version,"
    " updated_at = excluded.updated_at"
)


LOGGED = {"Regraded": "regrading", "FindingRecorded": "finding", "FindingWithdrawn": "finding_withdrawn"}


def utc(value: str) -> str:
    """An ISO time as UTC text, so text order is time order in both databases."""
    return datetime.fromisoformat(value).astimezone(UTC).isoformat()


class RegisterQueries(BatchingView):
    own_tables = ("{t}_rows", "{t}_log")

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking) -> None:
        with self.writing(tracking) as c:
            accident_id = str(event.originator_id)
            entries = self._pending.get(accident_id)
            if entries is None:
                c.execute(self.sql("SELECT entries FROM {t}_rows WHERE accident_id = ?"), (accident_id,))
                row = c.fetchone()
                entries = json.loads(row["entries"]) if row else []
            e = accident_state.entry(event, tracking.notification_id)
            entries.append(e)
            self._pending[accident_id] = entries
            kind = LOGGED.get(e["type"]) or ("late_supplement" if e["type"] == "FollowUpFiled"
                                             and e.get("beyond_window") else None)
            if kind is not None:
                county = entries[0]["county"]
                c.execute(self.sql("INSERT INTO {t}_log (accident_id, position, county, kind, recorded_at, entry)"
                                   " VALUES (?, ?, ?, ?, ?, ?)"),
                          (accident_id, tracking.notification_id, county, kind, utc(e["recorded_at"]),
                           json.dumps(e, ensure_ascii=False)))

    def flush(self, c: Any) -> None:
        rows = []
        for accident_id, entries in self._pending.items():
            s = accident_state.fold(entries)
            casualties = Casualties.of(s["casualties"])
            occurred = datetime.fromisoformat(s["occurred_at"])
            rows.append((accident_id, s["county"], s["township"], s["sector"], occurred.date().isoformat(),
                         occurred.year, s["grade"], s["max_grade"], accident_state.status(s),
                         casualties.deaths, casualties.missing, casualties.seriously_injured, s["direct_loss_fen"],
                         json.dumps(entries, ensure_ascii=False), s["version"], s["updated_at"]))
        if rows:
            c.executemany(self.sql(UPSERT), rows)

    # --- reads ---------------------------------------------------------------------------------------

    def find(self, area: str, date_from: str | None = None, date_to: str | None = None, grade: str | None = None,
             sector: str | None = None, limit: int = 100, after: tuple[str, str] | None = None
             ) -> list[dict[str, Any]]:
        """Newest first, keyset-paginated on (occurred_date, accident_id)."""
        where, params = ["county LIKE ?"], [area[:6] + "%"]
        if len(area) > 6:
            where.append("township LIKE ?")
            params.append(area + "%")
        for column, op, value in (("occurred_date", ">=", date_from), ("occurred_date", "<=", date_to),
                                  ("grade", "=", grade), ("sector", "=", sector)):
            if value:
                where.append(f"{column} {op} ?")
                params.append(value)
        if after is not None:
            where.append("(occurred_date < ? OR (occurred_date = ? AND accident_id < ?))")
            params += [after[0], after[0], after[1]]
        return self.query("SELECT * FROM {t}_rows WHERE " + " AND ".join(where)
                          + " ORDER BY occurred_date DESC, accident_id DESC LIMIT ?", [*params, limit])

    def get(self, accident_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM {t}_rows WHERE accident_id = ?", [accident_id])
        return rows[0] if rows else None

    def log(self, area: str, start: datetime, end: datetime, upto: int | None = None) -> list[dict[str, Any]]:
        """Regradings, findings and late 补报 of the area's accidents recorded in [start, end), up to `upto`."""
        sql = "SELECT * FROM {t}_log WHERE county LIKE ? AND recorded_at >= ? AND recorded_at < ?"
        params: list[Any] = [area[:6] + "%", start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()]
        if upto is not None:
            sql += " AND position <= ?"
            params.append(upto)
        return self.query(sql + " ORDER BY recorded_at, position", params)

    def yearly(self, area: str, year_from: int, year_to: int) -> list[dict[str, Any]]:
        """Per year and sector and grade: accidents, deaths (with the missing apart), withdrawn ones excluded."""
        return self.query(
            "SELECT year, sector, grade, COUNT(*) AS accidents, SUM(deaths) AS deaths, SUM(missing) AS missing,"
            " SUM(seriously_injured) AS seriously_injured FROM {t}_rows"
            " WHERE county LIKE ? AND year >= ? AND year <= ? AND status <> 'withdrawn'"
            " GROUP BY year, sector, grade", [area[:6] + "%", year_from, year_to])


class SQLiteRegisterView(RegisterQueries, SQLiteView):
    projection_name = "accidents"


class PostgresRegisterView(RegisterQueries, PostgresView):
    projection_name = "accidents"


class AccidentRegisterProjection(Projection[RegisterQueries]):
    """One row per 生产安全事故, and the accountability log."""

    name = "accidents"
    topics = ()
    sqlite_view = SQLiteRegisterView
    postgres_view = PostgresRegisterView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, accident_state.ACCIDENT_EVENTS):
            self.view.apply(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
