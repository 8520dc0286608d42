"""Statistics for the 直报 chain: the 快报 indicators summed over disaster processes.

One row per (process, township, indicator) holds the value that counts now
— from the latest reports naming the township that were not returned; a
retracted process has none. Each change of such a value adds its delta, in
the same transaction, to a pre-aggregated table by (area level, area code,
day, 一级灾种, 亚灾种 at county and township level, indicator) — with the
number of values summed, so a sum of zeros still shows — and a process's
arrival in an area adds 1 to that area's process count (indicator `#`). A
return, a refiling, a correction of date or type and a 核销 subtract exactly
what they had added. Each value is added under its day, its month and its
year (`period` d2024-07-01, m2024-07, y2024), so any date range is answered
from whole years, whole months and the days at its ends. Statistics answer
from that table. Values are kept as
integers in hundredths (every indicator has at most two decimals), so sums
are exact on both backends. Sums across processes are 人次 (a person hit
twice counts twice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.disasters.state import DISASTER_EVENTS
from ledger.reference.indicators import IndicatorSet
from projections.areas import CHILD_DIGITS
from projections.disasters.fold import STACKS_DDL, ProcessFolding
from projections.disasters.process import Change
from projections.views import BatchingView, PostgresView, SQLiteView

SCALE = 100
LEVELS = (2, 4, 6, 9)  # province, city, county, township: prefixes of the township's code
SUBTYPE_LEVELS = 6  # 亚灾种 is kept from the county level down
PROCESSES = "#"  # the indicator under which an area counts its processes


DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_state (disaster_id TEXT PRIMARY KEY, state TEXT NOT NULL){ff}",
    "CREATE TABLE IF NOT EXISTS {t}_figures ("
    " disaster_id TEXT NOT NULL, township TEXT NOT NULL, county TEXT NOT NULL, hazard TEXT NOT NULL,"
    " subtype TEXT, disaster_date TEXT NOT NULL, indicator TEXT NOT NULL, hundredths BIGINT NOT NULL,"
    " PRIMARY KEY (disaster_id, township, indicator)){ff}",
    "CREATE INDEX IF NOT EXISTS {n}_figures_area ON {t}_figures (township, disaster_date)",
    "CREATE INDEX IF NOT EXISTS {n}_figures_date ON {t}_figures (disaster_date, township)",
    "CREATE TABLE IF NOT EXISTS {t}_totals (level INTEGER NOT NULL, area TEXT NOT NULL, period TEXT NOT NULL,"
    " hazard TEXT NOT NULL, subtype TEXT NOT NULL, indicator TEXT NOT NULL, hundredths BIGINT NOT NULL,"
    " entries BIGINT NOT NULL, PRIMARY KEY (level, area, period, hazard, subtype, indicator)){ff}",
    *STACKS_DDL,
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


class StatisticsQueries(ProcessFolding, BatchingView):
    own_tables = ("{t}_state", "{t}_figures", "{t}_totals", "{t}_stacks")
    header_sql = "SELECT state FROM {t}_state WHERE disaster_id = ?"

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking) -> None:
        """Apply the event to the process; rows and deltas are written once per batch (`flush`)."""
        with self.writing(tracking) as c:
            applied, before = self.fold(c, event)
            disaster_id = str(event.originator_id)
            header = applied.header
            if applied.keys_before is not None:
                self._move(c, disaster_id, before, header)
                return
            for change in applied.changes:
                self._values[(disaster_id, change.township, change.indicator)] = change.new
                self._add(header, change, 1)
            self._count_areas(before, header, 1)

    def _move(self, c: Any, disaster_id: str, before: dict[str, Any] | None, header: dict[str, Any]) -> None:
        """The keys changed or the process was retracted: everything it added goes, and comes back under
        its new keys unless it no longer counts."""
        assert before is not None
        values = self._current_values(c, disaster_id)
        for (township, indicator), value in values.items():
            self._add(before, Change(township, indicator, None, value), -1)
        self._count_areas(None, before, -1)
        if header["retracted"]:
            self._gone.add(disaster_id)
            for key in [k for k in self._values if k[0] == disaster_id]:
                del self._values[key]
            return
        self._rekeyed.add(disaster_id)
        for (township, indicator), value in values.items():
            self._add(header, Change(township, indicator, None, value), 1)
        self._count_areas(None, header, 1)

    def _current_values(self, c: Any, disaster_id: str) -> dict[tuple[str, str], str]:
        """The values that count now: the rows, overlaid with this batch's changes."""
        values: dict[tuple[str, str], str] = {}
        if disaster_id not in self._gone:
            c.execute(self.sql("SELECT township, indicator, hundredths FROM {t}_figures WHERE disaster_id = ?"),
                      (disaster_id,))
            values = {(r["township"], r["indicator"]): str(Decimal(int(r["hundredths"])) / SCALE)
                      for r in c.fetchall()}
        for (d, township, indicator), value in self._values.items():
            if d == disaster_id:
                if value is None:
                    values.pop((township, indicator), None)
                else:
                    values[(township, indicator)] = value
        return values

    def _add(self, header: dict[str, Any], change: Change, sign: int) -> None:
        """Gathered per township for the batch; spread over areas and periods when written."""
        key = (change.township, header["disaster_date"], header["hazard"], header["subtype"] or "", change.indicator)
        total = self._township_deltas.get(key)
        if total is None:
            total = self._township_deltas[key] = [0, 0]
        total[0] += sign * (_hundredths(change.new) - _hundredths(change.old))
        total[1] += sign * ((change.new is not None) - (change.old is not None))

    def _spread(self) -> None:
        for (township, day, hazard, subtype, indicator), (delta, entries) in self._township_deltas.items():
            if not (delta or entries):
                continue
            for level in LEVELS:
                for period in periods(day):
                    key = (level, township[:level], period, hazard, subtype if level >= SUBTYPE_LEVELS else "",
                           indicator)
                    total = self._deltas.setdefault(key, [0, 0])
                    total[0] += delta
                    total[1] += entries

    def _count_areas(self, before: dict[str, Any] | None, after: dict[str, Any], sign: int) -> None:
        """A process counts once in each area where it has figures: count its arrivals and departures."""
        old = set(before["townships"]) if before else set()
        new = set(after["townships"])
        for level, area in sorted({(level, t[:level]) for t in old ^ new for level in LEVELS}):
            was = any(t.startswith(area) for t in old)
            now = any(t.startswith(area) for t in new)
            if was != now:
                for period in periods(after["disaster_date"]):
                    key = (level, area, period, after["hazard"],
                           (after["subtype"] or "") if level >= SUBTYPE_LEVELS else "", PROCESSES)
                    total = self._deltas.setdefault(key, [0, 0])
                    total[1] += sign * (1 if now else -1)

    def flush(self, c: Any) -> None:
        if not self._pending:
            return
        c.executemany(
            self.sql("INSERT INTO {t}_state (disaster_id, state) VALUES (?, ?)"
                     " ON CONFLICT (disaster_id) DO UPDATE SET state = excluded.state"),
            [(d, json.dumps(s, ensure_ascii=False)) for d, s in self._pending.items()],
        )
        self.flush_stacks(c)
        if self._gone:
            c.executemany(self.sql("DELETE FROM {t}_figures WHERE disaster_id = ?"), [(d,) for d in sorted(self._gone)])
        rekeyed = sorted(self._rekeyed - self._gone)
        if rekeyed:
            c.executemany(
                self.sql("UPDATE {t}_figures SET county = ?, hazard = ?, subtype = ?, disaster_date = ?"
                         " WHERE disaster_id = ?"),
                [(*(self._pending[d][k] for k in ("county", "hazard", "subtype", "disaster_date")), d)
                 for d in rekeyed],
            )
        self._flush_values(c)
        self._flush_totals(c)

    def _flush_values(self, c: Any) -> None:
        upserts, deletes = [], []
        for (disaster_id, township, indicator), value in sorted(self._values.items()):
            if value is None:
                deletes.append((disaster_id, township, indicator))
            else:
                h = self._pending[disaster_id]
                upserts.append((disaster_id, township, h["county"], h["hazard"], h["subtype"], h["disaster_date"],
                                indicator, _hundredths(value)))
        if deletes:
            c.executemany(self.sql("DELETE FROM {t}_figures WHERE disaster_id = ? AND township = ? AND indicator = ?"),
                          deletes)
        if upserts:
            c.executemany(self.sql(
                "INSERT INTO {t}_figures (disaster_id, township, county, hazard, subtype, disaster_date, indicator,"
                " hundredths) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (disaster_id, township, indicator)"
                " DO UPDATE SET hundredths = excluded.hundredths"), upserts)

    def _flush_totals(self, c: Any) -> None:
        self._spread()
        changed = sorted((k, v) for k, v in self._deltas.items() if v[0] or v[1])
        if not changed:
            return
        c.executemany(self.sql(
            "INSERT INTO {t}_totals AS x (level, area, period, hazard, subtype, indicator, hundredths, entries)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (level, area, period, hazard, subtype, indicator)"
            " DO UPDATE SET hundredths = x.hundredths + excluded.hundredths, entries = x.entries + excluded.entries"),
            [(*k, *v) for k, v in changed])
        c.executemany(self.sql(
            "DELETE FROM {t}_totals WHERE level = ? AND area = ? AND period = ? AND hazard = ? AND subtype = ?"
            " AND indicator = ? AND entries = 0"), [k for k, v in changed if v[1] < 0])

    def discard(self) -> None:
        super().discard()
        self._values: dict[tuple[str, str, str], str | None] = {}  # (process, township, indicator) → value now
        self._deltas: dict[tuple[Any, ...], list[int]] = {}  # totals key → [hundredths, entries]
        self._township_deltas: dict[tuple[str, ...], list[int]] = {}  # (township, day, 灾种, 亚灾种, indicator) → same
        self._gone: set[str] = set()
        self._rekeyed: set[str] = set()

    def statistics(self, q: StatisticsQuery) -> StatisticsResult:
        child = CHILD_DIGITS.get(len(q.area), 9)
        level = max(lv for lv in LEVELS if lv <= max(len(q.area), 2))  # the area's own rows
        spans = period_ranges(date.fromisoformat(q.date_from[:10]), date.fromisoformat(q.date_to[:10]))
        if not spans:
            return StatisticsResult(totals={}, breakdown={}, processes=0,
                                    by_subtype={} if len(q.area) >= SUBTYPE_LEVELS else None)
        where = ["(" + " OR ".join("period BETWEEN ? AND ?" for _ in spans) + ")"]
        params: list[Any] = [key for span in spans for key in span]
        if q.hazard:
            where.append("hazard = ?")
            params.append(q.hazard)
        if q.subtype and len(q.area) >= SUBTYPE_LEVELS:
            where.append("subtype = ?")
            params.append(q.subtype)
        clause = " AND ".join(where)
        rows = self.query(
            f"SELECT area AS child, indicator, SUM(hundredths) AS total FROM {{t}}_totals"
            f" WHERE level = ? AND area BETWEEN ? AND ? AND {clause} AND indicator <> ?"
            f" GROUP BY area, indicator",
            [child, q.area.ljust(child, "0"), q.area.ljust(child, "9"), *params, PROCESSES],
        )
        breakdown: dict[str, dict[str, Decimal]] = {}
        totals: dict[str, Decimal] = {}
        for r in rows:
            value = _scaled(r["indicator"], r["total"])
            breakdown.setdefault(r["child"], {})[r["indicator"]] = value
            totals[r["indicator"]] = totals.get(r["indicator"], Decimal(0)) + value
        own = "level = ? AND area BETWEEN ? AND ? AND " + clause
        bounds = [level, q.area[:level].ljust(level, "0"), q.area[:level].ljust(level, "9")]
        count = self.query(f"SELECT SUM(entries) AS n FROM {{t}}_totals WHERE {own} AND indicator = ?",
                           [*bounds, *params, PROCESSES])
        by_subtype = None
        if len(q.area) >= SUBTYPE_LEVELS:
            by_subtype = {}
            for r in self.query(
                f"SELECT subtype, indicator, SUM(hundredths) AS total FROM {{t}}_totals"
                f" WHERE {own} AND indicator <> ? GROUP BY subtype, indicator",
                [*bounds, *params, PROCESSES],
            ):
                by_subtype.setdefault(r["subtype"], {})[r["indicator"]] = _scaled(r["indicator"], r["total"])
        return StatisticsResult(
            totals=totals,
            breakdown=dict(sorted(breakdown.items())),
            processes=int(count[0]["n"] or 0),
            by_subtype=by_subtype,
        )


@lru_cache(maxsize=1)
def _scales() -> dict[str, int]:
    return {key: i.scale for key, i in IndicatorSet.load().indicators.items()}


def _scaled(indicator: str, hundredths: Any) -> Decimal:
    """A summed value at its indicator's scale (850.50 公顷 stays 850.50)."""
    value = Decimal(int(hundredths)) / SCALE
    return value.quantize(Decimal(1).scaleb(-_scales().get(indicator, 2)))


def periods(day: str) -> tuple[str, str, str]:
    """The periods a disaster date adds to: its day, its month, its year."""
    return f"d{day}", f"m{day[:7]}", f"y{day[:4]}"


def period_ranges(start: date, end: date) -> list[tuple[str, str]]:
    """[start, end] as ranges of period keys: whole years, whole months, and days at the ends."""
    ranges: list[tuple[str, str]] = []
    day = start
    while day <= end:
        if day.month == 1 and day.day == 1 and date(day.year, 12, 31) <= end:
            last = day.year
            while date(last + 1, 12, 31) <= end:
                last += 1
            ranges.append((f"y{day.year}", f"y{last}"))
            day = date(last + 1, 1, 1)
        elif day.day == 1 and _month_end(day) <= end:
            last = day
            while (following := _month_end(last) + timedelta(days=1)).year == day.year and _month_end(following) <= end:
                last = following
            ranges.append((f"m{day.isoformat()[:7]}", f"m{last.isoformat()[:7]}"))
            day = _month_end(last) + timedelta(days=1)
        else:
            last = min(end, _month_end(day))
            ranges.append((f"d{day.isoformat()}", f"d{last.isoformat()}"))
            day = last + timedelta(days=1)
    return ranges


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _hundredths(value: str | None) -> int:
    return int(Decimal(value) * SCALE) if value is not None else 0


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
        if isinstance(domain_event, DISASTER_EVENTS):
            self.view.apply(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
