"""Where an event stands in the one log: its notification id (SQLite rowid, PostgreSQL notification_id).

The library answers positions for what it just saved, not for an event saved
earlier; a replayed command answers the position of its original event, found
here by the event's aggregate id and version (an indexed lookup: both
backends key the events table on (originator_id, originator_version)).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


def position_of(app: Any, originator_id: UUID, version: int) -> int:
    """The notification id of one stored event (0 if it is not stored)."""
    recorder = app.recorder
    if not hasattr(recorder, "events_table_name"):  # the in-memory recorder of unit tests: no SQL to ask
        found = (n.id for n in recorder.select_notifications(start=1, limit=10**9)
                 if n.originator_id == originator_id and n.originator_version == version)
        return next(found, 0)
    postgres = type(recorder.datastore).__module__ == "eventsourcing.postgres"
    if postgres:
        table = f'"{recorder.datastore.schema}".{recorder.events_table_name}'
        sql = f"SELECT notification_id FROM {table} WHERE originator_id = %s AND originator_version = %s"
        params: tuple[Any, ...] = (originator_id, version)
    else:
        sql = f"SELECT rowid FROM {recorder.events_table_name} WHERE originator_id = ? AND originator_version = ?"
        params = (originator_id.hex, version)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return 0
    return int(row["notification_id"] if postgres else row[0])
