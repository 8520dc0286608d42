"""Who acts: roles, scopes and the permission rules every command checks.

A scope is an area-code prefix (2 digits = a province, 4 = a city, 6 = a
county, 9 = a township). Nobody writes outside their scope; auditors never
write.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from ledger.store.errors import NotPermitted


class Role(StrEnum):
    TOWNSHIP = "township"  # 乡镇工作人员 / 灾害信息员
    COUNTY = "county"  # 县级应急管理局
    CITY = "city"
    PROVINCE = "province"
    RELIEF_OFFICER = "relief_officer"  # 民政 / 救助 officers
    AUDITOR = "auditor"
    ADMIN = "admin"


# Levels of government in the 直报 chain, low to high.
LEVEL_RANK = {Role.TOWNSHIP: 1, Role.COUNTY: 2, Role.CITY: 3, Role.PROVINCE: 4}


REVIEWERS = (Role.COUNTY, Role.CITY, Role.PROVINCE)


SCOPE_DIGITS = {Role.TOWNSHIP: 9, Role.COUNTY: 6, Role.CITY: 4, Role.PROVINCE: 2}


@dataclass(frozen=True)
class Actor:
    """The account a command runs as, and the unit it acts for."""

    account_id: UUID
    username: str
    role: Role
    scope: str  # area-code prefix

    @property
    def unit(self) -> str:
        """The unit's 12-digit area code (the scope padded)."""
        return self.scope.ljust(12, "0")

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": str(self.account_id),
            "username": self.username,
            "role": self.role.value,
            "unit": self.unit,
        }

    def covers(self, code: str) -> bool:
        """True if `code` (any length) lies within this actor's scope."""
        return code.startswith(self.scope)

    def overlaps(self, code_prefix: str) -> bool:
        """True if the scope and the prefix share territory (either contains the other)."""
        return code_prefix.startswith(self.scope) or self.scope.startswith(code_prefix)


def refuse(zh: str, en: str) -> NotPermitted:
    return NotPermitted(zh, en)


def require_writer(actor: Actor) -> None:
    if actor.role is Role.AUDITOR:
        raise refuse("审计账号只读，不能提交任何变更", "auditor accounts are read-only")


def require_reader(actor: Actor, county: str) -> None:
    if not actor.overlaps(county):
        raise refuse(f"县 {county} 不在本账号的管辖范围内", f"county {county} is outside this account's scope")
