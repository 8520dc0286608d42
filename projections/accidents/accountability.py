"""The accident sections of the accountability report, from the accident register (a `SectionSource`).

- `accident_clocks`: 迟报 / 未报 of the accidents of the area that happened in the period, each
  rebuilt from its events up to the report's position and evaluated at the report's "now";
- `accident_regradings`, `accident_findings` (recorded and withdrawn), `accident_late_supplements`
  (casualty changes after the 补报 window): recorded in the period, up to the report's position.

Rows follow the columns of `ledger.audit.accountability_sections.ACCIDENT_SECTIONS`; free text is
scrubbed like the rest of the report (runs of ten or more digits masked).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from ledger.accidents import state as accident_state
from ledger.accidents.clocks import RULE_NAMES, evaluate
from ledger.accidents.rules import GRADE_NAMES
from ledger.audit.accountability_scan import acted_by, iso, scrub
from ledger.audit.accountability_sections import ACCIDENT_SECTIONS, STATUS_NAMES
from projections.accidents.register import RegisterQueries

MAX_ACCIDENTS = 10_000


class AccidentSections:
    def __init__(self, view: RegisterQueries, runtime: Any) -> None:
        self.view = view
        self.rt = runtime
        self.columns = {s.key: [k for k, _ in s.columns] for s in ACCIDENT_SECTIONS}

    def rows(self, prefix: str, date_from: date, date_to: date, start: datetime, end: datetime, upto: int,
             now: datetime) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {key: [] for key in self.columns}
        states: dict[str, dict[str, Any]] = {}
        for row in self.view.find(prefix, date_from.isoformat(), date_to.isoformat(), limit=MAX_ACCIDENTS):
            state = accident_state.fold(json.loads(row["entries"]), upto)
            if not state:
                continue  # recorded after the report's position
            for flag in evaluate(state, self.rt.accident_rules, now):
                if flag.status in ("late", "missing"):
                    out["accident_clocks"].append({
                        **self._base(state), "grade": flag.grade, "grade_name": GRADE_NAMES[flag.grade],
                        "occurred_date": state["occurred_at"][:10], "rule": flag.rule,
                        "rule_name": RULE_NAMES.get(flag.rule, flag.rule), "level": flag.level, "unit": flag.unit,
                        "status": flag.status, "status_name": STATUS_NAMES[flag.status], "due_at": iso(flag.due_at),
                        "arrived_at": iso(flag.arrived_at), "delay_seconds": flag.delay_seconds,
                        "report_number": flag.report_number, "rules_version": flag.rules_version,
                        "rule_source": flag.rule_source,
                    })
        for log in self.view.log(prefix, start, end, upto):
            accident_id = log["accident_id"]
            if accident_id not in states:
                found = self.view.get(accident_id)
                states[accident_id] = accident_state.fold(json.loads(found["entries"]), upto) if found else {}
            state = states[accident_id]
            if state:
                self._logged(out, state, log["kind"], json.loads(log["entry"]))
        return {key: [{k: r.get(k) for k in self.columns[key]} for r in rows] for key, rows in out.items()}

    def _logged(self, out: dict[str, list[dict[str, Any]]], state: dict[str, Any], kind: str, e: dict[str, Any]
                ) -> None:
        who = {**acted_by(e.get("actor")), "recorded_at": iso(e["recorded_at"])}
        base = self._base(state)
        if kind == "regrading":
            out["accident_regradings"].append({
                **base, "previous": e["previous"], "grade": e["grade"], "grade_name": GRADE_NAMES[e["grade"]],
                "report_number": e["report_number"], "as_of": iso(e["as_of"]), "basis": "; ".join(e["basis"]),
                "rules_version": e["rules_version"], **who})
        elif kind == "finding":
            party = e["against"]
            out["accident_findings"].append({
                **base, "action": "recorded", "finding_id": e["finding_id"], "kind": e["kind"],
                "kind_name": e["definition"]["name"], "definition": e["definition"]["definition"],
                "source": e["definition"]["source"],
                "against": "unit" if party.get("party") == "unit" else f"{party.get('level')} {party.get('unit')}",
                "evidence": "; ".join(f"{x['ref']} ({x['type']}) {x['name']}" for x in e["evidence"]),
                "text": scrub(e["text"]), "rules_version": e["rules_version"], **who})
        elif kind == "finding_withdrawn":
            found = next((f for f in state["findings"] if f["id"] == e["finding_id"]), {})
            out["accident_findings"].append({
                **base, "action": "withdrawn", "finding_id": e["finding_id"], "kind": found.get("kind"),
                "kind_name": (found.get("definition") or {}).get("name"), "text": scrub(e["reason"]), **who})
        elif kind == "late_supplement":
            out["accident_late_supplements"].append({
                **base, "report_number": e["number"], "as_of": iso(e["as_of"]), "window_days": e["window_days"],
                "casualties": json.dumps(e["casualties"], ensure_ascii=False, sort_keys=True),
                "explanation": scrub(e["explanation"]), **who})

    def _base(self, state: dict[str, Any]) -> dict[str, Any]:
        area = self.rt.areas.get(state["county"])
        return {"accident_id": state["id"], "county": state["county"], "county_name": area.name if area else None,
                "unit_name": state["unit"]["name"], "sector": state["sector"]}
