"""Personal data: ID numbers (GB 11643), phone numbers, 一卡通 accounts.

Validated on the way in; stored only encrypted (the event store's cipher,
and field-level AES-GCM in read models); matched through a keyed hash
(HMAC-SHA256 with a configured key) so duplicates can be found without the
clear value; masked in every output unless the caller's role needs it.
Nothing here logs or puts a clear value into an error message.
"""

from __future__ import annotations

import re
from datetime import date

from ledger.store.errors import FieldProblem, InvalidInput

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


ID_CHECK = "10X98765432"


PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


CARD = re.compile(r"^\d{12,30}$")


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character: ISO 7064 MOD 11-2."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def validate_id_number(raw: str, field: str = "id_number", today: date | None = None) -> str:
    """An 18-character 公民身份号码 with a valid check character, birth date and province."""
    value = (raw or "").strip().upper()
    problem = None
    if not re.fullmatch(r"\d{17}[\dX]", value):
        problem = "18 characters: 17 digits and a digit or X"
    elif id_check_digit(value[:17]) != value[17]:
        problem = "the check character does not match (GB 11643)"
    else:
        try:
            born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            born = None
        today = today or date.today()
        if born is None or born.year < 1890 or born > today:
            problem = "the birth date in the number is not a real past date"
        elif value[:2] not in PROVINCES:
            problem = "the address code does not start with a province"
    if problem:
        raise InvalidInput("身份证号码无效", "invalid ID number", fields=[FieldProblem(field, "bad_id_number", problem)])
    return value


def validate_phone(raw: str, field: str = "phone") -> str:
    value = re.sub(r"[\s]", "", raw or "")
    if not PHONE.match(value):
        raise InvalidInput("电话号码无效", "invalid phone number",
                           fields=[FieldProblem(field, "bad_phone", "a mobile (11 digits) or 0xx-xxxxxxx landline")])
    return value


def validate_card(raw: str, field: str = "card_number") -> str:
    """一卡通 (惠民惠农财政补贴资金“一卡通”) bank account: digits only; card numbers pass Luhn."""
    value = re.sub(r"[\s-]", "", raw or "")
    ok = bool(CARD.match(value)) and (len(value) > 19 or _luhn(value))
    if not ok:
        raise InvalidInput("一卡通账号无效", "invalid 一卡通 account number",
                           fields=[FieldProblem(field, "bad_card_number", "12–30 digits; a card number passes the Luhn check")])
    return value


def _luhn(number: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(number)):
        n = int(d)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def mask_id(value: str) -> str:
    """320921********1234: the county of registration and the last four."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_card(value: str) -> str:
    return "*" * (len(value) - 4) + value[-4:] if len(value) > 4 else "*" * len(value)


def mask_name(value: str) -> str:
    """张*三 / 张*: the first character and, for longer names, the last."""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
}


def mask_address(value: str) -> str:
    """响水镇东园****: the first six characters (the township and village, as posted), the rest hidden."""
    return value[:6] + "*" * min(max(len(value) - 6, 0), 8) if len(value) > 6 else value[:2] + "*" * max(len(value) - 2, 0)
