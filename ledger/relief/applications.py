"""户报: a household's application, and its checks (household, place, programme, period, season, disaster)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.disasters.aggregate import Disaster
from ledger.households.household import CheckedHousehold, Household, Member, check_household
from ledger.reference.codes import AreaCode, Level
from ledger.relief.programmes import Programme
from ledger.relief.season import is_season
from ledger.store.errors import InvalidInput, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


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
    members: list[Member] = field(default_factory=list)
    disaster_id: UUID | None = None


@dataclass(frozen=True)
class CheckedApplication:
    application: Application
    village: AreaCode
    household: CheckedHousehold
    applied_on: date

    @property
    def programme(self) -> str:
        return self.application.programme

    @property
    def period(self) -> str:
        return self.application.period

    @property
    def id_number(self) -> str:
        return self.household.id_number

    @property
    def phone(self) -> str:
        return self.household.phone

    @property
    def card(self) -> str:
        return self.household.card

    @property
    def id_hash(self) -> str:
        return self.household.id_hash


def check_application(rt: LedgerContext, a: Application, today: date) -> tuple[CheckedApplication | None, Problems]:
    """Every problem of the application, each named by its field (the actor's right is checked apart)."""
    problems = Problems()
    village = check_village(rt, a.village, problems)
    if a.programme == Programme.HOUSING.value:
        problems.add("programme", "use_housing_cases",
                     "倒损住房恢复重建 is filed as a housing case (POST /v1/housing/cases), not a relief case")
    elif a.programme not in Programme.__members__.values():
        problems.add("programme", "bad_programme", ", ".join(p.value for p in Programme))
    check_period(a.period, problems, a.programme)
    household = check_household(
        Household(head_name=a.head_name, id_number=a.id_number, phone=a.phone, address=a.address,
                  card_number=a.card_number or "", members=tuple(a.members)),
        rt.pii, today, problems)
    if a.household_size < 1 or a.household_size > 50:
        problems.add("household_size", "out_of_range", "1–50 people")
    elif a.members and a.household_size != 1 + len(a.members):
        problems.add("household_size", "members_mismatch", f"the head and {len(a.members)} members listed")
    if a.people_in_need < 1 or a.people_in_need > a.household_size:
        problems.add("people_in_need", "out_of_range", "1 … household_size")
    elif a.members and a.people_in_need != 1 + sum(1 for m in a.members if m.in_need):
        problems.add("people_in_need", "members_mismatch", "the head and the members marked in need")
    applied_on = a.applied_on or today
    if applied_on > today:
        problems.add("applied_on", "in_future", "not after today")
    if a.programme == Programme.WINTER_SPRING.value and village is not None and is_season(a.period):
        _first, last = rt.relief_rules.season.bounds(a.period, village.value)
        if applied_on > last:
            problems.add("applied_on", "season_over", f"the {a.period} 冬春 season here ended on {last}")
    if a.disaster_id is not None and village is not None:
        check_disaster(rt, a.disaster_id, village.county, problems)
    if problems or village is None or household is None:
        return None, problems
    return CheckedApplication(application=a, village=village, household=household, applied_on=applied_on), problems


def check_village(rt: LedgerContext, raw: str, problems: Problems) -> AreaCode | None:
    try:
        code = AreaCode.parse(raw, "village")
    except InvalidInput as exc:
        problems.items.extend(exc.fields)
        return None
    if code.level is not Level.VILLAGE:
        problems.add("village", "not_a_village", "a 12-digit village (村/社区) code")
        return None
    if code not in rt.areas:
        problems.add("village", "unknown_area", f"unknown village code {raw}")
        return None
    return code


def check_disaster(rt: LedgerContext, disaster_id: UUID, county: str, problems: Problems,
                   field: str = "disaster_id") -> None:
    """The disaster process a case or a delivery answers: known, of the same county, not retracted (核销)."""
    try:
        found: Any = rt.app.repository.get(disaster_id)
    except AggregateNotFoundError:
        found = None
    if not isinstance(found, Disaster):
        problems.add(field, "unknown_disaster", f"no disaster process {disaster_id}")
    elif found.county != county:
        problems.add(field, "other_county", f"the process is of county {found.county}")
    elif found.retraction is not None:
        problems.add(field, "retracted", "the process was retracted (核销)")


def check_period(period: str, problems: Problems, programme: str | None = None) -> None:
    """A year ("2026") or a season spanning two years ("2026-2027"); 冬春 is always a season."""
    parts = period.split("-")
    ok = all(p.isdigit() and len(p) == 4 for p in parts) and len(parts) in (1, 2)
    if ok and len(parts) == 2:
        ok = int(parts[1]) == int(parts[0]) + 1
    if not ok:
        problems.add("period", "bad_period", "a year (2026) or a season (2026-2027)")
    elif programme == Programme.WINTER_SPRING.value and not is_season(period):
        problems.add("period", "not_a_season", "冬春 is a season spanning two years (2026-2027)")


def collect(problems: Problems, validate: Any, value: str, field: str, *args: Any) -> str | None:
    try:
        return str(validate(value, field, *args))
    except InvalidInput as exc:
        problems.items.extend(exc.fields)
        return None
