"""Personal data: 公民身份号码 (GB 11643-1999), phone numbers, 一卡通 accounts, masks, keyed hashes.

ID numbers used here are built by the test from the standard's own formula
(W_i = 2^(18−i) mod 11, check table 1 0 X 9 8 7 6 5 4 3 2), not with the code
under test, so a wrong weight or table in the product would show.
"""

from __future__ import annotations

import base64
from datetime import date

import pytest

from ledger.personal.identifiers import (
    id_check_digit,
    mask_card,
    mask_id,
    mask_phone,
    validate_card,
    validate_id_number,
    validate_phone,
)
from ledger.personal.keys import PersonalDataKey
from ledger.store.errors import InvalidInput

TODAY = date(2024, 7, 20)


def gb11643(first17: str) -> str:
    """The full 18-character number: ISO 7064 MOD 11-2 computed from the standard's definition."""
    weights = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def wrong_check(number: str) -> str:
    good = number[-1]
    return number[:-1] + next(c for c in "0123456789X" if c != good)


def luhn_complete(partial: str) -> str:
    """A card number: `partial` followed by its Luhn check digit."""
    for d in "0123456789":
        candidate = partial + d
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            n = int(ch) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


# A man from 响水县 born 1980-01-01 (sequence 123: odd = male).
XIANGSHUI_MAN = gb11643("32092119800101123")
# The standard's own example number (北京 朝阳区, 1949-12-31), whose check character is X.
STANDARD_EXAMPLE = "11010519491231002X"
CARD = luhn_complete("621700001001234567")  # 19 digits, like the example in the API schema
PHONE = "13800138000"


def refusal(call, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    return caught.value


def all_text(error: InvalidInput) -> str:
    return " ".join(
        [
            str(error),
            error.message,
            repr(error.details),
            *(f"{p.field} {p.code} {p.message}" for p in error.fields),
        ]
    )


# --- GB 11643 check character ------------------------------------------------------------------------


def test_the_test_formula_reproduces_the_standards_example():
    assert gb11643(STANDARD_EXAMPLE[:17]) == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    "number",
    [
        XIANGSHUI_MAN,
        STANDARD_EXAMPLE,
        gb11643("32092119991231002"),  # last day of a year
        gb11643("44010620000229004"),  # 29 February of a leap year
        gb11643("65010219900615071"),  # 新疆
        gb11643("81000019850520002"),  # 香港 (81)
    ],
)
def test_a_well_formed_number_is_accepted_as_it_is(number):
    assert validate_id_number(number, today=TODAY) == number
    assert id_check_digit(number[:17]) == number[17]


def test_every_check_character_value_is_computed_like_the_standard():
    seen = set()
    for seq in range(100, 200):
        number = gb11643(f"32092119800101{seq}")
        assert id_check_digit(number[:17]) == number[17]
        seen.add(number[17])
    assert seen == set("0123456789X")


def test_a_wrong_check_character_is_refused():
    error = refusal(validate_id_number, wrong_check(XIANGSHUI_MAN), today=TODAY)
    assert [(p.field, p.code) for p in error.fields] == [("id_number", "bad_id_number")]


def test_two_swapped_digits_are_caught_by_the_check_character():
    swapped = XIANGSHUI_MAN[:14] + XIANGSHUI_MAN[15] + XIANGSHUI_MAN[14] + XIANGSHUI_MAN[16:]
    assert swapped != XIANGSHUI_MAN
    refusal(validate_id_number, swapped, today=TODAY)


def test_a_lowercase_x_is_accepted_and_stored_as_capital_x():
    assert validate_id_number(STANDARD_EXAMPLE.lower(), today=TODAY) == STANDARD_EXAMPLE


def test_surrounding_spaces_are_ignored():
    assert validate_id_number(f"  {XIANGSHUI_MAN} ", today=TODAY) == XIANGSHUI_MAN


@pytest.mark.parametrize(
    "birth",
    [
        "19800230",  # 30 February
        "19810229",  # 29 February of a common year
        "19801301",  # month 13
        "19800001",  # month 0
        "19800100",  # day 0
        "19800132",  # day 32
        "18800101",  # before 1890: nobody alive
    ],
)
def test_an_impossible_birth_date_is_refused_even_with_a_good_check_character(birth):
    number = gb11643(f"320921{birth}123")
    error = refusal(validate_id_number, number, today=TODAY)
    assert error.fields[0].code == "bad_id_number"
    assert "birth" in error.fields[0].message


def test_a_birth_date_in_the_future_is_refused():
    refusal(validate_id_number, gb11643("32092120240721123"), today=TODAY)


def test_a_child_born_today_is_accepted():
    number = gb11643("32092120240720124")
    assert validate_id_number(number, today=TODAY) == number


@pytest.mark.parametrize("prefix", ["000000", "100000", "990000", "380000", "720000"])
def test_an_address_code_that_is_no_province_is_refused(prefix):
    error = refusal(validate_id_number, gb11643(f"{prefix}19800101123"), today=TODAY)
    assert "province" in error.fields[0].message


@pytest.mark.parametrize(
    "raw",
    [
        "",
        XIANGSHUI_MAN[:17],  # 17: the check character missing
        XIANGSHUI_MAN + "1",  # 19
        "320921800101123",  # the old 15-digit number
        XIANGSHUI_MAN[:10] + "A" + XIANGSHUI_MAN[11:],
        "X" + XIANGSHUI_MAN[1:],  # X only as the last character
        XIANGSHUI_MAN[:9] + " " + XIANGSHUI_MAN[9:],
    ],
)
def test_anything_but_17_digits_and_a_check_character_is_refused(raw):
    error = refusal(validate_id_number, raw, today=TODAY)
    assert error.fields[0].field == "id_number"


def test_the_field_name_is_the_callers():
    error = refusal(validate_id_number, wrong_check(XIANGSHUI_MAN), "members.0.id_number", TODAY)
    assert error.fields[0].field == "members.0.id_number"


# --- phone -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13800138000", "13800138000"),
        ("199 1234 5678", "19912345678"),
        ("0515-86901234", "0515-86901234"),  # 响水 landline: area code 0515
        ("025-12345678", "025-12345678"),
        ("01012345678", "01012345678"),
    ],
)
def test_mobile_and_landline_numbers_are_accepted(raw, stored):
    assert validate_phone(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1380013800",
        "138001380001",
        "12800138000",
        "23800138000",
        "0515-123456",
        "+8613800138000",
        "1380013800a",
    ],
)
def test_a_phone_number_that_is_neither_mobile_nor_landline_is_refused(raw):
    error = refusal(validate_phone, raw)
    assert [(p.field, p.code) for p in error.fields] == [("phone", "bad_phone")]


# --- 一卡通 account ---------------------------------------------------------------------------------


def test_a_card_number_passing_luhn_is_accepted_with_spaces_and_dashes_removed():
    spaced = " ".join(CARD[i : i + 4] for i in range(0, len(CARD), 4))
    assert validate_card(spaced) == CARD
    assert validate_card(CARD[:6] + "-" + CARD[6:]) == CARD


def test_a_card_number_with_a_wrong_luhn_digit_is_refused():
    wrong = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    error = refusal(validate_card, wrong)
    assert [(p.field, p.code) for p in error.fields] == [("card_number", "bad_card_number")]


def test_a_16_digit_card_is_checked_with_luhn_too():
    card16 = luhn_complete("622848001234567")
    assert validate_card(card16) == card16
    refusal(validate_card, card16[:-1] + str((int(card16[-1]) + 5) % 10))


def test_a_long_bank_account_number_is_not_held_to_luhn():
    account = "3209210100012345678901"  # 22 digits: an account, not a card
    assert validate_card(account) == account


@pytest.mark.parametrize("raw", ["", "12345678901", "6217 0000 1001 2345 67X", "1" * 31])
def test_a_card_number_that_is_too_short_too_long_or_not_digits_is_refused(raw):
    refusal(validate_card, raw)


# --- masks -----------------------------------------------------------------------------------------


def test_an_id_number_is_masked_to_the_county_and_the_last_four():
    masked = mask_id(XIANGSHUI_MAN)
    assert masked == "320921********" + XIANGSHUI_MAN[-4:]
    assert "19800101" not in masked


def test_a_mobile_number_is_masked_to_the_first_three_and_last_four():
    assert mask_phone("13800138000") == "138****8000"


def test_a_landline_keeps_only_its_area_code_and_last_four():
    masked = mask_phone("0515-86901234")
    assert masked.endswith("1234") and "8690" not in masked


def test_a_card_number_shows_only_the_last_four():
    masked = mask_card(CARD)
    assert masked.endswith(CARD[-4:])
    assert set(masked[:-4]) == {"*"}
    assert mask_card("12345678") == "****5678"


@pytest.mark.parametrize("mask", [mask_id, mask_phone, mask_card])
def test_short_values_are_masked_completely(mask):
    assert set(mask("1234")) == {"*"}


# --- keyed hash and field encryption ---------------------------------------------------------------


KEY = PersonalDataKey(b"a" * 32)


def test_the_keyed_hash_is_stable_so_duplicates_can_be_found():
    assert KEY.hash("id_number", XIANGSHUI_MAN) == PersonalDataKey(b"a" * 32).hash("id_number", XIANGSHUI_MAN)
    assert KEY.hash("id_number", XIANGSHUI_MAN) != KEY.hash("id_number", STANDARD_EXAMPLE)


def test_another_key_gives_another_hash():
    assert KEY.hash("id_number", XIANGSHUI_MAN) != PersonalDataKey(b"b" * 32).hash("id_number", XIANGSHUI_MAN)


def test_the_hash_depends_on_the_purpose_and_does_not_contain_the_value():
    digest = KEY.hash("id_number", XIANGSHUI_MAN)
    assert digest != KEY.hash("card_number", XIANGSHUI_MAN)
    assert XIANGSHUI_MAN not in digest
    assert len(digest) == 64


def test_encrypted_values_round_trip_and_never_show_the_clear_value():
    for value in (XIANGSHUI_MAN, PHONE, CARD, "张三"):
        token = KEY.encrypt(value)
        assert KEY.decrypt(token) == value
        assert value not in token
        assert value.encode() not in base64.b64decode(token)


def test_the_same_value_encrypts_differently_each_time():
    assert KEY.encrypt(XIANGSHUI_MAN) != KEY.encrypt(XIANGSHUI_MAN)


def test_a_value_encrypted_under_another_key_cannot_be_read():
    token = PersonalDataKey(b"b" * 32).encrypt(XIANGSHUI_MAN)
    with pytest.raises(Exception):  # noqa: B017 - the AEAD refuses; which exception is the library's
        KEY.decrypt(token)


def test_a_key_from_configuration_must_be_32_bytes():
    assert PersonalDataKey.from_base64(base64.b64encode(b"k" * 32).decode()).key == b"k" * 32
    with pytest.raises(ValueError):
        PersonalDataKey.from_base64(base64.b64encode(b"short").decode())


# --- errors never carry the clear value ------------------------------------------------------------


@pytest.mark.parametrize(
    ("validate", "raw"),
    [
        (validate_id_number, wrong_check(XIANGSHUI_MAN)),
        (validate_id_number, gb11643("32092119800230123")),
        (validate_id_number, gb11643("99092119800101123")),
        (validate_id_number, XIANGSHUI_MAN + "7"),
        (validate_phone, "1380013800099"),
        (validate_phone, "138001380"),
        (validate_card, CARD[:-1] + str((int(CARD[-1]) + 1) % 10)),
        (validate_card, "62170000100123"),
    ],
)
def test_a_refusal_never_repeats_the_value_it_refused(validate, raw):
    error = refusal(validate, raw)
    text = all_text(error)
    assert raw not in text
    assert raw[-8:] not in text
