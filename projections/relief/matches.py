"""Duplicates beyond the head (C38, C51): one person, one 一卡通 account or one phone in two open cases.

One claim per household head already refuses a second open case of the same
head in a programme and period. A family member may still be listed in two
households (or be head of one and member of another), and two households may
give the same card or phone. Those are flagged for review, not refused: the
roster keeps, per case, the keyed hashes of every person (head and members),
of the card and of the phone (`{t}_persons`: never the numbers), and a query
pairs the open cases of the same programme and period that share one — in
whatever order or concurrency they were filed; a pair disappears when one
of its cases is rejected or withdrawn.
"""

from __future__ import annotations

from typing import Any

from ledger.households.household import card_hash, person_hash, phone_hash
from ledger.relief.case import CLOSED, ReliefCase
from projections.areas import area_bounds

MATCH_TABLES = ("{t}_persons",)


MATCH_DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_persons (case_id TEXT NOT NULL, kind TEXT NOT NULL, hash TEXT NOT NULL,"
    " role TEXT NOT NULL, programme TEXT NOT NULL, period TEXT NOT NULL, PRIMARY KEY (case_id, kind, hash))",
    "CREATE INDEX IF NOT EXISTS {n}_persons_hash ON {t}_persons (programme, period, kind, hash)",
]


MATCH_KINDS = {"person": "member_in_two_cases", "card": "shared_card", "phone": "shared_phone"}


MATCH_NAMES = {"member_in_two_cases": "同一人在两户", "shared_card": "同一一卡通账号", "shared_phone": "同一联系电话"}


class MatchQueries:
    """Pairs of open cases sharing a person, a card or a phone (mixed into the roster view)."""

    query: Any
    sql: Any

    def match_event(self, c: Any, event: Any, row: dict[str, Any], pii: Any) -> None:
        if not isinstance(event, ReliefCase.Applied):
            return
        keys = {("person", event.id_hash, "head")}
        keys |= {("person", person_hash(pii, m["id_number"]), "member") for m in event.members}
        if event.card_number:
            keys.add(("card", card_hash(pii, event.card_number), "head"))
        keys.add(("phone", phone_hash(pii, event.phone), "head"))
        for kind, value, role in sorted(keys):
            c.execute(self.sql("INSERT INTO {t}_persons (case_id, kind, hash, role, programme, period)"
                               " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, kind, hash) DO NOTHING"),
                      (row["case_id"], kind, value, role, event.programme, event.period))

    def matches(self, area: str, programme: str | None = None, period: str | None = None,
                applied_from: str | None = None, applied_to: str | None = None) -> list[dict[str, Any]]:
        """Each pair once (the earlier case first), where either case lies in the area; `applied_from` /
        `applied_to` (ISO dates, inclusive) select pairs by the later case's 户报 date."""
        low, high = area_bounds(area)
        closed = ", ".join(f"'{s.value}'" for s in CLOSED)
        where = ["a.case_id < b.case_id", f"ra.stage NOT IN ({closed})", f"rb.stage NOT IN ({closed})",
                 "(ra.village BETWEEN ? AND ? OR rb.village BETWEEN ? AND ?)"]
        params: list[Any] = [low, high, low, high]
        for column, value in (("a.programme", programme), ("a.period", period)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        later = "CASE WHEN ra.applied_on > rb.applied_on THEN ra.applied_on ELSE rb.applied_on END"
        if applied_from:
            where.append(f"{later} >= ?")
            params.append(applied_from)
        if applied_to:
            where.append(f"{later} <= ?")
            params.append(applied_to)
        rows = self.query(
            "SELECT a.kind, a.programme, a.period, a.case_id AS case_a, b.case_id AS case_b, a.role AS role_a,"
            " b.role AS role_b, ra.village AS village_a, rb.village AS village_b, ra.applied_on AS applied_a,"
            " rb.applied_on AS applied_b, ra.stage AS stage_a, rb.stage AS stage_b"
            " FROM {t}_persons a JOIN {t}_persons b ON a.programme = b.programme AND a.period = b.period"
            " AND a.kind = b.kind AND a.hash = b.hash"
            " JOIN {t}_rows ra ON ra.case_id = a.case_id JOIN {t}_rows rb ON rb.case_id = b.case_id"
            " WHERE " + " AND ".join(where) + " ORDER BY a.programme, a.period, a.kind, a.case_id, b.case_id",
            params,
        )
        out = []
        for r in rows:
            kind = MATCH_KINDS[r["kind"]]
            out.append({"kind": kind, "kind_name": MATCH_NAMES[kind], **{k: r[k] for k in (
                "programme", "period", "case_a", "case_b", "role_a", "role_b", "village_a", "village_b",
                "applied_a", "applied_b", "stage_a", "stage_b")}})
        return out

    def flags_of(self, case_id: str) -> list[str]:
        """The match flags of one case: `member_in_two_cases:<other case>` …"""
        rows = self.query(
            "SELECT a.kind, b.case_id AS other FROM {t}_persons a JOIN {t}_persons b ON a.programme = b.programme"
            " AND a.period = b.period AND a.kind = b.kind AND a.hash = b.hash AND a.case_id <> b.case_id"
            " JOIN {t}_rows rb ON rb.case_id = b.case_id WHERE a.case_id = ? AND rb.stage NOT IN ("
            + ", ".join(f"'{s.value}'" for s in CLOSED) + ") ORDER BY a.kind, b.case_id", [case_id])
        return sorted({f"{MATCH_KINDS[r['kind']]}:{r['other']}" for r in rows})


class PostingQueries:
    """Postings recorded late (公示补录) — mixed into the roster view."""

    query: Any

    def backdated_postings(self, area: str, recorded_from: str, recorded_to: str) -> list[dict[str, Any]]:
        """Postings whose stated start lay beyond the tolerance before the day they were recorded, recorded
        in [recorded_from, recorded_to) (ISO UTC instants)."""
        low, high = area_bounds(area)
        return self.query(
            "SELECT case_id, county, village, programme, period, assessed_on, posting_start, posting_end,"
            " posting_recorded_at, posting_backdated_days, posting_reason FROM {t}_rows"
            " WHERE village BETWEEN ? AND ? AND posting_backdated_days > 0 AND posting_recorded_at >= ?"
            " AND posting_recorded_at < ? ORDER BY posting_recorded_at, case_id",
            [low, high, recorded_from, recorded_to])
