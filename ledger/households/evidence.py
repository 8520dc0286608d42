"""Evidence references and three-party signatures.

Evidence (a photo of a delivery, the damage to a house, signed minutes) is a
file in the attachment store; events refer to it as `sha256:<hex>` of the
file's plaintext, with its media type and name — never the file itself.

A household without a 一卡通 card is paid in cash or goods with three
signatures (reporting-rules §3.3, C44): the recipient, the village (村委会 /
村监委) and the township (乡镇 / 驻村干部), each with the signer's name and
the date signed, optionally with the signed sheet as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.store.errors import FieldProblem, InvalidInput

SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")


SIGNING_PARTIES = ("recipient", "village", "township")


PARTY_NAMES = {"recipient": "领取人", "village": "村", "township": "乡镇"}


@dataclass(frozen=True)
class Evidence:
    ref: str  # sha256:<hex>
    type: str  # media type, e.g. image/jpeg
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"ref": self.ref, "type": self.type, "name": self.name}


@dataclass(frozen=True)
class Signature:
    party: str  # recipient | village | township
    name: str
    signed_on: date
    evidence: str | None = None  # sha256:<hex> of the signed sheet

    def as_dict(self) -> dict[str, Any]:
        return {"party": self.party, "name": self.name, "signed_on": self.signed_on, "evidence": self.evidence}


def check_evidence(items: list[Evidence], field: str = "evidence", required: bool = True) -> list[dict[str, str]]:
    problems = []
    if required and not items:
        problems.append(FieldProblem(field, "required", "at least one evidence reference (sha256:<hex>, type, name)"))
    for i, e in enumerate(items):
        if not SHA256.match(e.ref):
            problems.append(FieldProblem(f"{field}.{i}.ref", "bad_reference", "sha256: and 64 lowercase hex digits"))
        if not e.type.strip() or "/" not in e.type:
            problems.append(FieldProblem(f"{field}.{i}.type", "bad_type", "a media type such as image/jpeg"))
        if not e.name.strip():
            problems.append(FieldProblem(f"{field}.{i}.name", "required", "the file's name"))
    if problems:
        raise InvalidInput("证据材料有误", "invalid evidence references", fields=problems)
    return [e.as_dict() for e in items]


def check_signatures(items: list[Signature], today: date, field: str = "signatures") -> list[dict[str, Any]]:
    """All three parties, each once, named, dated not after today."""
    problems = []
    parties = [s.party for s in items]
    for party in SIGNING_PARTIES:
        if parties.count(party) != 1:
            problems.append(FieldProblem(field, f"missing_{party}" if party not in parties else f"duplicate_{party}",
                                         f"exactly one signature of the {party} ({PARTY_NAMES[party]})"))
    for i, s in enumerate(items):
        if s.party not in SIGNING_PARTIES:
            problems.append(FieldProblem(f"{field}.{i}.party", "unknown_party", ", ".join(SIGNING_PARTIES)))
        if not s.name.strip():
            problems.append(FieldProblem(f"{field}.{i}.name", "required", "the signer's name"))
        if s.signed_on > today:
            problems.append(FieldProblem(f"{field}.{i}.signed_on", "in_future", "not after today"))
        if s.evidence is not None and not SHA256.match(s.evidence):
            problems.append(FieldProblem(f"{field}.{i}.evidence", "bad_reference", "sha256:<64 hex>"))
    if problems:
        raise InvalidInput("须有领取人、村、乡镇三方签字", "the recipient, the village and the township must all sign",
                           fields=problems, code="signatures_required")
    return [s.as_dict() for s in items]
