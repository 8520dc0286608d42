"""Relief fund balances (救灾资金): one row per fund (county × programme × period).

Allocated by source (central / provincial / city / county, 下达), given back
to the allocating level (收回), paid to households, payments that came back
(退回 / 冲正), and the balance = allocated − given back − paid + returned —
the same arithmetic as `ReliefFund.balance`. All integer fen (BIGINT).
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.relief.fund import FundSource, ReliefFund
from projections.views import BatchingView, PostgresView, SQLiteView

SOURCE_COLUMNS = {s.value: f"allocated_{s.value}" for s in FundSource}


DDL = [
    ("CREATE TABLE IF NOT EXISTS {t}_funds ("
    " fund_id TEXT PRIMARY KEY, county TEXT NOT NULL, programme TEXT NOT NULL, period TEXT NOT NULL,"
    " allocated_central BIGINT NOT NULL DEFAULT 0, allocated_provincial BIGINT NOT NULL DEFAULT 0,"
    " allocated_city BIGINT NOT NULL DEFAULT 0, allocated_county BIGINT NOT NULL DEFAULT 0,"
    " given_back BIGINT NOT NULL DEFAULT 0, paid BIGINT NOT NULL DEFAULT 0, returned BIGINT NOT NULL DEFAULT 0,"
    " balance BIGINT NOT NULL DEFAULT 0, documents TEXT NOT NULL, version INTEGER NOT NULL,"
    " opened_at TEXT NOT NULL, updated_at TEXT NOT NULL){ff}"),
    "CREATE INDEX IF NOT EXISTS {n}_funds_county ON {t}_funds (county, programme, period)",
]


MONEY = ("allocated_central", "allocated_provincial", "allocated_city", "allocated_county", "given_back", "paid",
         "returned", "balance")


class FundQueries(BatchingView):
    own_tables = ("{t}_funds",)

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking) -> None:
        with self.writing(tracking) as c:
            fund_id = str(event.originator_id)
            stamp = (event.originator_version, event.timestamp.isoformat(), fund_id)
            if isinstance(event, ReliefFund.Opened):
                c.execute(self.sql(
                    "INSERT INTO {t}_funds (fund_id, county, programme, period, documents, version, opened_at,"
                    " updated_at) VALUES (?, ?, ?, ?, '[]', ?, ?, ?)"
                ), (fund_id, event.county, event.programme, event.period, event.originator_version,
                    event.timestamp.isoformat(), event.timestamp.isoformat()))
                return
            if isinstance(event, ReliefFund.Allocated):
                column = SOURCE_COLUMNS[event.source]  # a known source: the aggregate's command checked it
                c.execute(self.sql("SELECT documents FROM {t}_funds WHERE fund_id = ?"), (fund_id,))
                documents = json.dumps([*json.loads(c.fetchone()["documents"]), event.document], ensure_ascii=False)
                c.execute(self.sql(
                    f"UPDATE {{t}}_funds SET {column} = {column} + ?, balance = balance + ?, documents = ?,"
                    " version = ?, updated_at = ? WHERE fund_id = ?"
                ), (event.amount, event.amount, documents, *stamp))
                return
            column, sign = {
                ReliefFund.GivenBack: ("given_back", "-"),
                ReliefFund.Debited: ("paid", "-"),
                ReliefFund.Credited: ("returned", "+"),
            }[type(event)]
            c.execute(self.sql(
                f"UPDATE {{t}}_funds SET {column} = {column} + ?, balance = balance {sign} ?, version = ?,"
                " updated_at = ? WHERE fund_id = ?"
            ), (event.amount, event.amount, *stamp))

    def funds(self, area: str, programme: str | None = None, period: str | None = None) -> list[dict[str, Any]]:
        """The funds of the counties in an area (a township or village area: its county's funds)."""
        where, params = ["county LIKE ?"], [area[:6] + "%"]
        for column, value in (("programme", programme), ("period", period)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        rows = self.query(
            "SELECT * FROM {t}_funds WHERE " + " AND ".join(where) + " ORDER BY county, programme, period", params
        )
        for r in rows:
            for k in MONEY:
                r[k] = int(r[k])
            r["allocated"] = {s: r[c] for s, c in SOURCE_COLUMNS.items()}
            r["allocated_total"] = sum(r["allocated"].values())
            r["documents"] = json.loads(r["documents"])
        return rows


FUND_EVENTS = (ReliefFund.Opened, ReliefFund.Allocated, ReliefFund.GivenBack, ReliefFund.Debited,
               ReliefFund.Credited)


class SQLiteFundsView(FundQueries, SQLiteView):
    projection_name = "funds"


class PostgresFundsView(FundQueries, PostgresView):
    projection_name = "funds"


class FundsProjection(Projection[FundQueries]):
    """救灾资金 balances by source, for the funds views of relief officers."""

    name = "funds"
    topics = ()
    sqlite_view = SQLiteFundsView
    postgres_view = PostgresFundsView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, FUND_EVENTS):
            self.view.apply(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
