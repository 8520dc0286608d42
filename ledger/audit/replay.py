"""Audit: any aggregate as it had been recorded at a moment, and what changed between two versions.

As-known-at T replays only the events recorded at or before T (the events'
recorded time, not the world's time they describe) and lists what was
recorded afterwards — "what figures had the county reported for this flood
at 14:00 on the second day, and what arrived later?". A diff names each
changed field with its old and new value, the event that changed it, the
acting account and unit, the recorded time and the stated reason.

Personal data in relief cases is masked in both, unless the caller's role
needs it (then the read is recorded by the caller's use case).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.accounts.aggregate import Account
from ledger.disasters.aggregate import Disaster
from ledger.housing.case import HousingCase
from ledger.personal.identifiers import mask_address, mask_card, mask_id, mask_name, mask_phone
from ledger.relief.case import ReliefCase
from ledger.relief.fund import ReliefFund
from ledger.store import actors
from ledger.store.actors import Actor, Role
from ledger.store.errors import NotFound, NotPermitted

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


MASKS = {"id_number": mask_id, "phone": mask_phone, "card_number": mask_card, "head_name": mask_name,
         "address": mask_address}


PEOPLE_MASKS = {**MASKS, "name": mask_name}  # inside a list of people (members, signatures)


HIDDEN = {"id_hash", "tokens", "token_hash"}  # never shown, even to auditors


def scrub(payload: dict[str, Any], masks: dict[str, Any] = MASKS) -> dict[str, Any]:
    """An event's payload fit to show: personal data masked (also inside members, signatures), hashes left out."""
    return {k: _masked(k, v, masks) for k, v in payload.items() if k not in HIDDEN}


def _masked(key: str, value: Any, masks: dict[str, Any] = MASKS) -> Any:
    if isinstance(value, str):
        return masks[key](value) if key in masks else value
    if isinstance(value, dict):
        return scrub(value, masks)
    if isinstance(value, list):
        return [scrub(v, PEOPLE_MASKS) if isinstance(v, dict) else _masked(key, v, masks) for v in value]
    return value


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any
    version: int
    event: str
    actor: str | None
    unit: str | None
    recorded_at: datetime
    reason: str | None


@dataclass(frozen=True)
class KnownAt:
    version: int  # 0 when nothing had been recorded yet
    state: dict[str, Any]
    recorded_after: list[Any]  # the events recorded after the moment


def flatten(aggregate: Any, masked: bool = True) -> dict[str, Any]:
    """The aggregate's state as dotted field paths with plain values (what a diff compares)."""
    out: dict[str, Any] = {}
    if aggregate is None:
        return out
    state = {k: v for k, v in vars(aggregate).items() if not k.startswith("_") and k not in HIDDEN}
    if isinstance(aggregate, Disaster):
        state.pop("reports", None)
        state["figures"] = aggregate.township_figures()
        state["report_reviews"] = {str(r["number"]): r["review"] for r in aggregate.reports}
    if isinstance(aggregate, Account):
        state["tokens"] = {k: {"label": t["label"], "revoked": t["revoked"]} for k, t in aggregate.tokens.items()}
    for key, value in state.items():
        if masked:
            value = _masked(key, value)
        _flatten_into(out, key, value)
    return out


def _flatten_into(out: dict[str, Any], prefix: str, value: Any) -> None:
    if isinstance(value, dict):
        if not value:
            out[prefix] = {}
        for k, v in value.items():
            _flatten_into(out, f"{prefix}.{k}", v)
    else:
        out[prefix] = plain(value)


def plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class AuditService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    def events(self, actor: Actor, aggregate_id: UUID) -> list[Any]:
        events = list(self.app.events.get(aggregate_id))
        if not events:
            raise NotFound(f"{aggregate_id} 不存在", f"{aggregate_id} not found")
        self._require_reader(actor, aggregate_id)
        return events

    def as_known_at(self, actor: Actor, aggregate_id: UUID, at: datetime) -> KnownAt:
        """The state from the events recorded at or before `at`, and the events recorded after."""
        events = self.events(actor, aggregate_id)
        # The prefix recorded by T (a later clock step backwards must not skip a version).
        count = next((i for i, e in enumerate(events) if e.timestamp > at), len(events))
        known = events[:count]
        aggregate = None
        for e in known:
            aggregate = e.mutate(aggregate)
        return KnownAt(
            version=known[-1].originator_version if known else 0,
            state=self._visible(actor, flatten(aggregate, masked=not self._full_view(actor))),
            recorded_after=events[count:],
        )

    def diff(self, actor: Actor, aggregate_id: UUID, from_version: int, to_version: int | None) -> list[Change]:
        """Each field changed by the events after `from_version` up to `to_version` (default: the latest)."""
        events = self.events(actor, aggregate_id)
        to_version = to_version if to_version is not None else events[-1].originator_version
        masked = not self._full_view(actor)
        aggregate = None
        before: dict[str, Any] = {}
        changes: list[Change] = []
        for e in events:
            if e.originator_version > to_version:
                break
            aggregate = e.mutate(aggregate)
            after = self._visible(actor, flatten(aggregate, masked))
            if e.originator_version > from_version:
                who = getattr(e, "actor", None) or {}
                reason = getattr(e, "reason", None) or getattr(e, "explanation", None)
                for field in sorted(set(before) | set(after)):
                    old, new = before.get(field), after.get(field)
                    if old != new:
                        changes.append(Change(
                            field=field, old=old, new=new, version=e.originator_version, event=type(e).__name__,
                            actor=who.get("username"), unit=who.get("unit"), recorded_at=e.timestamp,
                            reason=reason,
                        ))
            before = after
        return changes

    def version_at(self, actor: Actor, aggregate_id: UUID, at: datetime) -> int:
        return self.as_known_at(actor, aggregate_id, at).version

    @staticmethod
    def _visible(actor: Actor, state: dict[str, Any]) -> dict[str, Any]:
        """A township account sees its own township's figures only."""
        if actor.role is not Role.TOWNSHIP:
            return state
        return {k: v for k, v in state.items()
                if not k.startswith("figures.") or actor.covers(k.split(".")[1])}

    def _full_view(self, actor: Actor) -> bool:
        """Audit reads are always masked: clear personal data only through a recorded reveal."""
        return False

    def _require_reader(self, actor: Actor, aggregate_id: UUID) -> None:
        """Scope by what the aggregate is about; accounts are for auditors and admins."""
        try:
            aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"{aggregate_id} 不存在", f"{aggregate_id} not found") from None
        if isinstance(aggregate, Disaster):
            actors.require_reader(actor, aggregate.county)
        elif isinstance(aggregate, (ReliefCase, HousingCase)):
            actors.require_reader(actor, aggregate.village)
        elif isinstance(aggregate, ReliefFund):
            actors.require_reader(actor, aggregate.county)
        elif isinstance(aggregate, Account):
            if actor.role not in (Role.AUDITOR, Role.ADMIN) and actor.account_id != aggregate.id:
                raise NotPermitted("只有审计和管理员可以查看账号历史", "only auditors and admins read account histories")
        elif isinstance(area := _area_of(aggregate), str):
            actors.require_reader(actor, area)  # accidents, incidents, 冬春 filings, reference figures …
        elif actor.role not in (Role.AUDITOR, Role.ADMIN):
            raise NotPermitted("只有审计和管理员可以查看该记录", "only auditors and admins read this record")


def _area_of(aggregate: Any) -> str | None:
    """The most precise area code an aggregate is about (village, township, county, area, jurisdiction)."""
    for name in ("village", "township", "county", "area", "jurisdiction"):
        code = getattr(aggregate, name, None)
        if isinstance(code, str) and code.isdigit():
            return code
    return None
