"""A disaster event folded into a view's per-batch state of its process (read once per batch)."""

from __future__ import annotations

import json
from typing import Any

from ledger.disasters.state import apply


def fold_into(view: Any, c: Any, select_state_sql: str, event: Any) -> None:
    """Fold a disaster event into the view's per-batch state of its process (read once per batch)."""
    disaster_id = str(event.originator_id)
    state = view._pending.get(disaster_id)  # noqa: SLF001 — the view's per-batch memory
    if state is None:
        c.execute(view.sql(select_state_sql), (disaster_id,))
        row = c.fetchone()
        state = json.loads(row["state"]) if row else None
    view._pending[disaster_id] = apply(state, event)  # noqa: SLF001
