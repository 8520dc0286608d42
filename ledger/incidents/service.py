"""Use cases of incident command (应急指挥): open an incident linking disasters and accidents, start /
adjust / end a government's response, take and hand over command, 镇呼区应 calls and their answers,
close; and strongly consistent reads of one incident.

Who may act: township staff open incidents and call for support for their own township; county,
city and province accounts covering the incident do everything else. A government's response is
decided from its own level (a 国务院 response is recorded by the province).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.accidents.aggregate import Accident
from ledger.disasters.aggregate import Disaster
from ledger.disasters.inputs import ReportInputs
from ledger.incidents.aggregate import CATEGORIES, GOVERNMENT_LEVELS, Incident, response_key
from ledger.incidents.facade import AREA_DIGITS, government_area
from ledger.incidents.figures import linked_figures
from ledger.incidents.links import LINK_KINDS, LinkClaim, link_id
from ledger.reference.codes import AreaCode
from ledger.store.actors import LEVEL_RANK, REVIEWERS, Actor, Role, refuse, require_reader, require_writer
from ledger.store.commands import CommandResult, IdempotencyKey, check_version, run
from ledger.store.errors import Conflict, InvalidInput, NotFound, Problems

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


OUTCOMES = ("dispatched", "partial", "declined")


@dataclass(frozen=True)
class Opening:
    title: str
    category: str
    area: str
    occurred_at: datetime
    links: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ResponseDecision:
    action: str  # start | adjust | end
    government_level: str
    plan: str
    plan_version: str
    decided_at: datetime
    reason: str = ""
    level: int | None = None
    area: str | None = None


def require_commander_level(actor: Actor, area: str) -> None:
    """County, city or province accounts covering the incident."""
    require_writer(actor)
    if actor.role not in REVIEWERS or not actor.covers(area):
        raise refuse("只有管辖该事件的县级及以上账号可以执行", "only county, city or province accounts covering the "
                     "incident may do this")


def require_township_or_above(actor: Actor, township: str) -> None:
    require_writer(actor)
    if actor.role not in (Role.TOWNSHIP, *REVIEWERS) or not actor.covers(township):
        raise refuse(f"{township} 不在本账号的管辖范围内", f"{township} is outside this account's scope")


class IncidentService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    # --- open, link, close ------------------------------------------------------------------------

    def open(self, actor: Actor, opening: Opening, idempotency: IdempotencyKey | None = None) -> CommandResult:
        require_writer(actor)
        problems = Problems()
        occurred_at = ReportInputs(self.rt).past_time(opening.occurred_at, "occurred_at", problems)
        area = self._area(opening.area, problems)
        if opening.category not in CATEGORIES:
            problems.add("category", "bad_category", "one of: " + ", ".join(CATEGORIES))
        if not opening.title.strip():
            problems.add("title", "required", "a title")
        for i, link in enumerate(opening.links):
            if link.get("kind") not in LINK_KINDS:
                problems.add(f"links.{i}.kind", "bad_kind", "disaster or accident")
        problems.raise_if_any("事件有误", "the incident is invalid")
        assert area is not None
        require_township_or_above(actor, area)

        def attempt() -> tuple[Incident, list[Any], int]:
            incident = Incident(title=opening.title.strip(), category=opening.category, area=area,
                                occurred_at=occurred_at, actor=actor.as_dict())
            claims = [self._claim(actor, incident, link["kind"], link["id"]) for link in opening.links]
            return incident, claims, 201

        return run(self.app, attempt, idempotency)

    def link(self, actor: Actor, incident_id: UUID, kind: str, target_id: str, expected_version: int | None = None,
             idempotency: IdempotencyKey | None = None) -> CommandResult:
        require_writer(actor)
        if kind not in LINK_KINDS:
            raise InvalidInput("关联类型有误", "kind must be disaster or accident", code="invalid")

        def attempt() -> tuple[Incident, list[Any], int]:
            incident = self._load(incident_id)
            check_version(incident, expected_version)
            require_commander_level(actor, incident.area)
            return incident, [self._claim(actor, incident, kind, target_id)], 200

        return run(self.app, attempt, idempotency)

    def close(self, actor: Actor, incident_id: UUID, closed_at: datetime, reason: str,
              expected_version: int | None = None, idempotency: IdempotencyKey | None = None) -> CommandResult:
        when = self._time(closed_at, "closed_at")

        def decide(i: Incident) -> None:
            require_commander_level(actor, i.area)
            i.close(when, reason, actor.as_dict())

        return self._update(incident_id, decide, expected_version, idempotency)

    # --- responses ----------------------------------------------------------------------------------

    def decide_response(self, actor: Actor, incident_id: UUID, decision: ResponseDecision,
                        expected_version: int | None = None, idempotency: IdempotencyKey | None = None
                        ) -> CommandResult:
        """启动 / 调整 / 终止 a government's response under a named plan, from that government's own level."""
        require_writer(actor)
        problems = Problems()
        decided_at = ReportInputs(self.rt).past_time(decision.decided_at, "decided_at", problems)
        if decision.action not in ("start", "adjust", "end"):
            problems.add("action", "bad_action", "one of: start, adjust, end")
        if decision.government_level not in GOVERNMENT_LEVELS:
            problems.add("government_level", "bad_level", "one of: " + ", ".join(GOVERNMENT_LEVELS))
        for name in ("plan", "plan_version"):
            if not str(getattr(decision, name) or "").strip():
                problems.add(name, "required", f"{name} is required")
        if decision.action != "end" and decision.level is None:
            problems.add("level", "required", "1–4 (Ⅰ–Ⅳ)")
        problems.raise_if_any("响应决定有误", "the response decision is invalid")
        self._require_government(actor, decision.government_level)

        def decide(i: Incident) -> None:
            require_commander_level(actor, i.area)
            area = decision.area if decision.area is not None else government_area(decision.government_level, i.area)
            if not i.area.startswith(area) or len(area) != AREA_DIGITS[decision.government_level]:
                raise InvalidInput("响应政府的区域应包含事件所在地", "the government's area must contain the incident's",
                                   code="invalid")
            key = response_key(decision.government_level, area, decision.plan)
            if decision.action == "end":
                i.end_response(key=key, decided_at=decided_at, reason=decision.reason, actor=actor.as_dict())
                return
            assert decision.level is not None
            suggestion = self.suggestion(i, decision.plan, decision.plan_version)
            if decision.action == "start":
                i.start_response(government_level=decision.government_level, area=area, plan=decision.plan,
                                 plan_version=decision.plan_version, level=decision.level, decided_at=decided_at,
                                 reason=decision.reason, suggestion=suggestion, actor=actor.as_dict())
            else:
                i.adjust_response(key=key, level=decision.level, plan_version=decision.plan_version,
                                  decided_at=decided_at, reason=decision.reason, suggestion=suggestion,
                                  actor=actor.as_dict())

        return self._update(incident_id, decide, expected_version, idempotency)

    def suggestion(self, incident: Incident, plan: str, plan_version: str) -> dict[str, Any] | None:
        figures = linked_figures(self.app, incident.links, self.rt.accident_rules)
        return self.rt.response_plans.suggest(plan, plan_version, figures)

    # --- command -------------------------------------------------------------------------------------

    def assume_command(self, actor: Actor, incident_id: UUID, commander: dict[str, str], since: datetime,
                       reason: str = "", expected_version: int | None = None,
                       idempotency: IdempotencyKey | None = None) -> CommandResult:
        """The named commander (name, post, unit) holds command from `since`; the holder before hands over."""
        problems = Problems()
        when = ReportInputs(self.rt).past_time(since, "since", problems)
        for name in ("name", "post"):
            if not str(commander.get(name) or "").strip():
                problems.add(f"commander.{name}", "required", f"the commander's {name}")
        unit = self._area(str(commander.get("unit") or ""), problems, "commander.unit", min_digits=2)
        problems.raise_if_any("指挥信息有误", "the command record is invalid")
        person = {"name": commander["name"].strip(), "post": commander["post"].strip(), "unit": unit or ""}

        def decide(i: Incident) -> None:
            require_commander_level(actor, i.area)
            i.assume_command(commander=person, since=when, reason=reason, actor=actor.as_dict())

        return self._update(incident_id, decide, expected_version, idempotency)

    # --- 镇呼区应 -------------------------------------------------------------------------------------------

    def request_support(self, actor: Actor, incident_id: UUID, township: str, what: str, categories: list[str],
                        requested_at: datetime, expected_version: int | None = None,
                        idempotency: IdempotencyKey | None = None) -> CommandResult:
        problems = Problems()
        when = ReportInputs(self.rt).past_time(requested_at, "requested_at", problems)
        code = self._area(township, problems, "township")
        if code is not None and len(code) != 9:
            problems.add("township", "not_a_township", "a township (乡镇) code")
        problems.raise_if_any("支援请求有误", "the support request is invalid")
        assert code is not None

        def decide(i: Incident) -> None:
            require_township_or_above(actor, code)
            if not code.startswith(i.area[:6]):
                raise InvalidInput("该乡镇不在事件所在县", "the township is not in the incident's county", code="invalid")
            i.request_support(township=code, what=what, categories=categories, requested_at=when,
                              actor=actor.as_dict())

        return self._update(incident_id, decide, expected_version, idempotency, status=201)

    def answer_support(self, actor: Actor, incident_id: UUID, request_id: str, outcome: str, what: str,
                       answered_at: datetime, expected_version: int | None = None,
                       idempotency: IdempotencyKey | None = None) -> CommandResult:
        problems = Problems()
        when = ReportInputs(self.rt).past_time(answered_at, "answered_at", problems)
        if outcome not in OUTCOMES:
            problems.add("outcome", "bad_outcome", "one of: " + ", ".join(OUTCOMES))
        problems.raise_if_any("答复有误", "the answer is invalid")

        def decide(i: Incident) -> None:
            require_commander_level(actor, i.area)
            i.answer_support(request_id=request_id, outcome=outcome, what=what, answered_at=when,
                             actor=actor.as_dict())

        return self._update(incident_id, decide, expected_version, idempotency)

    def created_request(self, result: CommandResult) -> str | None:
        for e in self.app.events.get(result.id, gt=result.version - 1, lte=result.version):
            if isinstance(e, Incident.SupportRequested):
                return str(e.request_id)
        return None

    # --- reads ------------------------------------------------------------------------------------------

    def get(self, actor: Actor, incident_id: UUID) -> Incident:
        incident = self._load(incident_id)
        require_reader(actor, incident.area[:6])
        return incident

    def of(self, actor: Actor, kind: str, target_id: UUID) -> UUID:
        """The incident a disaster or an accident is linked to (404 when none)."""
        try:
            claim: Any = self.app.repository.get(link_id(kind, target_id))
        except AggregateNotFoundError:
            raise NotFound(f"{kind} {target_id} 未关联事件", f"{kind} {target_id} belongs to no incident") from None
        self.get(actor, claim.incident_id)
        return UUID(str(claim.incident_id))

    def history(self, actor: Actor, incident_id: UUID) -> list[Any]:
        self.get(actor, incident_id)
        return list(self.app.events.get(incident_id))

    # --- parts ----------------------------------------------------------------------------------------

    def _claim(self, actor: Actor, incident: Incident, kind: str, target_id: str) -> LinkClaim:
        try:
            target: Any = self.app.repository.get(UUID(str(target_id)))
        except (AggregateNotFoundError, ValueError):
            target = None
        expected = Disaster if kind == "disaster" else Accident
        if not isinstance(target, expected):
            raise NotFound(f"{kind} {target_id} 不存在", f"{kind} {target_id} not found")
        require_reader(actor, target.county)
        try:
            holder: Any = self.app.repository.get(link_id(kind, target.id))
        except AggregateNotFoundError:
            holder = None
        if holder is not None:
            raise Conflict("已关联到另一事件", f"this {kind} is already linked to an incident",
                           details={"existing_id": str(holder.incident_id)}, code="already_linked")
        incident.link(kind, str(target.id), actor.as_dict())
        return LinkClaim(kind=kind, target_id=str(target.id), incident_id=incident.id)

    def _require_government(self, actor: Actor, government_level: str) -> None:
        """A government's response is decided from its own level or above (国务院: the province records it)."""
        needed = {"township": 2, "county": 2, "city": 3, "province": 4, "national": 4}.get(government_level, 5)
        if LEVEL_RANK.get(actor.role, 0) < needed:
            raise refuse(f"本账号不能记录{government_level}级政府的响应",
                         f"this account cannot record a {government_level} government's response")

    def _area(self, raw: str, problems: Problems, name: str = "area", min_digits: int = 6) -> str | None:
        try:
            code = AreaCode.parse(raw, name)
        except InvalidInput as exc:
            problems.items.extend(exc.fields)
            return None
        if code not in self.rt.areas:
            problems.add(name, "unknown_area", f"unknown area code {raw}")
            return None
        if len(code.prefix) < min_digits:
            problems.add(name, "too_wide", "a county or township code" if min_digits == 6 else "an area code")
            return None
        return code.prefix

    def _time(self, when: datetime, name: str) -> datetime:
        problems = Problems()
        at = ReportInputs(self.rt).past_time(when, name, problems)
        problems.raise_if_any("时间有误", "invalid time")
        return at

    def _update(self, incident_id: UUID, decide: Callable[[Incident], None], expected_version: int | None,
                idempotency: IdempotencyKey | None, status: int = 200) -> CommandResult:
        def attempt() -> tuple[Incident, list[Any], int]:
            incident = self._load(incident_id)
            check_version(incident, expected_version)
            decide(incident)
            return incident, [], status

        return run(self.app, attempt, idempotency)

    def _load(self, incident_id: UUID) -> Incident:
        try:
            found: Any = self.app.repository.get(incident_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Incident):
            raise NotFound(f"事件 {incident_id} 不存在", f"incident {incident_id} not found")
        return found
