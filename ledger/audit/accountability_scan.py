"""The accountability report's one pass over the log: events folded into the report's rows."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from ledger.accounts.aggregate import Account
from ledger.audit.accountability_sections import (
    ACCESS_NAMES,
    ACCOUNT_STATUS_NAMES,
    ACTION_NAMES,
    COMEBACK_NAMES,
    CORRECTABLE,
    CORRECTABLE_NAMES,
    JUMP_KIND_NAMES,
    RIGHTS_CHANGE_NAMES,
    SECTION_KEYS,
    SECTIONS,
    STATUS_NAMES,
)
from ledger.disasters import state as disaster_state
from ledger.disasters.aggregate import Disaster
from ledger.disasters.deadlines import RULE_NAMES, evaluate
from ledger.disasters.upward import UpwardReport
from ledger.personal.access import PersonalDataExported, PersonalDataViewed
from ledger.relief.case import ReliefCase
from ledger.relief.fund import ReliefFund
from ledger.relief.programmes import PROGRAMME_NAMES
from ledger.store.errors import InvalidInput

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


CHINA = ZoneInfo("Asia/Shanghai")


FLAGGED = ("late", "missing")


AREA_ATTRIBUTES = ("village", "township", "county", "area", "jurisdiction")


CENT = Decimal("0.01")


_DIGITS = re.compile(r"\d{10,}[Xx]?")


def scrub(text: str | None) -> str | None:
    """Free text with every run of ten or more digits (an ID, phone or card number) masked to its last four."""
    if text is None:
        return None
    return _DIGITS.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], str(text))


def iso(moment: datetime | str | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA)
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def yuan(fen: int) -> str:
    return str((Decimal(int(fen)) / 100).quantize(CENT))


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def acted_by(actor: dict[str, Any] | None) -> dict[str, Any]:
    actor = actor or {}
    return {"actor": actor.get("username"), "actor_role": actor.get("role"), "actor_unit": actor.get("unit")}


class AccountabilityScan:
    """Folds the log, event by event, into the report's sections."""

    def __init__(self, runtime: LedgerContext, prefix: str, start: datetime, end: datetime) -> None:
        self.rt = runtime
        self.prefix = prefix
        self.start = start
        self.end = end
        self.disasters: dict[UUID, dict[str, Any]] = {}  # states of the area's processes
        self.county_of: dict[UUID, str] = {}  # every process → county
        self.fund_county: dict[UUID, str] = {}
        self.cases: dict[UUID, dict[str, str]] = {}  # case → village, county, programme, period
        self.payments: dict[tuple[UUID, str], dict[str, Any]] = {}  # (case, payment id) → amount, batch
        self.account_scope: dict[UUID, str] = {}
        self.rights: dict[UUID, list[dict[str, Any]]] = {}  # account → its rights, change by change
        self.area_of: dict[UUID, str] = {}  # accidents, incidents, housing, filings … → their area
        self.actions: Counter[tuple[str, str, str, str, str]] = Counter()
        self.rows: dict[str, list[dict[str, Any]]] = {key: [] for key in SECTION_KEYS}
        self.upward: list[dict[str, Any]] = []  # the city's and province's upward reports (上报)

    def within(self, code: str | None) -> bool:
        return code is not None and code.startswith(self.prefix)

    def in_period(self, event: Any) -> bool:
        return self.start <= event.timestamp < self.end

    def add(self, event: Any) -> None:
        oid = event.originator_id
        if isinstance(event, disaster_state.DISASTER_EVENTS):
            in_area = self._disaster(oid, event)
        elif isinstance(event, ReliefCase.Event):
            in_area = self._case(oid, event)
        elif isinstance(event, ReliefFund.Event):
            if isinstance(event, ReliefFund.Opened):
                self.fund_county[oid] = event.county
            in_area = self.within(self.fund_county.get(oid))
        elif isinstance(event, PersonalDataViewed.Viewed):
            in_area = self._viewed(event)
        elif isinstance(event, PersonalDataExported.Exported):
            in_area = self._exported(event)
        elif isinstance(event, Account.Event):
            if isinstance(event, Account.Registered):
                self.account_scope[oid] = event.scope
            in_area = self.within(self.account_scope.get(oid))
            self._rights(oid, event)
        elif isinstance(event, UpwardReport.Filed):
            self.upward.append({"level": event.level, "kind": event.kind, "recorded_at": iso(event.timestamp),
                                "day": event.day.isoformat() if event.day else None,
                                "disaster_ids": list(event.disaster_ids)})
            in_area = self.within(event.unit)
        else:
            in_area = self._elsewhere(oid, event)
            if in_area is None:
                return  # key claims, the token index, idempotency records: no acting account
        actor = getattr(event, "actor", None)
        if in_area and isinstance(actor, dict) and self.in_period(event):
            self.actions[(str(actor.get("account_id") or ""), str(actor.get("username") or ""),
                          str(actor.get("role") or ""), str(actor.get("unit") or ""),
                          type(event).__qualname__)] += 1

    def _elsewhere(self, oid: UUID, event: Any) -> bool | None:
        """Every other aggregate whose events name who acted (accidents, incidents, housing, 冬春 filings,
        reference figures …): its area is the most precise code its first event gives."""
        if oid not in self.area_of:
            for name in AREA_ATTRIBUTES:
                code = getattr(event, name, None)
                if isinstance(code, str) and code.isdigit():
                    self.area_of[oid] = code
                    break
        if not isinstance(getattr(event, "actor", None), dict):
            return None
        return self.within(self.area_of.get(oid))

    # --- disasters -----------------------------------------------------------------------------

    def _disaster(self, oid: UUID, event: Any) -> bool:
        if isinstance(event, Disaster.InitialReportFiled):
            self.county_of[oid] = event.county
        county = self.county_of.get(oid)
        if not self.within(county):
            return False
        state = self.disasters.get(oid)
        before = {k: state.get(k) for k in CORRECTABLE} if state is not None else {}
        state = disaster_state.apply(state, event)
        self.disasters[oid] = state
        if self.in_period(event):
            self._disaster_rows(state, before, event)
        return True

    def _base(self, state: dict[str, Any]) -> dict[str, Any]:
        return {"disaster_id": state["id"], "county": state["county"], "county_name": self._name(state["county"]),
                "hazard": state["hazard"], "disaster_date": state["disaster_date"]}

    def _disaster_rows(self, state: dict[str, Any], before: dict[str, Any], event: Any) -> None:
        who = {**acted_by(event.actor), "recorded_at": iso(event.timestamp)}
        if isinstance(event, Disaster.Corrected):
            changed = [k for k in CORRECTABLE if state.get(k) != before.get(k)]
            changes = "; ".join(
                f"{CORRECTABLE_NAMES[k]} {k}: {scrub(_text(before.get(k)))} → {scrub(_text(state.get(k)))}"
                for k in changed)
            self.rows["corrections"].append({**self._base(state), "changed": ", ".join(changed), "changes": changes,
                                             "reason": scrub(event.reason), **who})
        elif isinstance(event, Disaster.Retracted):
            self.rows["retractions"].append({**self._base(state), "reason": scrub(event.reason), **who})
        elif isinstance(event, Disaster.ReportReturned):
            report = state["reports"][event.number - 1]
            filer = report.get("filed_by") or {}
            self.rows["returns"].append({
                **self._base(state), "report_number": event.number, "report_kind": report["kind"],
                "filed_by": filer.get("username"), "filed_unit": filer.get("unit"), "reason": scrub(event.reason),
                **who,
            })
        elif isinstance(event, disaster_state.REPORT_EVENTS):
            report = state["reports"][-1]
            base = self._base(state)
            for jump in getattr(event, "jumps", None) or []:
                indicator = self.rt.indicators.indicators.get(jump.get("indicator"))
                self.rows["jumps"].append({
                    "disaster_id": base["disaster_id"], "county": base["county"], "county_name": base["county_name"],
                    "hazard": base["hazard"], "report_number": report["number"], "report_kind": report["kind"],
                    "as_of": iso(report["as_of"]), "township": jump.get("township"),
                    "township_name": self._name(jump.get("township")), "indicator": jump.get("indicator"),
                    "indicator_name": indicator.name_zh if indicator else None,
                    "previous": plain(jump.get("previous")), "reported": plain(jump.get("reported")),
                    "kind": jump.get("kind"), "kind_name": JUMP_KIND_NAMES.get(str(jump.get("kind")), None),
                    "explanation": scrub(event.explanation), **who,
                })

    # --- relief --------------------------------------------------------------------------------

    def _case(self, oid: UUID, event: Any) -> bool:
        if isinstance(event, ReliefCase.Applied):
            self.cases[oid] = {"village": event.village, "county": event.county, "programme": event.programme,
                               "period": event.period}
        case = self.cases.get(oid)
        if case is None or not self.within(case["village"]):
            return False
        if isinstance(event, ReliefCase.PaymentMade):
            self.payments[(oid, event.payment_id)] = {"amount": event.amount, "batch_id": event.batch_id}
        if not self.in_period(event):
            return True
        who = {**acted_by(event.actor), "recorded_at": iso(event.timestamp)}
        base = {"case_id": str(oid), "county": case["county"], "village": case["village"],
                "village_name": self._name(case["village"]), "programme": case["programme"]}
        if isinstance(event, ReliefCase.CountyApproved) and event.above_cap:
            self.rows["above_standard"].append({
                **base, "programme_name": programme_name(case["programme"]), "period": case["period"],
                "amount_fen": event.amount, "amount_yuan": yuan(event.amount), "cap_fen": event.cap,
                "cap_yuan": yuan(event.cap), "reason": scrub(event.reason), "rules_version": event.rules_version,
                **who,
            })
        elif isinstance(event, (ReliefCase.PaymentReturned, ReliefCase.PaymentReversed)):
            kind = "reversed" if isinstance(event, ReliefCase.PaymentReversed) else "returned"
            paid = self.payments.get((oid, event.payment_id), {})
            amount = paid.get("amount")
            self.rows["returned_or_reversed"].append({
                **base, "period": case["period"], "payment_id": event.payment_id, "batch_id": paid.get("batch_id"),
                "amount_fen": amount, "amount_yuan": yuan(amount) if amount is not None else None,
                "kind": kind, "kind_name": COMEBACK_NAMES[kind], "reason": scrub(event.reason), **who,
            })
        return True

    def _viewed(self, event: Any) -> bool:
        case = self.cases.get(event.case_id)
        if case is None or not self.within(case["village"]):
            return False
        if self.in_period(event):
            self.rows["access_log"].append({
                "kind": "viewed", "kind_name": ACCESS_NAMES["viewed"], "case_id": str(event.case_id),
                "village": case["village"], "village_name": self._name(case["village"]),
                "programme": case["programme"], "period": case["period"], "area": None,
                "purpose": scrub(event.purpose), **acted_by(event.actor), "recorded_at": iso(event.timestamp),
            })
        return True

    def _exported(self, event: Any) -> bool:
        area = str(event.area)
        if not (area.startswith(self.prefix) or self.prefix.startswith(area)):
            return False
        if self.in_period(event):
            self.rows["access_log"].append({
                "kind": "exported", "kind_name": ACCESS_NAMES["exported"], "case_id": None, "village": None,
                "village_name": None, "programme": event.programme, "period": event.period, "area": area,
                "purpose": scrub(event.purpose), **acted_by(event.actor), "recorded_at": iso(event.timestamp),
            })
        return True

    # --- at the end ----------------------------------------------------------------------------

    def compliance(self, date_from: date, date_to: date, now: datetime) -> None:
        rows = []
        for state in self.disasters.values():
            if not date_from.isoformat() <= state["disaster_date"] <= date_to.isoformat():
                continue
            for flag in evaluate(state, self.rt.deadlines, now, self.upward):
                if flag.status not in FLAGGED:
                    continue
                rows.append({
                    **self._base(state),
                    "hazard_name": self._hazard_name(state["hazard"]),
                    "rule": flag.rule, "rule_name": RULE_NAMES.get(flag.rule, flag.rule), "level": flag.level,
                    "unit": flag.unit, "status": flag.status, "status_name": STATUS_NAMES[flag.status],
                    "due_at": iso(flag.due_at), "arrived_at": iso(flag.arrived_at),
                    "delay_seconds": flag.delay_seconds, "report_number": flag.report_number,
                    "rules_version": flag.rules_version,
                })
        order = [key for key, _ in SECTIONS[0].columns]
        rows = [{k: r[k] for k in order} for r in rows]
        rows.sort(key=lambda r: (r["disaster_date"], r["disaster_id"], r["due_at"] or "", r["rule"]))
        self.rows["late_and_missing"] = rows

    def _rights(self, oid: UUID, event: Any) -> None:
        changes = self.rights.setdefault(oid, [])
        if isinstance(event, Account.Registered):
            now = {"username": event.username, "role": event.role, "scope": event.scope, "status": "active"}
        elif isinstance(event, Account.AccessChanged) and changes:
            now = {**changes[-1], "role": event.role, "scope": event.scope}
            self.account_scope[oid] = event.scope
        elif isinstance(event, (Account.Suspended, Account.Restored, Account.Revoked)) and changes:
            now = {**changes[-1], "status": {Account.Suspended: "suspended", Account.Restored: "active",
                                            Account.Revoked: "revoked"}[type(event)]}
        else:
            return
        actor = getattr(event, "actor", None) or {}
        changes.append({**{k: now[k] for k in ("username", "role", "scope", "status")}, "at": event.timestamp,
                        "change": type(event).__name__, "reason": scrub(getattr(event, "reason", None)),
                        "changed_by": actor.get("username")})

    def rights_rows(self) -> None:
        """账号权限: for each account whose scope lay within the area, the rights in force at the period's start
        and every change in the period, each with the moment it took effect and until when it held."""
        rows = []
        for oid, changes in self.rights.items():
            if not any(self.within(c["scope"]) for c in changes):
                continue
            for i, c in enumerate(changes):
                until = changes[i + 1]["at"] if i + 1 < len(changes) else None
                if c["at"] >= self.end or (until is not None and until <= self.start):
                    continue
                rows.append({
                    "username": c["username"], "account_id": str(oid), "role": c["role"], "scope": c["scope"],
                    "status": c["status"], "status_name": ACCOUNT_STATUS_NAMES[c["status"]],
                    "valid_from": iso(c["at"]), "valid_until": iso(until), "change": c["change"],
                    "change_name": RIGHTS_CHANGE_NAMES[c["change"]], "reason": c["reason"],
                    "changed_by": c["changed_by"],
                })
        rows.sort(key=lambda r: (r["username"], r["valid_from"]))
        self.rows["account_rights"] = rows

    def action_rows(self) -> None:
        self.rows["actions_per_account"] = [
            {"actor": username, "account_id": account, "actor_role": role, "actor_unit": unit,
             "event_type": kind, "event_name": ACTION_NAMES.get(kind, kind), "count": count}
            for (account, username, role, unit, kind), count in sorted(
                self.actions.items(), key=lambda item: (item[0][1], item[0][0], item[0][4]))
        ]

    def _name(self, code: str | None) -> str | None:
        if not code:
            return None
        try:
            area = self.rt.areas.get(code)
        except InvalidInput:
            return None
        return area.name if area is not None else None

    def _hazard_name(self, code: str) -> str | None:
        hazard = self.rt.hazards.hazards.get(code)
        return hazard.name if hazard is not None else None


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(plain(value))


def programme_name(code: str) -> str | None:
    for programme, name in PROGRAMME_NAMES.items():
        if programme.value == code:
            return name
    return None
