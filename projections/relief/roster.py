"""Relief roster (花名册): one row per household case (救助对象).

The columns of 应急统表10 (受灾人员冬春生活政府救助人口一览表): 户主姓名,
户主身份证号, 户主联系方式, 家庭类型, 家庭人口, 家庭住址, 需救助人口,
已发放救助款, 已发放救助物资折款, 救助资金发放形式 — plus where the case
stands in 户报 → 村评 → 公示 → 乡审 → 县定 → 发放 and the payment facts the
overdue-work list needs.

Personal data is never kept in clear (DESIGN "Personal data"): the ID,
phone and 一卡通 numbers, the head's name and the address are stored masked
(columns `head_name`, `address`, `*_masked`: what every reader gets by
default), as AES-GCM ciphertext under the personal-data key (suffix
`_cipher`: officers within their scope see names and addresses in clear,
numbers only with a recorded purpose) and, for the ID, as the keyed hash
the ledger matches on (`id_hash`, the same value as `ReliefCase.id_hash`).
Rejection and objection texts are not kept; a backdated posting's reason is
kept with every run of ten or more digits masked.

Money is integer fen (BIGINT). Amounts paid count payments made minus
those returned by the bank (退回) or reversed (冲正).

The 冬春 statistics and the overdue-work list are queries over this table
(`projections.relief.statistics`, `projections.relief.overdue`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.audit.accountability_scan import scrub
from ledger.personal.identifiers import mask_address, mask_card, mask_id, mask_name, mask_phone
from ledger.personal.keys import PersonalDataKey
from ledger.relief.case import ReliefCase, Stage
from projections.areas import area_bounds
from projections.relief.matches import MATCH_DDL, MATCH_TABLES, MatchQueries, PostingQueries
from projections.relief.overdue import OverdueQueries
from projections.relief.statistics import EqualAmounts, SeasonArrivals, WinterSpringQueries
from projections.relief.timeliness import TIMELINESS_DDL, TIMELINESS_TABLES, TimelinessQueries
from projections.views import BatchingView, PostgresView, SQLiteView

PAYMENT_FORM = "一卡通"  # 救助资金发放形式: the 惠民惠农财政补贴资金“一卡通” account


CASH_FORM = "现金（三方签字）"  # a household without a card (C44)


COLUMNS = (
    "case_id", "programme", "period", "county", "township", "village",
    "head_name", "id_masked", "id_cipher", "id_hash", "phone_masked", "phone_cipher", "card_masked", "card_cipher",
    "household_type", "household_size", "address", "people_in_need",
    "paid_fen", "goods_fen", "payment_form",
    "stage", "approved_fen", "review_flags", "posting_start", "posting_end", "open_objections",
    "applied_on", "reviewed_at", "approved_at",
    "payments", "payment_count", "returned_count", "returned_fen", "last_returned_at",
    "version", "updated_at",
    "head_name_cipher", "address_cipher", "assessed_on", "posting_recorded_at", "posting_backdated_days",
    "posting_reason", "disaster_id", "members", "floor_fen", "standard_id", "applied_at",
)


DDL = [
    ("CREATE TABLE IF NOT EXISTS {t}_rows ("
    " case_id TEXT PRIMARY KEY, programme TEXT NOT NULL, period TEXT NOT NULL, county TEXT NOT NULL,"
    " township TEXT NOT NULL, village TEXT NOT NULL,"
    " head_name TEXT NOT NULL, id_masked TEXT NOT NULL, id_cipher TEXT NOT NULL, id_hash TEXT NOT NULL,"
    " phone_masked TEXT NOT NULL, phone_cipher TEXT NOT NULL, card_masked TEXT NOT NULL, card_cipher TEXT NOT NULL,"
    " household_type TEXT NOT NULL, household_size INTEGER NOT NULL, address TEXT NOT NULL,"
    " people_in_need INTEGER NOT NULL,"
    " paid_fen BIGINT NOT NULL, goods_fen BIGINT NOT NULL, payment_form TEXT NOT NULL,"
    " stage TEXT NOT NULL, approved_fen BIGINT NOT NULL, review_flags TEXT NOT NULL,"
    " posting_start TEXT, posting_end TEXT, open_objections INTEGER NOT NULL,"
    " applied_on TEXT NOT NULL, reviewed_at TEXT, approved_at TEXT,"
    " payments TEXT NOT NULL, payment_count INTEGER NOT NULL, returned_count INTEGER NOT NULL,"
    " returned_fen BIGINT NOT NULL, last_returned_at TEXT,"
    " version INTEGER NOT NULL, updated_at TEXT NOT NULL,"
    " head_name_cipher TEXT NOT NULL, address_cipher TEXT NOT NULL, assessed_on TEXT, posting_recorded_at TEXT,"
    " posting_backdated_days INTEGER NOT NULL, posting_reason TEXT, disaster_id TEXT, members INTEGER NOT NULL,"
    " floor_fen BIGINT, standard_id TEXT, applied_at TEXT NOT NULL){ff}"),
    "CREATE INDEX IF NOT EXISTS {n}_rows_list ON {t}_rows (programme, period, case_id)",
    "CREATE INDEX IF NOT EXISTS {n}_rows_village ON {t}_rows (village, programme, period)",
    "CREATE INDEX IF NOT EXISTS {n}_rows_stage ON {t}_rows (stage, village)",
    "CREATE INDEX IF NOT EXISTS {n}_rows_id_hash ON {t}_rows (id_hash)",
]


UPSERT = (
    f"INSERT INTO {{t}}_rows ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    " ON CONFLICT (case_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "case_id")
)


MONEY_STAGES = (Stage.APPROVED.value, Stage.PAID.value)


class RosterQueries(WinterSpringQueries, SeasonArrivals, EqualAmounts, OverdueQueries, MatchQueries, PostingQueries,
                    TimelinessQueries,
                    BatchingView):
    own_tables = ("{t}_rows", *MATCH_TABLES, *TIMELINESS_TABLES)

    def table_ddl(self) -> list[str]:
        return DDL + MATCH_DDL + TIMELINESS_DDL

    # --- writes -----------------------------------------------------------------------

    def apply(self, event: Any, tracking: Tracking, pii: PersonalDataKey | None) -> None:
        with self.writing(tracking) as c:
            case_id = str(event.originator_id)
            if isinstance(event, ReliefCase.Applied):
                row = _applied(case_id, event, pii)
            else:
                c.execute(self.sql("SELECT * FROM {t}_rows WHERE case_id = ?"), (case_id,))
                found = c.fetchone()
                if found is None:
                    raise LookupError(f"roster: case {case_id} has no row (its Applied event was not seen)")
                row = dict(found)
                CHANGES[type(event)](row, event)
            self.match_event(c, event, row, pii)
            self.timeliness_event(c, event, row)
            row["version"] = event.originator_version
            row["updated_at"] = event.timestamp.isoformat()
            c.execute(self.sql(UPSERT), tuple(row[k] for k in COLUMNS))

    # --- reads ------------------------------------------------------------------------

    def rows(self, programme: str, period: str, area: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        """The cases of a programme and period in an area (any code prefix), by case_id after `after`."""
        where, params = _filter(programme, period, area)
        if after:
            where += " AND case_id > ?"
            params.append(after)
        return self.query(f"SELECT * FROM {{t}}_rows WHERE {where} ORDER BY case_id LIMIT ?", [*params, limit])

    def iter_rows(self, programme: str, period: str, area: str, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every row, fetched `batch` at a time (for streaming exports)."""
        after = None
        while True:
            page = self.rows(programme, period, area, after, batch)
            yield from page
            if len(page) < batch:
                return
            after = page[-1]["case_id"]

    def count(self, programme: str, period: str, area: str) -> int:
        where, params = _filter(programme, period, area)
        return int(self.query(f"SELECT COUNT(*) AS n FROM {{t}}_rows WHERE {where}", params)[0]["n"])

    def get(self, case_id: str) -> dict[str, Any] | None:
        found = self.query("SELECT * FROM {t}_rows WHERE case_id = ?", [case_id])
        return found[0] if found else None

    def funds(self, area: str, programme: str | None = None, period: str | None = None) -> list[dict[str, Any]]:
        """The cases' side of the money, per county, programme and period: households and people
        approved, fen approved, paid (net of returns), returned and goods — to reconcile with the
        fund balances (`projections.relief.funds`)."""
        low, high = area_bounds(area)
        where, params = ["village BETWEEN ? AND ?", f"stage IN ('{MONEY_STAGES[0]}', '{MONEY_STAGES[1]}')"], [low, high]
        for column, value in (("programme", programme), ("period", period)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        rows = self.query(
            "SELECT county, programme, period, COUNT(*) AS households, SUM(people_in_need) AS people,"
            " SUM(approved_fen) AS approved_fen, SUM(paid_fen) AS paid_fen, SUM(returned_fen) AS returned_fen,"
            " SUM(goods_fen) AS goods_fen FROM {t}_rows WHERE " + " AND ".join(where)
            + " GROUP BY county, programme, period ORDER BY county, programme, period",
            params,
        )
        return [{k: (v if k in ("county", "programme", "period") else int(v or 0)) for k, v in r.items()}
                for r in rows]


def _filter(programme: str, period: str, area: str) -> tuple[str, list[Any]]:
    low, high = area_bounds(area)
    return "programme = ? AND period = ? AND village BETWEEN ? AND ?", [programme, period, low, high]


def _applied(case_id: str, e: Any, pii: PersonalDataKey | None) -> dict[str, Any]:
    if pii is None:
        raise RuntimeError("the roster keeps personal data encrypted: open it with the personal-data key "
                           "(open_projection(..., pii=runtime.pii))")
    return {
        "case_id": case_id, "programme": e.programme, "period": e.period, "county": e.county,
        "township": e.township, "village": e.village, "head_name": mask_name(e.head_name),
        "head_name_cipher": pii.encrypt(e.head_name), "address_cipher": pii.encrypt(e.address),
        "assessed_on": None, "posting_recorded_at": None, "posting_backdated_days": 0, "posting_reason": None,
        "disaster_id": str(e.disaster_id) if e.disaster_id else None, "members": len(e.members),
        "floor_fen": None, "standard_id": None, "applied_at": e.timestamp.isoformat(),
        "id_masked": mask_id(e.id_number), "id_cipher": pii.encrypt(e.id_number), "id_hash": e.id_hash,
        "phone_masked": mask_phone(e.phone), "phone_cipher": pii.encrypt(e.phone),
        "card_masked": mask_card(e.card_number), "card_cipher": pii.encrypt(e.card_number),
        "household_type": e.household_type, "household_size": int(e.household_size),
        "address": mask_address(e.address),
        "people_in_need": int(e.people_in_need), "paid_fen": 0, "goods_fen": 0,
        "payment_form": PAYMENT_FORM if e.card_number else CASH_FORM,
        "stage": Stage.APPLIED.value, "approved_fen": 0, "review_flags": json.dumps(list(e.review_flags)),
        "posting_start": None, "posting_end": None, "open_objections": 0,
        "applied_on": e.applied_on.isoformat(), "reviewed_at": None, "approved_at": None,
        "payments": "{}", "payment_count": 0, "returned_count": 0, "returned_fen": 0, "last_returned_at": None,
    }


def _assessed(row: dict[str, Any], e: Any) -> None:
    row["stage"] = Stage.ASSESSED.value if e.approved else Stage.REJECTED.value
    row["assessed_on"] = e.held_on.isoformat()


def _posted(row: dict[str, Any], e: Any) -> None:
    row["stage"] = Stage.POSTED.value
    row["posting_start"] = e.start.isoformat()
    row["posting_end"] = e.end.isoformat()
    row["posting_recorded_at"] = e.timestamp.isoformat()
    row["posting_backdated_days"] = int(e.backdated_days)
    row["posting_reason"] = scrub(e.reason)


def _objection_raised(row: dict[str, Any], e: Any) -> None:
    row["open_objections"] += 1


def _objection_resolved(row: dict[str, Any], e: Any) -> None:
    row["open_objections"] = max(row["open_objections"] - 1, 0)
    if e.upheld:
        row["stage"] = Stage.REJECTED.value


def _reviewed(row: dict[str, Any], e: Any) -> None:
    row["stage"] = Stage.TOWNSHIP_REVIEWED.value
    row["reviewed_at"] = e.timestamp.isoformat()


def _approved(row: dict[str, Any], e: Any) -> None:
    row["stage"] = Stage.APPROVED.value
    row["approved_fen"] = int(e.amount)
    row["approved_at"] = e.timestamp.isoformat()
    row["floor_fen"] = e.floor
    row["standard_id"] = (e.standard or {}).get("id")
    if e.above_cap:
        row["review_flags"] = json.dumps([*json.loads(row["review_flags"]), "above_cap"])


def _closed(stage: Stage) -> Callable[[dict[str, Any], Any], None]:
    def change(row: dict[str, Any], e: Any) -> None:
        row["stage"] = stage.value

    return change


def _paid(row: dict[str, Any], e: Any) -> None:
    payments = json.loads(row["payments"])
    payments[e.payment_id] = {"amount": int(e.amount), "status": "paid", "fund_id": str(e.fund_id)}
    row["payment_count"] += 1
    if e.method == "cash":
        row["payment_form"] = CASH_FORM
    _money(row, payments)


def _came_back(status: str) -> Callable[[dict[str, Any], Any], None]:
    def change(row: dict[str, Any], e: Any) -> None:
        payments = json.loads(row["payments"])
        payments[e.payment_id]["status"] = status
        row["returned_count"] += 1
        row["returned_fen"] += payments[e.payment_id]["amount"]
        row["last_returned_at"] = e.timestamp.isoformat()
        _money(row, payments)

    return change


def _goods(row: dict[str, Any], e: Any) -> None:
    row["goods_fen"] += int(e.value)


def _money(row: dict[str, Any], payments: dict[str, dict[str, Any]]) -> None:
    """Paid = payments still standing; the stage follows as the aggregate's does (approved ↔ paid)."""
    row["payments"] = json.dumps(payments, sort_keys=True)
    row["paid_fen"] = sum(p["amount"] for p in payments.values() if p["status"] == "paid")
    if row["stage"] in MONEY_STAGES:
        row["stage"] = Stage.PAID.value if row["paid_fen"] >= row["approved_fen"] else Stage.APPROVED.value


CHANGES: dict[type, Callable[[dict[str, Any], Any], None]] = {
    ReliefCase.VillageAssessed: _assessed,
    ReliefCase.Posted: _posted,
    ReliefCase.ObjectionRaised: _objection_raised,
    ReliefCase.ObjectionResolved: _objection_resolved,
    ReliefCase.TownshipReviewed: _reviewed,
    ReliefCase.CountyApproved: _approved,
    ReliefCase.Rejected: _closed(Stage.REJECTED),
    ReliefCase.Withdrawn: _closed(Stage.WITHDRAWN),
    ReliefCase.PaymentMade: _paid,
    ReliefCase.PaymentReturned: _came_back("returned"),
    ReliefCase.PaymentReversed: _came_back("reversed"),
    ReliefCase.GoodsIssued: _goods,
}


CASE_EVENTS = (ReliefCase.Applied, *CHANGES)


class SQLiteRosterView(RosterQueries, SQLiteView):
    projection_name = "roster"


class PostgresRosterView(RosterQueries, PostgresView):
    projection_name = "roster"


class RosterProjection(Projection[RosterQueries]):
    """花名册: one row per relief case, personal data masked and encrypted."""

    name = "roster"
    topics = ()  # every event, so every position is tracked
    sqlite_view = SQLiteRosterView
    postgres_view = PostgresRosterView
    pii: PersonalDataKey | None = None  # set by open_projection; needed once a case is applied

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, CASE_EVENTS):
            self.view.apply(domain_event, tracking, self.pii)
        else:
            self.view.insert_tracking(tracking)
