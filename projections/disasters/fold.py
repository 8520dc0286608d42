"""Disaster events applied to a view: the process's header read once per batch, its stacks per township
touched, both written back once per batch with only what changed (projections/disasters/process.py)."""

from __future__ import annotations

import json
from typing import Any

from projections.disasters import process

STACKS_DDL = [
    "CREATE TABLE IF NOT EXISTS {t}_stacks (disaster_id TEXT NOT NULL, township TEXT NOT NULL,"
    " indicator TEXT NOT NULL, stack TEXT NOT NULL, PRIMARY KEY (disaster_id, township, indicator)){ff}",
]


class BatchStacks:
    """One process's stacks as the batch sees them: read a township's once, written at flush."""

    def __init__(self, view: Any, disaster_id: str) -> None:
        self.view, self.disaster_id = view, disaster_id

    def get(self, township: str, indicator: str) -> list[list[Any]]:
        return self.view._township_stacks(self.disaster_id, township).get(indicator, [])  # noqa: SLF001

    def put(self, township: str, indicator: str, stack: list[list[Any]]) -> None:
        self.view._township_stacks(self.disaster_id, township)[indicator] = stack  # noqa: SLF001
        self.view._touched.add((self.disaster_id, township, indicator))  # noqa: SLF001


class ProcessFolding:
    """Mixin for a `BatchingView` following disaster processes (header in `header_sql`'s table)."""

    header_sql: str  # SELECT <header JSON> AS state ... WHERE disaster_id = ?

    def fold(self, c: Any, event: Any) -> tuple[process.Applied, dict[str, Any] | None]:
        """Apply a disaster event; returns what it did and, as it was before (None for a 初报), the process's
        keys and townships with figures."""
        disaster_id = str(event.originator_id)
        header = self._pending.get(disaster_id)  # type: ignore[attr-defined]
        if header is None:
            c.execute(self.sql(self.header_sql), (disaster_id,))  # type: ignore[attr-defined]
            row = c.fetchone()
            header = json.loads(row["state"]) if row else None
        before = {**{k: header[k] for k in process.KEYS}, "townships": dict(header["townships"])} if header else None
        applied = process.apply(header, event, BatchStacks(self, disaster_id))
        self._pending[disaster_id] = applied.header  # type: ignore[attr-defined]
        return applied, before

    def _township_stacks(self, disaster_id: str, township: str) -> dict[str, list[list[Any]]]:
        key = (disaster_id, township)
        found = self._stacks.get(key)
        if found is None:
            rows = self._cursor_rows(  # type: ignore[attr-defined]
                "SELECT indicator, stack FROM {t}_stacks WHERE disaster_id = ? AND township = ?", (disaster_id, township))
            found = self._stacks[key] = {r["indicator"]: json.loads(r["stack"]) for r in rows}
        return found

    def _cursor_rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        c = self._cursor  # type: ignore[attr-defined]
        c.execute(self.sql(sql), params)  # type: ignore[attr-defined]
        return list(c.fetchall())

    def flush_stacks(self, c: Any) -> None:
        upserts, deletes = [], []
        for disaster_id, township, indicator in sorted(self._touched):
            stack = self._stacks[(disaster_id, township)].get(indicator)
            if stack:
                upserts.append((disaster_id, township, indicator, json.dumps(stack, ensure_ascii=False)))
            else:
                deletes.append((disaster_id, township, indicator))
        if deletes:
            c.executemany(self.sql(  # type: ignore[attr-defined]
                "DELETE FROM {t}_stacks WHERE disaster_id = ? AND township = ? AND indicator = ?"), deletes)
        if upserts:
            c.executemany(self.sql(  # type: ignore[attr-defined]
                "INSERT INTO {t}_stacks (disaster_id, township, indicator, stack) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (disaster_id, township, indicator) DO UPDATE SET stack = excluded.stack"), upserts)

    def discard(self) -> None:
        super().discard()  # type: ignore[misc]
        self._stacks: dict[tuple[str, str], dict[str, list[list[Any]]]] = {}
        self._touched: set[tuple[str, str, str]] = set()
