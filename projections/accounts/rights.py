"""Who held which right when: one row per change of an account's role, scope or status (Registered,
AccessChanged, Suspended, Restored, Revoked), with when it took effect (the event's recorded time), who
made it and why. The rights in force at a moment are each account's latest row recorded by then."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.accounts.aggregate import Account
from projections.views import BatchingView, PostgresView, SQLiteView

DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_rights ("
    " account_id TEXT NOT NULL, version BIGINT NOT NULL, username TEXT NOT NULL, display_name TEXT NOT NULL,"
    " role TEXT NOT NULL, scope TEXT NOT NULL, status TEXT NOT NULL, valid_from TEXT NOT NULL, event TEXT NOT NULL,"
    " reason TEXT, changed_by TEXT, position BIGINT NOT NULL, PRIMARY KEY (account_id, version))",
    "CREATE INDEX IF NOT EXISTS {n}_rights_from ON {t}_rights (valid_from)",
]

RIGHTS_EVENTS = (Account.Registered, Account.AccessChanged, Account.Suspended, Account.Restored, Account.Revoked)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class RightsQueries(BatchingView):
    own_tables = ("{t}_rights",)

    def table_ddl(self) -> list[str]:
        return DDL

    def apply(self, event: Any, tracking: Tracking) -> None:
        with self.writing(tracking) as c:
            account = str(event.originator_id)
            if isinstance(event, Account.Registered):
                row = {"username": event.username, "display_name": event.display_name, "role": event.role,
                       "scope": event.scope, "status": "active"}
            else:
                c.execute(self.sql("SELECT username, display_name, role, scope, status FROM {t}_rights"
                                   " WHERE account_id = ? ORDER BY version DESC LIMIT 1"), (account,))
                found = c.fetchone()
                if found is None:
                    raise ValueError(f"no registration of account {account}")
                row = dict(found)
                if isinstance(event, Account.AccessChanged):
                    row.update(role=event.role, scope=event.scope)
                else:
                    row["status"] = {Account.Suspended: "suspended", Account.Restored: "active",
                                     Account.Revoked: "revoked"}[type(event)]
            actor = getattr(event, "actor", None) or {}
            c.execute(self.sql(
                "INSERT INTO {t}_rights (account_id, version, username, display_name, role, scope, status, valid_from,"
                " event, reason, changed_by, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                (account, event.originator_version, row["username"], row["display_name"], row["role"], row["scope"],
                 row["status"], utc_text(event.timestamp), type(event).__name__, getattr(event, "reason", None),
                 actor.get("username"), tracking.notification_id))

    def at(self, moment: datetime) -> list[dict[str, Any]]:
        """Each account's rights in force at `moment` (accounts registered by then), by username."""
        return self.query(
            "SELECT r.* FROM {t}_rights r WHERE r.valid_from <= ? AND r.version = (SELECT MAX(s.version)"
            " FROM {t}_rights s WHERE s.account_id = r.account_id AND s.valid_from <= ?) ORDER BY r.username",
            [utc_text(moment), utc_text(moment)])

    def history(self, account_ids: list[str] | None = None) -> list[dict[str, Any]]:
        if account_ids is not None and not account_ids:
            return []
        where = ""
        if account_ids:
            where = " WHERE account_id IN (" + ", ".join("?" for _ in account_ids) + ")"
        return self.query("SELECT * FROM {t}_rights" + where + " ORDER BY username, version", account_ids or [])


class SQLiteRightsView(RightsQueries, SQLiteView):
    projection_name = "accounts"


class PostgresRightsView(RightsQueries, PostgresView):
    projection_name = "accounts"


class AccountRightsProjection(Projection[RightsQueries]):
    """Every change of an account's rights, with when it took effect."""

    name = "accounts"
    topics = ()
    sqlite_view = SQLiteRightsView
    postgres_view = PostgresRightsView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        if isinstance(domain_event, RIGHTS_EVENTS):
            self.view.apply(domain_event, tracking)
        else:
            self.view.insert_tracking(tracking)
