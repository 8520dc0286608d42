"""Findings (认定) of 迟报 / 漏报 / 谎报 / 瞒报: whom they are against, the evidence, who may record them.

A finding is recorded beside the reports, never by changing them: it names the definition applied
(from the configured rules, with their version), the party found against — the unit, or a
regulator at a level of the chain — and its evidence, each piece referred to as
`sha256:<hex>` with its media type and file name (the attachment store keeps the bytes).

Who records: county, city and province accounts covering the accident; a finding against a
regulator is recorded by a level above it (nobody finds against their own level).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ledger.accidents.rules import LEVELS
from ledger.store.actors import LEVEL_RANK, REVIEWERS, Actor, Role, refuse, require_writer
from ledger.store.errors import Problems

SHA256_REF = re.compile(r"^sha256:[0-9a-f]{64}$")


MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")


ROLE_LEVEL = {Role.COUNTY: "county", Role.CITY: "city", Role.PROVINCE: "province"}


@dataclass(frozen=True)
class Finding:
    kind: str  # late | omitted | false | concealed
    text: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    against_party: str = "unit"  # unit | regulator
    against_level: str | None = None  # county | city | province, for a regulator


def parse_evidence(raw: list[dict[str, Any]], problems: Problems) -> list[dict[str, str]]:
    """Each piece as {ref: "sha256:<64 hex>", type: media type, name: file name}."""
    if not raw:
        problems.add("evidence", "required", "at least one piece of evidence (sha256:<hex>, type, name)")
    out = []
    for i, item in enumerate(raw):
        where = f"evidence.{i}"
        ref = str(item.get("ref", "")).strip().lower()
        kind = str(item.get("type", "")).strip()
        name = str(item.get("name", "")).strip()
        if not SHA256_REF.match(ref):
            problems.add(f"{where}.ref", "bad_ref", "sha256: followed by 64 hexadecimal digits")
        if not MEDIA_TYPE.match(kind) or len(kind) > 100:
            problems.add(f"{where}.type", "bad_type", "a media type such as application/pdf")
        if not name or len(name) > 200:
            problems.add(f"{where}.name", "bad_name", "the file name, 1–200 characters")
        out.append({"ref": ref, "type": kind, "name": name})
    return out


def against(finding: Finding, county: str, problems: Problems) -> dict[str, str]:
    """The party found against: the unit, or a regulator (its level and its unit's area code)."""
    if finding.against_party == "unit":
        return {"party": "unit"}
    if finding.against_party != "regulator":
        problems.add("against_party", "bad_party", "unit or regulator")
        return {}
    if finding.against_level not in LEVELS[:3]:
        problems.add("against_level", "bad_level", "county, city or province")
        return {}
    digits = {"county": 6, "city": 4, "province": 2}[finding.against_level]
    return {"party": "regulator", "level": finding.against_level, "unit": county[:digits].ljust(12, "0")}


def require_finder(actor: Actor, county: str, party: dict[str, str]) -> None:
    """County, city or province within scope; against a regulator, only a level above it."""
    require_writer(actor)
    if actor.role not in REVIEWERS or not actor.covers(county):
        raise refuse("只有县级及以上管辖本事故的账号可以记录认定",
                     "only county, city or province accounts covering the accident may record findings")
    if party.get("party") == "regulator":
        found_rank = LEVELS.index(party["level"]) + 2  # county 2, city 3, province 4 as in LEVEL_RANK
        if LEVEL_RANK[actor.role] <= found_rank:
            raise refuse("对监管部门的认定须由其上级记录", "a finding against a regulator is recorded by a level above it")

