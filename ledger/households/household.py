"""户: the household value shared by relief cases and housing cases.

A household is its head (户主: name, ID number) and its members (家庭成员: name,
relation, ID number, special groups such as 五保, 低保, 残疾, 高龄, 孤儿), a phone,
an address and — optionally — a 一卡通 account (a household without a card is
paid in cash with three-party signatures, `ledger.households.evidence`).
Names, addresses and numbers are personal data: they travel only inside
events (which the store encrypts whole) and are matched by keyed hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.personal.identifiers import validate_card, validate_id_number, validate_phone
from ledger.personal.keys import PersonalDataKey
from ledger.store.errors import InvalidInput, Problems

SPECIAL_GROUPS = ("五保", "低保", "特困", "残疾", "高龄", "孤儿", "留守老人", "留守儿童", "重病", "优抚对象")
"""分类救助: the groups relief gives priority to (reporting-rules §3.3)."""


MAX_MEMBERS = 49


@dataclass(frozen=True)
class Member:
    """家庭成员: one person of the household other than the head."""

    name: str
    relation: str  # 配偶, 子女, 父母, 孙子女 …
    id_number: str
    groups: tuple[str, ...] = ()
    in_need: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "relation": self.relation, "id_number": self.id_number,
                "groups": list(self.groups), "in_need": self.in_need}


@dataclass(frozen=True)
class Household:
    """户: head, members, phone, address and (optionally) the 一卡通 account."""

    head_name: str
    id_number: str
    phone: str
    address: str
    card_number: str = ""
    members: tuple[Member, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CheckedHousehold:
    household: Household
    id_number: str
    phone: str
    card: str  # "" when the household has no card
    id_hash: str
    members: tuple[Member, ...]

    @property
    def size(self) -> int:
        return 1 + len(self.members)

    @property
    def people_in_need(self) -> int:
        return 1 + sum(1 for m in self.members if m.in_need)

    def members_as_dicts(self) -> list[dict[str, Any]]:
        return [m.as_dict() for m in self.members]


def check_household(h: Household, pii: PersonalDataKey, today: date, problems: Problems) -> CheckedHousehold | None:
    """Validate the head, members and numbers; each problem named by its field. None if any problem."""
    before = len(problems.items)
    id_number = _collect(problems, validate_id_number, h.id_number, "id_number", today)
    phone = _collect(problems, validate_phone, h.phone, "phone")
    card = _collect(problems, validate_card, h.card_number, "card_number") if h.card_number.strip() else ""
    if not h.head_name.strip() or len(h.head_name) > 50:
        problems.add("head_name", "required", "the household head's name")
    if not h.address.strip():
        problems.add("address", "required", "the household's address")
    if len(h.members) > MAX_MEMBERS:
        problems.add("members", "too_many", f"at most {MAX_MEMBERS} members besides the head")
    members = []
    seen = {id_number} if id_number else set()
    for i, m in enumerate(h.members):
        where = f"members.{i}"
        number = _collect(problems, validate_id_number, m.id_number, f"{where}.id_number", today)
        if not m.name.strip() or len(m.name) > 50:
            problems.add(f"{where}.name", "required", "the member's name")
        if not m.relation.strip() or len(m.relation) > 20:
            problems.add(f"{where}.relation", "required", "the relation to the head (配偶, 子女, 父母 …)")
        unknown = [g for g in m.groups if g not in SPECIAL_GROUPS]
        if unknown:
            problems.add(f"{where}.groups", "unknown_group", f"{', '.join(unknown)}; known: {', '.join(SPECIAL_GROUPS)}")
        if number and number in seen:
            problems.add(f"{where}.id_number", "duplicate_person", "the same person is listed twice in the household")
        if number:
            seen.add(number)
            members.append(Member(m.name.strip(), m.relation.strip(), number, tuple(m.groups), m.in_need))
    if len(problems.items) > before or id_number is None or phone is None or card is None:
        return None
    return CheckedHousehold(
        household=h, id_number=id_number, phone=phone, card=card, id_hash=person_hash(pii, id_number),
        members=tuple(members),
    )


def person_hash(pii: PersonalDataKey, id_number: str) -> str:
    """The keyed hash a person is matched by, as head or member, in every case (never the number)."""
    return pii.hash("id_number", id_number)


def card_hash(pii: PersonalDataKey, card: str) -> str:
    return pii.hash("card_number", card)


def phone_hash(pii: PersonalDataKey, phone: str) -> str:
    return pii.hash("phone", phone)


def _collect(problems: Problems, validate: Any, value: str, field_name: str, *args: Any) -> str | None:
    try:
        return str(validate(value, field_name, *args))
    except InvalidInput as exc:
        problems.items.extend(exc.fields)
        return None


NAME_READERS = ("township", "county", "city", "province", "relief_officer")


def names_visible(actor: Any, area: str) -> bool:
    """Names and addresses (personal data, DESIGN): in clear to officers within their own scope — they
    are on the 公示 list those officers post — masked for auditors, administrators and anyone else
    unless revealed with a recorded purpose."""
    return str(actor.role.value if hasattr(actor.role, "value") else actor.role) in NAME_READERS and \
        actor.covers(area)
