"""Statistics for the 直报 chain: the 快报 indicators summed over disaster processes.

One row per (process, township, indicator) holds the value that counts now
— from the latest reports naming the township that were not returned; a
retracted process has none. Values are kept as integers in hundredths
(every indicator has at most two decimals), so sums are exact on both
backends. Sums across processes are 人次 (a person hit twice counts twice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.disasters import state as ds
from ledger.reference.indicators import IndicatorSet
from projections.areas import CHILD_DIGITS
from projections.disasters.fold import fold_into
from projections.views import BatchingView, PostgresView, SQLiteView

SCALE = 100


DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_state (disaster_id TEXT PRIMARY KEY, state TEXT NOT NULL){ff}",
    "CREATE TABLE IF NOT EXISTS {t}_figures ("
    " disaster_id TEXT NOT NULL, township TEXT NOT NULL, county TEXT NOT NULL, hazard TEXT NOT NULL,"
    " subtype TEXT, disaster_date TEXT NOT NULL, indicator TEXT NOT NULL, hundredths BIGINT NOT NULL,"
    " PRIMARY KEY (disaster_id, township, indicator))",
    "CREATE INDEX IF NOT EXISTS {n}_figures_area ON {t}_figures (township, disaster_date)",
    "CREATE INDEX IF NOT EXISTS {n}_figures_date ON {t}_figures (disaster_date, township)",
]


@dataclass(frozen=True)
class StatisticsQuery:
    area: str  # prefix: 2 province, 4 city, 6 county, 9 township
    date_from: str  # ISO, inclusive
    date_to: str
    hazard: str | None = None
    subtype: str | None = None  # county level and below only


@dataclass(frozen=True)
class StatisticsResult:
    totals: dict[str, Decimal]
    breakdown: dict[str, dict[str, Decimal]]  # child area prefix → totals
    processes: int
    by_subtype: dict[str, dict[str, Decimal]] | None  # county level and below: 亚灾种 kept


class StatisticsQueries(BatchingView):
    own_tables = ("{t}_state", "{t}_figures")

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking) -> None:
        """Fold the event into the process's state; rows are rewritten once per batch (`flush`)."""
        with self.writing(tracking) as c:
            fold_into(self, c, "SELECT state FROM {t}_state WHERE disaster_id = ?", event)
            if _changes_figures(event):
                self._dirty.add(str(event.originator_id))

    def flush(self, c: Any) -> None:
        if not self._pending:
            return
        c.executemany(
            self.sql(
                "INSERT INTO {t}_state (disaster_id, state) VALUES (?, ?)"
                " ON CONFLICT (disaster_id) DO UPDATE SET state = excluded.state"
            ),
            [(d, json.dumps(s, ensure_ascii=False)) for d, s in self._pending.items()],
        )
        dirty = sorted(self._dirty)
        if not dirty:
            return
        c.executemany(self.sql("DELETE FROM {t}_figures WHERE disaster_id = ?"), [(d,) for d in dirty])
        rows = [
            (disaster_id, township, state["county"], state["hazard"], state["subtype"], state["disaster_date"],
             key, int(value * SCALE))
            for disaster_id in dirty
            for state in (self._pending[disaster_id],)
            for township, figures in ds.township_figures(state).items()
            for key, value in figures.items()
        ]
        if rows:
            c.executemany(
                self.sql(
                    "INSERT INTO {t}_figures (disaster_id, township, county, hazard, subtype, disaster_date,"
                    " indicator, hundredths) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                rows,
            )

    def statistics(self, q: StatisticsQuery) -> StatisticsResult:
        child = CHILD_DIGITS.get(len(q.area), 9)
        # A range on the 9-digit township code (not LIKE), so the index serves every backend and collation.
        where = ["township BETWEEN ? AND ?", "disaster_date >= ?", "disaster_date <= ?"]
        params: list[Any] = [q.area.ljust(9, "0"), q.area.ljust(9, "9"), q.date_from, q.date_to]
        if q.hazard:
            where.append("hazard = ?")
            params.append(q.hazard)
        if q.subtype and len(q.area) >= 6:
            where.append("subtype = ?")
            params.append(q.subtype)
        clause = " AND ".join(where)
        rows = self.query(
            f"SELECT substr(township, 1, {child}) AS child, indicator, SUM(hundredths) AS total"
            f" FROM {{t}}_figures WHERE {clause} GROUP BY substr(township, 1, {child}), indicator",
            params,
        )
        breakdown: dict[str, dict[str, Decimal]] = {}
        totals: dict[str, Decimal] = {}
        for r in rows:
            value = _scaled(r["indicator"], r["total"])
            breakdown.setdefault(r["child"], {})[r["indicator"]] = value
            totals[r["indicator"]] = totals.get(r["indicator"], Decimal(0)) + value
        count = self.query(f"SELECT COUNT(DISTINCT disaster_id) AS n FROM {{t}}_figures WHERE {clause}", params)
        by_subtype = None
        if len(q.area) >= 6:
            by_subtype = {}
            for r in self.query(
                f"SELECT COALESCE(subtype, '') AS subtype, indicator, SUM(hundredths) AS total"
                f" FROM {{t}}_figures WHERE {clause} GROUP BY COALESCE(subtype, ''), indicator",
                params,
            ):
                by_subtype.setdefault(r["subtype"], {})[r["indicator"]] = _scaled(r["indicator"], r["total"])
        return StatisticsResult(
            totals=totals,
            breakdown=dict(sorted(breakdown.items())),
            processes=int(count[0]["n"]),
            by_subtype=by_subtype,
        )


@lru_cache(maxsize=1)
def _scales() -> dict[str, int]:
    return {key: i.scale for key, i in IndicatorSet.load().indicators.items()}


def _scaled(indicator: str, hundredths: Any) -> Decimal:
    """A summed value at its indicator's scale (850.50 公顷 stays 850.50)."""
    value = Decimal(int(hundredths)) / SCALE
    return value.quantize(Decimal(1).scaleb(-_scales().get(indicator, 2)))


def _changes_figures(event: Any) -> bool:
    """Events that change which figures count, or where they are filed."""
    return not isinstance(
        event, (ds.Disaster.DeclaredStable, ds.Disaster.ResponseLevelChanged, ds.Disaster.ReportAccepted)
    )


class SQLiteStatisticsView(StatisticsQueries, SQLiteView):
    projection_name = "statistics"


class PostgresStatisticsView(StatisticsQueries, PostgresView):
    projection_name = "statistics"


class StatisticsProjection(Projection[StatisticsQueries]):
    """Per process and township, the figures that count; summed for any area and period."""

    name = "statistics"
    topics = ()
    sqlite_view = SQLiteStatisticsView
    postgres_view = PostgresStatisticsView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, ds.DISASTER_EVENTS):
            self.view.apply(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
