"""Reconciliation over two read models: the housing files and the board's counted figures of each process."""

from __future__ import annotations

import json
from typing import Any

from ledger.disasters import state as ds
from ledger.housing.reconciliation import Difference, reconcile


def reconciliation_of(housing: Any, board: Any, area: str, disaster_id: str | None = None
                      ) -> list[tuple[str, Difference]]:
    """(process id, difference) for each process with housing files in the area (or the one named); the
    figures are the process's townships within the area."""
    ids = [disaster_id] if disaster_id else housing.disasters(area)
    rows = board.get(ids, with_states=True)
    out = []
    for did in ids:
        row = rows.get(did)
        if row is None:
            continue
        figures = {t: f for t, f in ds.township_figures(json.loads(row["state"])).items() if t.startswith(area[:9])}
        out += [(did, d) for d in reconcile(housing.case_counts(did, area), figures)]
    return out
