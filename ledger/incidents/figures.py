"""The figures that count for an incident's response thresholds: its disasters' and accidents', summed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.accidents.aggregate import Accident
from ledger.accidents.grading import Casualties
from ledger.accidents.rules import AccidentRules
from ledger.disasters.aggregate import Disaster


def linked_figures(app: Any, links: list[dict[str, str]], rules: AccidentRules,
                   loaded: dict[str, Any] | None = None) -> dict[str, Decimal]:
    """Disaster indicators (the figures that count, county totals) and accident_* casualty figures,
    summed over the linked objects; `loaded` gives objects already in memory (their unsaved state counts)."""
    loaded = loaded or {}
    totals: dict[str, Decimal] = {}

    def add(key: str, value: Decimal | int) -> None:
        totals[key] = totals.get(key, Decimal(0)) + Decimal(value)

    for link in links:
        target = loaded.get(link["id"])
        if target is None:
            try:
                target = app.repository.get(UUID(link["id"]))
            except AggregateNotFoundError:
                continue
        if isinstance(target, Disaster):
            if target.stage.value == "retracted":
                continue  # a retracted process counts nowhere
            for key, value in target.county_totals().items():
                add(key, value)
        elif isinstance(target, Accident) and not target.withdrawn:
            casualties = Casualties.of(target.casualties)
            add("accident_deaths", casualties.deaths)
            add("accident_missing", casualties.missing)
            add("accident_dead", casualties.dead(rules))
            add("accident_seriously_injured", casualties.seriously_injured)
            add("accident_direct_loss_fen", target.direct_loss_fen)
    return totals
