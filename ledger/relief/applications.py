"""户报: a household's application, and checks of its period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.reference.codes import AreaCode
from ledger.store.errors import InvalidInput, Problems

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Application:
    """户报: the household's application."""

    programme: str
    period: str
    village: str
    head_name: str
    id_number: str
    phone: str
    card_number: str
    household_type: str
    household_size: int
    people_in_need: int
    address: str
    causes: list[str]
    needs: list[str]
    applied_on: date | None = None


@dataclass(frozen=True)
class CheckedApplication:
    application: Application
    village: AreaCode
    id_number: str
    phone: str
    card: str
    id_hash: str

    @property
    def programme(self) -> str:
        return self.application.programme

    @property
    def period(self) -> str:
        return self.application.period


def check_period(period: str, problems: Problems) -> None:
    """A year ("2026") or a season spanning two years ("2026-2027")."""
    parts = period.split("-")
    ok = all(p.isdigit() and len(p) == 4 for p in parts) and len(parts) in (1, 2)
    if ok and len(parts) == 2:
        ok = int(parts[1]) == int(parts[0]) + 1
    if not ok:
        problems.add("period", "bad_period", "a year (2026) or a season (2026-2027)")


def collect(problems: Problems, validate: Any, value: str, field: str, *args: Any) -> str | None:
    try:
        return str(validate(value, field, *args))
    except InvalidInput as exc:
        problems.items.extend(exc.fields)
        return None
