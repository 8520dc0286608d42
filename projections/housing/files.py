"""因灾倒塌损坏住房户: one row per housing file (一户一档), where it stands and what it was paid.

Personal data as in the roster: names and addresses masked with ciphertext beside
them (officers in scope see them in clear), ID and phone numbers masked with
ciphertext (clear only with a recorded purpose). The approval's free-text reason
is kept with runs of ten or more digits masked. Money is integer fen.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.audit.accountability_scan import scrub
from ledger.housing.case import HousingCase
from ledger.personal.identifiers import mask_address, mask_id, mask_name, mask_phone
from ledger.personal.keys import PersonalDataKey
from projections.housing.queries import HousingQueries
from projections.views import PostgresView, SQLiteView

COLUMNS = (
    "case_id", "disaster_id", "disaster_year", "county", "township", "village", "head_name", "head_name_cipher",
    "address", "address_cipher", "id_masked", "id_cipher", "phone_masked", "phone_cipher", "members", "damage",
    "rooms", "mode", "flood_storage", "step", "applied_on", "applied_at", "subsidy_fen", "standard_fen",
    "above_standard", "approval_reason", "table_version", "standard_row", "approved_at", "planned_start",
    "planned_completion", "started_on", "completed_on", "accepted_on", "moved_in_on", "closed_on",
    "last_progress_on", "paid_fen", "tranches", "delays", "failed_inspections", "version", "updated_at",
)


DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_files (" + ", ".join(
        f"{c} {'BIGINT' if c.endswith('_fen') else 'INTEGER' if c in ('disaster_year', 'rooms', 'members', 'version', 'failed_inspections') else 'TEXT'}"
        + (" PRIMARY KEY" if c == "case_id" else "") for c in COLUMNS) + "){ff}",
    "CREATE INDEX IF NOT EXISTS {n}_files_village ON {t}_files (village, disaster_id)",
    "CREATE INDEX IF NOT EXISTS {n}_files_disaster ON {t}_files (disaster_id, township, damage)",
]


UPSERT = (f"INSERT INTO {{t}}_files ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
          " ON CONFLICT (case_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:]))


STEP_DATES = {"started": "started_on", "completed": "completed_on", "moved_in": "moved_in_on", "closed": "closed_on"}


class HousingView(HousingQueries):
    own_tables = ("{t}_files",)

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking, pii: PersonalDataKey | None) -> None:
        with self.writing(tracking) as c:  # type: ignore[attr-defined]
            case_id = str(event.originator_id)
            if isinstance(event, HousingCase.Applied):
                row = _applied(case_id, event, pii)
            else:
                c.execute(self.sql("SELECT * FROM {t}_files WHERE case_id = ?"), (case_id,))  # type: ignore[attr-defined]
                found = c.fetchone()
                if found is None:
                    raise LookupError(f"housing: file {case_id} has no row (its Applied event was not seen)")
                row = dict(found)
                _change(row, event)
            row["version"] = event.originator_version
            row["updated_at"] = event.timestamp.isoformat()
            c.execute(self.sql(UPSERT), tuple(row[k] for k in COLUMNS))  # type: ignore[attr-defined]


def _applied(case_id: str, e: Any, pii: PersonalDataKey | None) -> dict[str, Any]:
    if pii is None:
        raise RuntimeError("the housing list keeps personal data encrypted: open it with the personal-data key")
    row = dict.fromkeys(COLUMNS)
    row.update({
        "case_id": case_id, "disaster_id": str(e.disaster_id), "disaster_year": int(e.disaster_year),
        "county": e.county, "township": e.township, "village": e.village, "head_name": mask_name(e.head_name),
        "head_name_cipher": pii.encrypt(e.head_name), "address": mask_address(e.address),
        "address_cipher": pii.encrypt(e.address), "id_masked": mask_id(e.id_number), "id_cipher": pii.encrypt(e.id_number),
        "phone_masked": mask_phone(e.phone), "phone_cipher": pii.encrypt(e.phone), "members": len(e.members),
        "damage": e.damage, "rooms": int(e.rooms), "mode": e.mode, "flood_storage": "1" if e.flood_storage else "0",
        "step": "applied", "applied_on": e.applied_on.isoformat() if hasattr(e, "applied_on") else None,
        "applied_at": e.timestamp.isoformat(), "subsidy_fen": 0, "standard_fen": 0, "above_standard": "0",
        "paid_fen": 0, "tranches": "{}", "delays": "{}", "failed_inspections": 0,
        "last_progress_on": e.applied_on.isoformat(),
    })
    return row


def _change(row: dict[str, Any], e: Any) -> None:
    stated = getattr(e, "stated_on", None) or getattr(e, "held_on", None) or getattr(e, "signed_on", None)
    name = type(e).__name__
    if name == "Deliberated":
        row["step"] = "deliberated"
    elif name == "Posted":
        row["step"], stated = "posted", e.start
    elif name == "ObjectionResolved" and e.upheld:
        row["step"] = "rejected"
    elif name == "TownshipReviewed":
        row["step"] = "township_reviewed"
    elif name == "CountyApproved":
        row.update(step="approved", subsidy_fen=int(e.subsidy), standard_fen=int(e.standard_fen),
                   above_standard="1" if e.above_standard else "0", approval_reason=scrub(e.reason),
                   table_version=e.table_version, standard_row=e.row["id"], approved_at=e.timestamp.isoformat())
    elif name == "AgreementSigned":
        row.update(step="agreed", planned_start=_iso(e.planned_start), planned_completion=_iso(e.planned_completion))
    elif name == "StepRecorded":
        row["step"] = e.step
        row[STEP_DATES[e.step]] = e.stated_on.isoformat()
        if e.delay_days:
            row["delays"] = json.dumps({**json.loads(row["delays"]), e.step: e.delay_days})
    elif name == "Inspected":
        if e.passed:
            row.update(step="accepted", accepted_on=e.stated_on.isoformat())
        else:
            row["failed_inspections"] = int(row["failed_inspections"]) + 1
    elif name == "ClosedEarly":
        row["step"] = e.step
    elif name in ("TranchePaid", "TrancheReturned"):
        tranches = json.loads(row["tranches"])
        if name == "TranchePaid":
            tranches[e.payment_id] = {"tranche": e.tranche, "amount": int(e.amount), "status": "paid"}
        else:
            tranches[e.payment_id]["status"] = "returned"
        row["tranches"] = json.dumps(tranches, sort_keys=True)
        row["paid_fen"] = sum(t["amount"] for t in tranches.values() if t["status"] == "paid")
    if stated is not None and name not in ("TranchePaid", "TrancheReturned", "OtherMoneyRecorded"):
        row["last_progress_on"] = max(row["last_progress_on"] or "", stated.isoformat())


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class SQLiteHousingView(HousingView, SQLiteView):
    projection_name = "housing"


class PostgresHousingView(HousingView, PostgresView):
    projection_name = "housing"


class HousingProjection(Projection[HousingView]):
    """因灾倒塌损坏住房户: one row per housing file."""

    name = "housing"
    topics = ()
    sqlite_view = SQLiteHousingView
    postgres_view = PostgresHousingView
    pii: PersonalDataKey | None = None

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, HousingCase.Event):
            self.view.apply(domain_event, tracking, self.pii)
        else:
            self.view.insert_tracking(tracking)
