"""GraphQL over incident command: incidents of an area with their responses per government, who held
command at a moment, and which 镇呼区应 calls went unanswered for more than N minutes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import (
    actor_of,
    context,
    graphql_error,
    host_of,
    page_size,
    scoped_area,
    wait_for,
)
from ledger.incidents import state as incident_state
from ledger.store.errors import InvalidInput, NotPermitted

MAX_CALLS = 1000


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=incident_state.CHINA)  # no offset = Beijing time


@strawberry.type(description="one government's response under one plan (its own Ⅰ–Ⅳ scale)")
class Response:
    government_level: str
    area: str
    plan: str
    plan_version: str
    level: int | None = strawberry.field(description="1–4 while active; null once ended")
    started_at: datetime
    ended_at: datetime | None
    changes: int
    outside_suggestion: bool = strawberry.field(description="some decision differed from the plan's suggestion")


@strawberry.type(description="who held command, from when until when")
class CommandPeriod:
    name: str
    post: str
    unit: str
    since: datetime
    until: datetime | None
    reason: str
    handed_over_by: str | None
    recorded_by: str


@strawberry.type(description="镇呼区应: a township's call for district support and its answer")
class SupportCall:
    incident_id: strawberry.ID
    incident_title: str
    request_id: str
    township: str
    what: str
    requested_at: datetime
    answered_at: datetime | None
    outcome: str | None
    answer: str | None
    waited_minutes: int | None = strawberry.field(description="until the answer, or until now if still waiting")
    still_waiting: bool


def _period(p: dict[str, Any]) -> CommandPeriod:
    previous = p.get("handed_over_by") or {}
    return CommandPeriod(name=p["commander"]["name"], post=p["commander"]["post"], unit=p["commander"]["unit"],
                         since=datetime.fromisoformat(p["since"]), until=_time(p["until"]), reason=p["reason"],
                         handed_over_by=previous.get("name"), recorded_by=(p["actor"] or {}).get("username", ""))


def _call(state: dict[str, Any], call: dict[str, Any]) -> SupportCall:
    return SupportCall(incident_id=strawberry.ID(state["id"]), incident_title=state["title"],
                       request_id=call["request_id"], township=call["township"], what=call["what"],
                       requested_at=datetime.fromisoformat(call["requested_at"]), answered_at=_time(call["answered_at"]),
                       outcome=call["outcome"], answer=call["answer"], waited_minutes=call.get("waited_minutes"),
                       still_waiting=bool(call.get("still_waiting", call["answered_at"] is None)))


@strawberry.type(description="one incident (突发事件) and its command")
class Incident:
    row: strawberry.Private[dict[str, Any]]

    def _state(self) -> dict[str, Any]:
        return incident_state.fold(json.loads(self.row["entries"]))

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row["incident_id"])

    @strawberry.field
    def title(self) -> str:
        return str(self.row["title"])

    @strawberry.field(description="natural_disaster | accident | public_health | social_security")
    def category(self) -> str:
        return str(self.row["category"])

    @strawberry.field
    def area(self) -> str:
        return str(self.row["area"])

    @strawberry.field
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.row["occurred_at"])

    @strawberry.field
    def closed(self) -> bool:
        return bool(self.row["closed"])

    @strawberry.field(description="linked disaster processes and accidents, as kind:id")
    def links(self) -> list[str]:
        return [f"{link['kind']}:{link['id']}" for link in self._state()["links"]]

    @strawberry.field(description="every government's response, active or ended")
    def responses(self, active_only: bool = False) -> list[Response]:
        out = []
        for r in self._state()["responses"]:
            if active_only and r["ended_at"] is not None:
                continue
            out.append(Response(government_level=r["government_level"], area=r["area"], plan=r["plan"],
                                plan_version=r["plan_version"], level=r["level"],
                                started_at=datetime.fromisoformat(r["started_at"]), ended_at=_time(r["ended_at"]),
                                changes=len(r["changes"]),
                                outside_suggestion=any(c["outside_suggestion"] for c in r["changes"])))
        return out

    @strawberry.field(description="the command periods in order")
    def command(self) -> list[CommandPeriod]:
        return [_period(p) for p in self._state()["command"]]

    @strawberry.field(description="who held command at a moment (no offset = Beijing time); null if nobody")
    def commander_at(self, at: datetime) -> CommandPeriod | None:
        found = incident_state.commander_at(self._state(), _aware(at))
        return _period(found) if found else None

    @strawberry.field(description="镇呼区应 calls and their answers")
    def calls(self) -> list[SupportCall]:
        state = self._state()
        return [_call(state, c) for c in state["calls"]]


async def load_incident(info: Info, incident_id: str, min_position: int | None) -> Incident | None:
    actor = actor_of(info)
    await wait_for(info, min_position, ["incidents"])
    view = host_of(info).view("incidents")
    row = (await anyio.to_thread.run_sync(view.get, [incident_id])).get(incident_id)
    if row is None:
        return None
    if not actor.overlaps(row["area"][:6]):
        raise graphql_error(NotPermitted("不在本账号的管辖范围内", "outside this account's scope"))
    return Incident(row=row)


@strawberry.type
class IncidentsQuery:
    @strawberry.field(description="incidents of an area, newest first")
    async def incidents(self, info: Info, area: str | None = None, open_only: bool = False, first: int = 20,
                        min_position: int | None = None) -> list[Incident]:
        await wait_for(info, min_position, ["incidents"])
        scope = scoped_area(actor_of(info), area)
        view = host_of(info).view("incidents")
        limit = page_size(first)
        rows = await anyio.to_thread.run_sync(lambda: view.find(scope, open_only, limit))
        return [Incident(row=r) for r in rows]

    @strawberry.field(description="one incident")
    async def incident(self, info: Info, id: strawberry.ID, min_position: int | None = None) -> Incident | None:
        return await load_incident(info, str(id), min_position)

    @strawberry.field(description="who held command of an incident at a moment (no offset = Beijing time)")
    async def command_at(self, info: Info, incident_id: strawberry.ID, at: datetime,
                         min_position: int | None = None) -> CommandPeriod | None:
        found = await load_incident(info, str(incident_id), min_position)
        if found is None:
            return None
        period = incident_state.commander_at(found._state(), _aware(at))  # noqa: SLF001
        return _period(period) if period else None

    @strawberry.field(description="镇呼区应 calls of an area not answered within `minutes` of the request: answered "
                                  "later, or still waiting now")
    async def unanswered_calls(self, info: Info, minutes: int, area: str | None = None,
                               min_position: int | None = None) -> list[SupportCall]:
        if minutes < 0 or minutes > 60 * 24 * 366:
            raise graphql_error(InvalidInput("分钟数无效", "minutes must be 0 to a year's worth"))
        await wait_for(info, min_position, ["incidents"])
        scope = scoped_area(actor_of(info), area)
        now = context(info)["runtime"].now()
        view = host_of(info).view("incidents")
        before = (now - timedelta(minutes=minutes)).astimezone(UTC).isoformat()

        def read() -> list[SupportCall]:
            calls = view.calls_waiting_since(scope, before)[:MAX_CALLS]
            incidents = view.get(sorted({c["incident_id"] for c in calls}))
            out = []
            for row in incidents.values():
                state = incident_state.fold(json.loads(row["entries"]))
                out += [_call(state, c) for c in incident_state.waiting_calls(state, minutes, now)
                        if c["township"].startswith(scope)]
            return sorted(out, key=lambda c: (c.requested_at, c.request_id))

        return await anyio.to_thread.run_sync(read)
