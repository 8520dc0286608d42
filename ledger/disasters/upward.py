"""Reports to the level above by the city and the province (上报): 初报, the daily 零报告 and 核报.

自然灾害情况统计调查制度 (reporting-rules.md §1.4): the 地市 and the 省级
each review, aggregate and report upward within 2 h of receipt; while a
特别重大/重大 disaster is not yet stable the city reports daily by 10:00 and
the province by 12:00; a 地市 files its 核报 only after its counties have. An
`UpwardReport` is one such filing by one unit: which processes it covers and
their figures, derived from the ledger at a stated log position — never
typed in — so the deadline clocks of each level (`deadlines.py`) can tell
when that level reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from ledger.disasters.aggregate import Disaster
from ledger.disasters.inputs import CHINA
from ledger.reference.indicators import add_figures, figures_to_json
from ledger.store import actors
from ledger.store.actors import Actor, Role, refuse
from ledger.store.commands import CommandResult, IdempotencyKey, run
from ledger.store.errors import Conflict, InvalidInput, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext

KINDS = ("initial", "daily", "final")  # 初报 / 日报 (零报告) / 核报
LEVELS = {Role.CITY: "city", Role.PROVINCE: "province"}
MAX_PROCESSES = 500


class UpwardReport(Aggregate):
    """上报: one city's or province's report upward, over the processes it names."""

    @event("Filed")
    def __init__(self, level: str, unit: str, kind: str, day: date | None, disaster_ids: list[str],
                 figures: dict[str, str], position: int, text: str, actor: dict[str, Any]) -> None:
        self.level = level
        self.unit = unit
        self.kind = kind
        self.day = day
        self.disaster_ids = disaster_ids
        self.figures = figures
        self.position = position
        self.text = text


@dataclass(frozen=True)
class UpwardFiling:
    kind: str
    disaster_ids: list[str]
    day: date | None = None
    text: str = ""


class UpwardReportService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    def file(self, actor: Actor, filing: UpwardFiling, idempotency: IdempotencyKey | None = None) -> CommandResult:
        """File a city's or province's upward report over processes in its area."""
        actors.require_writer(actor)
        level = LEVELS.get(actor.role)
        if level is None:
            raise refuse("只有市级、省级账号报送上报", "only city and province accounts file upward reports")
        problems = Problems()
        if filing.kind not in KINDS:
            problems.add("kind", "bad_kind", f"one of: {', '.join(KINDS)}")
        if filing.kind == "daily" and filing.day is None:
            problems.add("day", "required", "a daily report names its day")
        if filing.day is not None and filing.day > self.rt.now().astimezone(CHINA).date():
            problems.add("day", "in_future", "the day must not be after today")
        if not filing.disaster_ids:
            problems.add("disaster_ids", "required", "name at least one disaster process")
        if len(filing.disaster_ids) > MAX_PROCESSES:
            problems.add("disaster_ids", "too_long", f"at most {MAX_PROCESSES} processes")
        ids: list[UUID] = []
        for i, raw in enumerate(filing.disaster_ids):
            try:
                ids.append(UUID(str(raw)))
            except ValueError:
                problems.add(f"disaster_ids.{i}", "bad_id", f"{raw!r} is not a process id")
        problems.raise_if_any("上报有误", "the upward report is invalid")

        def attempt() -> tuple[UpwardReport, list[Any], int]:
            processes = [self._process(actor, i) for i in dict.fromkeys(ids)]
            if filing.kind == "final":
                waiting = [str(d.id) for d in processes if d.stage.value != "final"]
                if waiting:
                    raise Conflict("县级尚未核报，不能上报核报", "a county has not filed its final report (核报) yet",
                                   code="county_final_missing", details={"disaster_ids": waiting})
            totals: dict[str, Any] = {}
            for d in processes:
                add_figures(totals, d.county_totals())
            report = UpwardReport(  # a new id per filing; a retry is answered by its Idempotency-Key
                level=level, unit=actor.unit, kind=filing.kind, day=filing.day,
                disaster_ids=[str(d.id) for d in processes], figures=figures_to_json(totals),
                position=self.rt.position(), text=filing.text, actor=actor.as_dict(),
            )
            return report, [], 201

        return run(self.app, attempt, idempotency)

    def _process(self, actor: Actor, disaster_id: UUID) -> Disaster:
        try:
            found: Any = self.app.repository.get(disaster_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Disaster) or not actor.covers(found.county):
            raise InvalidInput(f"灾害过程 {disaster_id} 不存在或不在本级范围内",
                               f"disaster process {disaster_id} not found in this account's area",
                               code="unknown_process")
        if found.retraction is not None:
            raise Conflict(f"灾害过程 {disaster_id} 已核销", f"disaster process {disaster_id} was retracted",
                           code="retracted")
        return found

