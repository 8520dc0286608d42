"""Domain errors.

Every refusal the domain can give is a `DomainError` with a stable machine
code, a message in Chinese then English, and optional per-field details.
The API maps the error *class* to an HTTP status in one place
(`api.errors`); nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field (`field` is a dotted path)."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class DomainError(Exception):
    """A command was refused by a business rule."""

    code = "refused"

    def __init__(
        self,
        zh: str,
        en: str,
        *,
        fields: list[FieldProblem] | None = None,
        details: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        self.zh = zh
        self.en = en
        self.fields = fields or []
        self.details = details or {}
        if code is not None:
            self.code = code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"


class InvalidInput(DomainError):
    """The command is well-formed JSON but breaks a rule of the domain (422)."""

    code = "invalid"


class NotAuthenticated(DomainError):
    """No valid credentials (401)."""

    code = "unauthenticated"


class NotPermitted(DomainError):
    """The actor's role or scope does not allow this (403)."""

    code = "forbidden"


class NotFound(DomainError):
    """The thing named does not exist (404)."""

    code = "not_found"


class Conflict(DomainError):
    """The command conflicts with the current state (409)."""

    code = "conflict"


class Unavailable(DomainError):
    """The service cannot take the command now; retry later (503)."""

    code = "unavailable"


class UnknownArea(InvalidInput):
    code = "unknown_area"

    def __init__(self, code: str, field_name: str = "area") -> None:
        super().__init__(
            f"未知的区划代码 {code}",
            f"unknown area code {code}",
            fields=[FieldProblem(field_name, "unknown_area", f"unknown area code {code}")],
        )


class UnreadableEvent(Unavailable):
    """A stored event cannot be read back (damaged bytes, wrong key, unknown type): nothing that needs it can
    be answered until it is restored from a backup. Names the event, never its contents."""

    code = "event_unreadable"

    def __init__(self, originator_id: str, version: int, topic: str, position: int | None, cause: str) -> None:
        where = f"position {position}" if position else f"{originator_id} v{version}"
        super().__init__(
            f"存储的事件（{where}）已损坏或无法解密，请从备份恢复", f"the stored event at {where} is damaged or "
            "cannot be decrypted; restore it from a backup (relief-ledger audit verify names every such event)",
            details={"position": position, "aggregate_id": originator_id, "version": version, "topic": topic,
                     "cause": cause},
        )


class VersionMismatch(Conflict):
    code = "version_mismatch"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"版本不符：请求基于版本 {expected}，当前版本 {actual}",
            f"version mismatch: the request expected version {expected}, the current version is {actual}",
            details={"expected_version": expected, "current_version": actual},
        )


@dataclass
class Problems:
    """Collects field problems, then raises them together."""

    items: list[FieldProblem] = field(default_factory=list)

    def add(self, field_name: str, code: str, message: str) -> None:
        self.items.append(FieldProblem(field_name, code, message))

    def raise_if_any(self, zh: str, en: str, cls: type[InvalidInput] = InvalidInput) -> None:
        if self.items:
            raise cls(zh, en, fields=list(self.items))

    def __bool__(self) -> bool:
        return bool(self.items)
