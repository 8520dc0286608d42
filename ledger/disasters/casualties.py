"""因灾死亡失踪人口台账: the people a process's 死亡 / 失踪 figures count, one structured record each.

自然灾害情况统计调查制度 (reporting-rules.md §1.4, C11): deaths and missing
persons are reported level by level with a 台账 — name, 身份证号, township,
date and cause. The ID number is checked (GB 11643) and protected like
relief data: the events keep it masked, as a keyed hash (one person is
listed once per process) and encrypted; the name likewise. Nothing is
edited: a person found alive, or confirmed dead, is a new entry of the
person's status with who and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from ledger.disasters import permissions
from ledger.disasters.aggregate import Disaster
from ledger.disasters.inputs import CHINA
from ledger.personal.identifiers import mask_id, mask_name, validate_id_number
from ledger.reference.codes import AreaCode, Level
from ledger.store import actors
from ledger.store.actors import Actor
from ledger.store.commands import CommandResult, IdempotencyKey, run
from ledger.store.errors import Conflict, InvalidInput, NotFound, Problems
from ledger.store.text import text_problem

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext

STATUSES = ("dead", "missing")  # 死亡 / 失踪


def register_id(disaster_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"/disasters/{disaster_id}/casualties")


class CasualtyRegister(Aggregate):
    """因灾死亡失踪人口台账 of one process."""

    @classmethod
    def create_id(cls, disaster_id: UUID, **_: Any) -> UUID:
        return register_id(disaster_id)

    @event("Opened")
    def __init__(self, disaster_id: UUID, county: str) -> None:
        self.disaster_id = disaster_id
        self.county = county
        self.people: dict[str, str] = {}  # keyed hash of the ID number → status

    @event("PersonRecorded")
    def record(self, person: dict[str, Any], actor: dict[str, Any]) -> None:
        self.people[person["id_hash"]] = person["status"]


@dataclass(frozen=True)
class Casualty:
    name: str
    id_number: str
    township: str
    on: date
    cause: str
    status: str  # dead | missing


class CasualtyService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    def record(self, actor: Actor, disaster_id: UUID, person: Casualty,
               idempotency: IdempotencyKey | None = None) -> CommandResult:
        """Add one person to the process's 台账 (a person already listed: 409 naming the entry's status)."""
        actors.require_writer(actor)
        problems = Problems()
        id_number = ""
        try:
            id_number = validate_id_number(person.id_number, today=self.rt.now().astimezone(CHINA).date())
        except InvalidInput as exc:
            problems.items.extend(exc.fields)
        for name, value in (("name", person.name), ("cause", person.cause)):
            if not value.strip():
                problems.add(name, "required", f"{name} is required")
            if (why := text_problem(value)) is not None:
                problems.add(name, "bad_text", why)
        if person.status not in STATUSES:
            problems.add("status", "bad_status", "dead or missing")
        if person.on > self.rt.now().astimezone(CHINA).date():
            problems.add("date", "in_future", "must not be after today")
        problems.raise_if_any("台账有误", "the register entry is invalid")

        def attempt() -> tuple[CasualtyRegister, list[Any], int]:
            disaster = self._disaster(disaster_id)
            township = self._township(disaster.county, person.township)
            permissions.require_filer(actor, disaster.county, [township])
            register = self._register(disaster)
            id_hash = self.rt.pii.hash("casualty-id", id_number)
            if id_hash in register.people:
                raise Conflict("此人已在本灾害过程的台账中", "this person is already in the process's register",
                               code="already_listed", details={"status": register.people[id_hash]})
            register.record({
                "name_masked": mask_name(person.name.strip()), "name_cipher": self.rt.pii.encrypt(person.name.strip()),
                "id_masked": mask_id(id_number), "id_hash": id_hash, "id_cipher": self.rt.pii.encrypt(id_number),
                "township": township, "date": person.on.isoformat(), "cause": person.cause.strip(),
                "status": person.status,
            }, actor.as_dict())
            return register, [], 201

        return run(self.app, attempt, idempotency)

    def list(self, actor: Actor, disaster_id: UUID) -> list[dict[str, Any]]:
        """The register, masked (names and ID numbers are never shown in clear here)."""
        disaster = self._disaster(disaster_id)
        actors.require_reader(actor, disaster.county)
        out = []
        for e in self.app.events.get(register_id(disaster_id)):
            if isinstance(e, CasualtyRegister.PersonRecorded) and actor.overlaps(e.person["township"]):
                p = e.person
                out.append({"name": p["name_masked"], "id_number": p["id_masked"], "township": p["township"],
                            "date": p["date"], "cause": p["cause"], "status": p["status"],
                            "recorded_by": e.actor.get("username"), "recorded_at": e.timestamp.isoformat()})
        return out

    def _disaster(self, disaster_id: UUID) -> Disaster:
        try:
            found: Any = self.app.repository.get(disaster_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Disaster):
            raise NotFound(f"灾害过程 {disaster_id} 不存在", f"disaster process {disaster_id} not found")
        if found.retraction is not None:
            raise Conflict("该灾害过程已核销", "this disaster process has been retracted", code="retracted")
        return found

    def _township(self, county: str, raw: str) -> str:
        problems = Problems()
        try:
            code = AreaCode.parse(raw, "township")
        except InvalidInput as exc:
            raise InvalidInput("乡镇有误", "invalid township", fields=exc.fields) from None
        if code.level is not Level.TOWNSHIP or not code.is_within(county) or code not in self.rt.areas:
            problems.add("township", "outside_county", f"{raw} is not a township of county {county}")
        problems.raise_if_any("乡镇有误", "invalid township")
        return code.prefix

    def _register(self, disaster: Disaster) -> CasualtyRegister:
        try:
            found: Any = self.app.repository.get(register_id(disaster.id))
        except AggregateNotFoundError:
            return CasualtyRegister(disaster_id=disaster.id, county=disaster.county)
        return found  # type: ignore[no-any-return]
