"""Text a person types, and text a database can store: what every stored string must be.

PostgreSQL cannot store NUL in text, and neither backend should keep what no
person types — control characters, lone surrogates (halves of a UTF-16 pair,
which are not characters and cannot be encoded as UTF-8), or a megabyte in
one field. Such text is refused before anything is stored (a 422 naming the
field), so no read model can ever meet it. Tabs and line breaks (LF, or CRLF
as Windows writes it) are text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from ledger.store.errors import FieldProblem, InvalidInput

MAX_TEXT = 10_000
"""No stored string is longer (fields set lower limits of their own)."""

_BAD = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"  # C0 but tab/LF/CR, DEL, C1, surrogates
    "|\r(?!\n)"  # a CR that does not start a CRLF
)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (English, for the field message), or None."""
    if len(value) > MAX_TEXT:
        return f"at most {MAX_TEXT} characters ({len(value)} given)"
    bad = _BAD.search(value)
    if bad is None:
        return None
    char = bad.group()[0]
    where = bad.start()
    if "\ud800" <= char <= "\udfff":
        return f"a lone surrogate (U+{ord(char):04X}) at character {where + 1} is not a character"
    return f"the control character U+{ord(char):04X} at character {where + 1} is not text"


def problems_in(value: Any, path: str) -> Iterator[FieldProblem]:
    """Every string in a value (nested dicts, their keys, lists), with its dotted path."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            yield FieldProblem(path, "bad_text", problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (problem := text_problem(key)):
                yield FieldProblem(f"{path}.{excerpt(key)}", "bad_text", f"the key: {problem}")
            yield from problems_in(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from problems_in(item, f"{path}.{i}")
    elif not isinstance(value, (int, float, bool, Decimal, date, datetime, UUID, Enum, bytes, type(None))):
        yield from problems_in(getattr(value, "__dict__", {}), path)


def excerpt(value: str) -> str:
    """A field key fit for a message (controls shown as escapes, long keys cut)."""
    shown = value.encode("unicode_escape", "backslashreplace").decode("ascii")
    return shown if len(shown) <= 40 else shown[:37] + "..."


def require_storable(events: list[Any]) -> None:
    """Refuse the save if any string an event carries cannot be stored as text."""
    found: list[FieldProblem] = []
    for event in events:
        for name, value in vars(event).items():
            if name.startswith("originator_") or name == "timestamp":
                continue
            found.extend(problems_in(value, name))
    if found:
        raise InvalidInput(
            "文本含有无法保存的字符或过长", "the text holds characters that cannot be stored, or is too long",
            fields=found, code="bad_text",
        )


def printable(text: str, limit: int = 2000) -> str:
    """`text` made storable (each character that is not shown as an escape), cut at `limit`: for error messages."""
    return _BAD.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)[:limit]
