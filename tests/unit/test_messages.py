"""Field messages: every validation error a request can raise reads in Chinese, then English."""

from __future__ import annotations

import typing

from pydantic_core.core_schema import ErrorType

from api.messages import PYDANTIC_ZH, bilingual


def test_every_pydantic_error_type_has_a_chinese_sentence() -> None:
    missing = [t for t in typing.get_args(ErrorType) if t not in PYDANTIC_ZH]
    assert missing == []


def test_a_field_message_is_chinese_then_english() -> None:
    assert bilingual("literal_error", "Input should be 'a' or 'b'") == "不是允许的取值 / Input should be 'a' or 'b'"
    assert bilingual("timezone_aware", "Input should have timezone info").startswith("时间须带时区")
    assert bilingual("some_new_code", "x") == "输入有误 / x"
