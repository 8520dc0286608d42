"""冬春 需救助 statistics filed upward (受灾人员冬春生活需救助情况统计, C33–C36, C54).

After the autumn survey each level files the season's figures of people who
will need relief with the level above: the county with its city (by 10月15日
by default), the city with the province (10月20日), the province with the
ministry (10月25日). A filing is an event: who filed, for which area and
season, when it was recorded (the clock in `ledger.relief.season` reads that
time), the figures, and — for comparison by an auditor — what the roster held
for that area at the moment of filing (户数 and 需救助人口 of the season's open
冬春 cases). A figure that turns out wrong is corrected by a new filing of the
same area with a written reason (更正); the first filing's time stays the time
the clock counts.

The table's column set beyond 户数 and 人数 is not confirmed nationally: the
breakdown by need (口粮, 衣被, 取暖, 住房 …) is free, each at most the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from ledger.relief.programmes import Programme
from ledger.relief.season import is_season
from ledger.store.actors import Actor, Role, refuse, require_writer
from ledger.store.commands import CommandResult, IdempotencyKey, run
from ledger.store.errors import Conflict, FieldProblem, InvalidInput, NotFound, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


LEVEL_OF_DIGITS = {6: "county", 4: "city", 2: "province"}


# who files for which level: the county's officers (应急 and 民政 relief officers), the city, the province
FILERS = {"county": (Role.COUNTY, Role.RELIEF_OFFICER), "city": (Role.CITY,), "province": (Role.PROVINCE,)}


MAX_PEOPLE = 200_000_000


def filing_id(period: str, area: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/relief/{Programme.WINTER_SPRING.value}/{period}/needs-filing/{area}")


@dataclass(frozen=True)
class NeedsFigures:
    households: int
    people: int
    by_need: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"households": self.households, "people": self.people, "by_need": dict(self.by_need)}


class SeasonNeedsFiling(Aggregate):
    """One area's 冬春 需救助 statistics for one season, as filed upward (and corrected)."""

    @classmethod
    def create_id(cls, period: str, area: str, **_: Any) -> UUID:
        return filing_id(period, area)

    @event("Filed")
    def __init__(self, period: str, area: str, level: str, figures: dict[str, Any], roster: dict[str, int],
                 note: str, actor: dict[str, Any]) -> None:
        self.period = period
        self.area = area
        self.level = level
        self.figures = figures
        self.roster = roster
        self.note = note
        self.filed_by = actor
        self.corrections = 0

    def correct(self, figures: dict[str, Any], roster: dict[str, int], reason: str, actor: dict[str, Any]) -> None:
        if figures == self.figures:
            raise Conflict("更正后的数字与已报送的相同", "the corrected figures are the same as those filed",
                           code="no_change")
        self._corrected(figures=figures, roster=roster, reason=reason, actor=actor)

    @event("Corrected")
    def _corrected(self, figures: dict[str, Any], roster: dict[str, int], reason: str, actor: dict[str, Any]) -> None:
        self.figures = figures
        self.roster = roster
        self.corrections += 1

    @property
    def filed_at(self) -> datetime:
        return self.created_on


def check_figures(households: Any, people: Any, by_need: dict[str, Any] | None, problems: Problems) -> NeedsFigures:
    def whole(value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PEOPLE:
            problems.add(name, "bad_number", f"a whole number from 0 to {MAX_PEOPLE}")
            return 0
        return value

    h = whole(households, "households")
    p = whole(people, "people")
    if h > p:
        problems.add("households", "households_over_people", "户数 ≤ 人数: a household has at least one person")
    needs: dict[str, int] = {}
    for name, value in (by_need or {}).items():
        label = str(name).strip()
        if not label or len(label) > 20:
            problems.add("by_need", "bad_need", "a need is named in 1 to 20 characters (口粮, 衣被, 取暖 …)")
            continue
        n = whole(value, f"by_need.{label}")
        if n > p:
            problems.add(f"by_need.{label}", "over_total", f"其中 ≤ 需救助人口 ({p})")
        needs[label] = n
    return NeedsFigures(h, p, needs)


class SeasonFilingUseCases:
    """File, correct and read the upward 冬春 需救助 filings."""

    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    def file(self, actor: Actor, period: str, area: str, figures: NeedsFigures, roster: dict[str, int],
             note: str = "", idempotency: IdempotencyKey | None = None) -> CommandResult:
        """The first filing of the area and season; `roster` is what the roster held for the area then
        (需救助户数 and 人数), kept beside the figures for comparison."""
        level = self._check(actor, period, area)

        def attempt() -> tuple[SeasonNeedsFiling, list[Any], int]:
            try:
                existing: SeasonNeedsFiling = self.app.repository.get(filing_id(period, area))
            except AggregateNotFoundError:
                return SeasonNeedsFiling(period=period, area=area, level=level, figures=figures.as_dict(),
                                         roster=dict(roster), note=note.strip(),
                                         actor=actor.as_dict()), [], 201
            raise Conflict(f"{area} 的 {period} 冬春需救助情况已于 {existing.filed_at:%Y-%m-%d} 报送，如需更正请说明理由",
                           f"{area} already filed its {period} figures; correct them with a reason",
                           code="already_filed", details={"existing_id": str(existing.id)})

        return run(self.app, attempt, idempotency)

    def correct(self, actor: Actor, period: str, area: str, figures: NeedsFigures, roster: dict[str, int],
                reason: str, idempotency: IdempotencyKey | None = None) -> CommandResult:
        self._check(actor, period, area)
        if not reason.strip():
            raise InvalidInput("更正须说明理由", "a correction needs a written reason",
                               fields=[FieldProblem("reason", "reason_required", "a correction needs a written reason")])

        def attempt() -> tuple[SeasonNeedsFiling, list[Any], int]:
            filing = self.get(actor, period, area)
            filing.correct(figures.as_dict(), dict(roster), reason.strip(), actor.as_dict())
            return filing, [], 200

        return run(self.app, attempt, idempotency)

    def get(self, actor: Actor, period: str, area: str) -> SeasonNeedsFiling:
        if not actor.overlaps(area):
            raise refuse(f"{area} 不在本账号的管辖范围内", f"{area} is outside this account's scope")
        found = self.find(period, area)
        if found is None:
            raise NotFound(f"{area} 尚未报送 {period} 冬春需救助情况", f"{area} has not filed its {period} figures")
        return found

    def find(self, period: str, area: str) -> SeasonNeedsFiling | None:
        try:
            found: Any = self.app.repository.get(filing_id(period, area))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, SeasonNeedsFiling) else None

    def filed_at(self, period: str) -> FiledAt:
        """A lookup (level, area) → the recorded time of the first filing, for the season's clocks."""
        return FiledAt(self, period)

    def _check(self, actor: Actor, period: str, area: str) -> str:
        require_writer(actor)
        problems = Problems()
        if not is_season(period):
            problems.add("period", "bad_period", "a 冬春 season such as 2025-2026")
        level = LEVEL_OF_DIGITS.get(len(area)) if area.isdigit() else None
        if level is None:
            problems.add("area", "bad_area", "a county (6 digits), city (4) or province (2) code prefix")
        elif area.ljust(12, "0") not in self.rt.areas:
            problems.add("area", "unknown_area", f"unknown area {area}")
        problems.raise_if_any("冬春需救助情况报送有误", "invalid 冬春 filing")
        assert level is not None
        if actor.role not in FILERS[level] or not actor.covers(area):
            raise refuse(f"本账号不能代 {area} 报送{ {'county': '县级', 'city': '市级', 'province': '省级'}[level]}冬春需救助情况",
                         f"this account cannot file the {level} figures of {area}")
        return level


class FiledAt:
    """`get((level, area))` → when that area's filing was first recorded, or None."""

    def __init__(self, cases: SeasonFilingUseCases, period: str) -> None:
        self.cases = cases
        self.period = period

    def get(self, key: tuple[str, str]) -> datetime | None:
        found = self.cases.find(self.period, key[1])
        return found.filed_at if found is not None and found.level == key[0] else None
