"""The Incident aggregate: command of one emergency (突发事件) — disasters and accidents alike.

An incident links the disaster processes and accidents it is about. Responses are kept per
government: a response is keyed by the government's level, its area and the plan whose scale its
level is on (a county's Ⅳ and a city's Ⅲ to the same event coexist; each is that government's own
scale), and is started, adjusted and ended. Command is held by one commander at a time, from a
stated moment, and handed over (who holds command from when). 镇呼区应: a township calls the
district for support — what, when — and the call is answered (or not), with times. Every event
carries the acting account and its unit; times about the world are stated beside the recorded time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from ledger.incidents.links import incident_of_disaster_id
from ledger.store.errors import Conflict, FieldProblem, InvalidInput

CATEGORIES = ("natural_disaster", "accident", "public_health", "social_security")
"""突发事件应对法: 自然灾害, 事故灾难, 公共卫生事件, 社会安全事件."""


GOVERNMENT_LEVELS = ("township", "county", "city", "province", "national")


def response_key(government_level: str, area: str, plan: str) -> str:
    return f"{government_level}|{area}|{plan}"


def _refuse(field_name: str, code: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(zh, en, fields=[FieldProblem(field_name, code, en)])


class Incident(Aggregate):
    """突发事件 and its command."""

    @classmethod
    def create_id(cls, origin: dict[str, str] | None = None, **_: Any) -> UUID:
        """Opened by a disaster's response endpoint: derived from the disaster's id; otherwise random."""
        if origin and origin.get("kind") == "disaster":
            return incident_of_disaster_id(origin["id"])
        return uuid4()

    @event("Opened")
    def __init__(self, title: str, category: str, area: str, occurred_at: datetime, actor: dict[str, Any],
                 origin: dict[str, str] | None = None) -> None:
        self.title = title
        self.category = category
        self.area = area
        self.occurred_at = occurred_at
        self.links: list[dict[str, str]] = []
        self.responses: dict[str, dict[str, Any]] = {}  # key → the active response (level, plan_version, since)
        self.commander: dict[str, Any] | None = None
        self.calls: dict[str, dict[str, Any]] = {}  # request id → township, requested_at, answered
        self.closed = False

    # --- links -----------------------------------------------------------------------------------

    def link(self, kind: str, target_id: str, actor: dict[str, Any]) -> None:
        self._require_open()
        if any(link["id"] == target_id for link in self.links):
            raise Conflict("已关联", f"{kind} {target_id} is already linked", code="already_linked")
        self._linked(kind=kind, target_id=target_id, actor=actor)

    @event("Linked")
    def _linked(self, kind: str, target_id: str, actor: dict[str, Any]) -> None:
        self.links.append({"kind": kind, "id": target_id})

    # --- responses (启动 / 调整 / 终止), per government ---------------------------------------------------

    def start_response(self, *, government_level: str, area: str, plan: str, plan_version: str, level: int,
                       decided_at: datetime, reason: str, suggestion: dict[str, Any] | None,
                       actor: dict[str, Any], via: str | None = None) -> None:
        self._require_open()
        key = response_key(government_level, area, plan)
        if key in self.responses:
            raise Conflict("该级政府在此预案下的响应已启动，请使用调整", "this government's response under this plan is "
                           "already active; adjust it instead", code="response_active")
        self._check_decision(level, decided_at, reason, suggestion)
        self._response_started(government_level=government_level, area=area, plan=plan, plan_version=plan_version,
                               level=level, decided_at=decided_at, reason=reason, suggestion=suggestion,
                               outside_suggestion=_outside(level, suggestion), via=via, actor=actor)

    @event("ResponseStarted")
    def _response_started(self, government_level: str, area: str, plan: str, plan_version: str, level: int,
                          decided_at: datetime, reason: str, suggestion: dict[str, Any] | None,
                          outside_suggestion: bool, via: str | None, actor: dict[str, Any]) -> None:
        self.responses[response_key(government_level, area, plan)] = {
            "level": level, "plan_version": plan_version, "since": decided_at.isoformat()}

    def adjust_response(self, *, key: str, level: int, plan_version: str, decided_at: datetime, reason: str,
                        suggestion: dict[str, Any] | None, actor: dict[str, Any], via: str | None = None) -> None:
        self._require_open()
        current = self._active(key)
        if level == current["level"]:
            raise Conflict("响应级别未改变", "the response level is unchanged", code="level_unchanged")
        self._check_decision(level, decided_at, reason, suggestion, since=current["since"])
        self._response_adjusted(key=key, level=level, previous=current["level"], plan_version=plan_version,
                                decided_at=decided_at, reason=reason, suggestion=suggestion,
                                outside_suggestion=_outside(level, suggestion), via=via, actor=actor)

    @event("ResponseAdjusted")
    def _response_adjusted(self, key: str, level: int, previous: int, plan_version: str, decided_at: datetime,
                           reason: str, suggestion: dict[str, Any] | None, outside_suggestion: bool,
                           via: str | None, actor: dict[str, Any]) -> None:
        self.responses[key].update(level=level, plan_version=plan_version, since=decided_at.isoformat())

    def end_response(self, *, key: str, decided_at: datetime, reason: str, actor: dict[str, Any],
                     via: str | None = None) -> None:
        self._require_open()
        current = self._active(key)
        if decided_at < datetime.fromisoformat(current["since"]):
            raise _refuse("decided_at", "before_last_change", "终止时间早于上次决定", "decided_at precedes the last change")
        self._response_ended(key=key, previous=current["level"], decided_at=decided_at, reason=reason, via=via,
                             actor=actor)

    @event("ResponseEnded")
    def _response_ended(self, key: str, previous: int, decided_at: datetime, reason: str, via: str | None,
                        actor: dict[str, Any]) -> None:
        del self.responses[key]

    # --- command (指挥权): held and handed over -----------------------------------------------------

    def assume_command(self, *, commander: dict[str, str], since: datetime, reason: str,
                       actor: dict[str, Any]) -> None:
        """The named commander holds command from `since`; a holder before them hands it over then."""
        self._require_open()
        if since < self.occurred_at:
            raise _refuse("since", "before_occurrence", "指挥开始时间早于事件发生时间", "since precedes the incident")
        current = self.commander
        if current is None:
            self._command_taken(commander=commander, since=since, reason=reason, actor=actor)
            return
        if since <= datetime.fromisoformat(current["since"]):
            raise _refuse("since", "before_current", "交接时间须晚于现任指挥开始时间",
                          "a handover must come after the current commander took command")
        if commander == current["commander"]:
            raise Conflict("该指挥员已在指挥", "this commander already holds command", code="already_in_command")
        self._command_transferred(previous=current["commander"], commander=commander, since=since, reason=reason,
                                  actor=actor)

    @event("CommandTaken")
    def _command_taken(self, commander: dict[str, str], since: datetime, reason: str, actor: dict[str, Any]) -> None:
        self.commander = {"commander": commander, "since": since.isoformat()}

    @event("CommandTransferred")
    def _command_transferred(self, previous: dict[str, str], commander: dict[str, str], since: datetime, reason: str,
                             actor: dict[str, Any]) -> None:
        self.commander = {"commander": commander, "since": since.isoformat()}

    # --- 镇呼区应: a township's call for district support ------------------------------------------------

    def request_support(self, *, township: str, what: str, categories: list[str], requested_at: datetime,
                        actor: dict[str, Any]) -> str:
        self._require_open()
        if not what.strip():
            raise _refuse("what", "required", "请说明需要的支援", "say what support is needed")
        request_id = f"R{len(self.calls) + 1}"
        self._support_requested(request_id=request_id, township=township, what=what, categories=categories,
                                requested_at=requested_at, actor=actor)
        return request_id

    @event("SupportRequested")
    def _support_requested(self, request_id: str, township: str, what: str, categories: list[str],
                           requested_at: datetime, actor: dict[str, Any]) -> None:
        self.calls[request_id] = {"township": township, "requested_at": requested_at.isoformat(), "answered": False}

    def call(self, request_id: str) -> dict[str, Any]:
        found = self.calls.get(request_id)
        if found is None:
            raise Conflict("没有此项支援请求", f"no support request {request_id}", code="no_request")
        return found

    def answer_support(self, *, request_id: str, outcome: str, what: str, answered_at: datetime,
                       actor: dict[str, Any]) -> None:
        call = self.call(request_id)
        if call["answered"]:
            raise Conflict("该请求已答复", f"support request {request_id} has already been answered",
                           code="already_answered")
        if answered_at < datetime.fromisoformat(call["requested_at"]):
            raise _refuse("answered_at", "before_request", "答复时间早于请求时间", "answered_at precedes the request")
        self._support_answered(request_id=request_id, outcome=outcome, what=what, answered_at=answered_at,
                               actor=actor)

    @event("SupportAnswered")
    def _support_answered(self, request_id: str, outcome: str, what: str, answered_at: datetime,
                          actor: dict[str, Any]) -> None:
        self.calls[request_id]["answered"] = True

    # --- close -----------------------------------------------------------------------------------------

    def close(self, closed_at: datetime, reason: str, actor: dict[str, Any]) -> None:
        self._require_open()
        if self.responses:
            raise Conflict("仍有响应未终止", "end every active response before closing the incident",
                           code="responses_active", details={"active": sorted(self.responses)})
        self._closed(closed_at=closed_at, reason=reason, actor=actor)

    @event("Closed")
    def _closed(self, closed_at: datetime, reason: str, actor: dict[str, Any]) -> None:
        self.closed = True

    # --- rules -------------------------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.closed:
            raise Conflict("该事件已关闭", "this incident is closed", code="incident_closed")

    def _active(self, key: str) -> dict[str, Any]:
        found = self.responses.get(key)
        if found is None:
            raise Conflict("该级政府在此预案下没有启动的响应", "no active response for this government and plan",
                           code="no_response")
        return found

    def _check_decision(self, level: int, decided_at: datetime, reason: str, suggestion: dict[str, Any] | None,
                        since: str | None = None) -> None:
        if isinstance(level, bool) or level not in (1, 2, 3, 4):
            raise _refuse("level", "bad_level", "响应级别应为 1–4（Ⅰ–Ⅳ）", "the response level must be 1–4 (Ⅰ–Ⅳ)")
        if decided_at < self.occurred_at:
            raise _refuse("decided_at", "before_occurrence", "决定时间早于事件发生时间",
                          "decided_at is before the incident occurred")
        if since is not None and decided_at < datetime.fromisoformat(since):
            raise _refuse("decided_at", "before_last_change", "调整时间早于上次决定", "decided_at precedes the last change")
        if _outside(level, suggestion) and not reason.strip():
            raise InvalidInput(
                "所定级别与预案条件建议的级别不同，须说明理由",
                "the level differs from the one the plan's thresholds suggest; give a reason",
                fields=[FieldProblem("reason", "reason_required",
                                     f"suggested: {suggestion.get('level') if suggestion else None}")],
                code="reason_required",
            )


def _outside(level: int, suggestion: dict[str, Any] | None) -> bool:
    return suggestion is not None and suggestion.get("level") != level
