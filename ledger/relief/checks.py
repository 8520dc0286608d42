"""Checks shared by funds and cases: positive whole amounts, written reasons."""

from __future__ import annotations

from ledger.store.errors import FieldProblem, InvalidInput


def require_positive(amount: int, field: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("金额或数量须为正整数", "must be a positive whole number",
                           fields=[FieldProblem(field, "not_positive", "a positive integer (fen for money)")])


def require_reason(text: str | None, field: str = "reason") -> None:
    if not text or not text.strip():
        raise InvalidInput("须填写理由", "a written reason is required",
                           fields=[FieldProblem(field, "required", "a written reason is required")])
