"""Checks shared by funds and cases: positive whole amounts, written reasons, how a household is paid."""

from __future__ import annotations

from typing import Any

from ledger.store.errors import FieldProblem, InvalidInput


def require_positive(amount: int, field: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("金额或数量须为正整数", "must be a positive whole number",
                           fields=[FieldProblem(field, "not_positive", "a positive integer (fen for money)")])


def require_reason(text: str | None, field: str = "reason") -> None:
    if not text or not text.strip():
        raise InvalidInput("须填写理由", "a written reason is required",
                           fields=[FieldProblem(field, "required", "a written reason is required")])


def check_payment_method(card_number: str, method: str, signatures: list[dict[str, Any]]) -> None:
    """一卡通 when the household has a card (直接打卡到户); cash with the three signatures only when it has none (C44)."""
    if method not in ("card", "cash"):
        raise InvalidInput("发放方式无效", "unknown payment method",
                           fields=[FieldProblem("method", "bad_method", "card or cash")])
    if method == "card" and not card_number:
        raise InvalidInput("该户没有一卡通账号，须现金发放并三方签字",
                           "the household has no 一卡通 card: pay in cash with the three signatures",
                           fields=[FieldProblem("method", "no_card", "cash, with signatures")], code="no_card")
    if method == "cash" and card_number:
        raise InvalidInput("有一卡通账号的户须直接打卡发放", "a household with a 一卡通 card is paid to the card",
                           fields=[FieldProblem("method", "has_card", "card")], code="card_required")
    if method == "cash" and not signatures:
        raise InvalidInput("现金发放须三方签字", "a cash payment needs the three signatures",
                           fields=[FieldProblem("signatures", "required", "recipient, village, township")],
                           code="signatures_required")


def check_goods_receipt(card_number: str, signatures: list[dict[str, Any]]) -> None:
    """A household without a card signs for goods with the village and the township (C44)."""
    if not card_number and not signatures:
        raise InvalidInput("无一卡通的户领取物资须三方签字",
                           "a household without a card signs for goods with the village and the township",
                           fields=[FieldProblem("signatures", "required", "recipient, village, township")],
                           code="signatures_required")
