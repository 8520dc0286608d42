"""统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters, checked by its check character.

Layout: 登记管理部门码 (1) + 机构类别码 (1) + 登记管理机关行政区划码 (6 digits) + 主体标识码 (9) +
校验码 (1), over the 31 characters 0-9 A-H J-N P-R T U W X Y (no I O S V Z). The check character is
computed by `python-stdnum` (`stdnum.cn.uscc.calc_check_digit`: weights 3^i mod 31, check =
31 − Σ mod 31); the format check is ours, because the first character may be a letter
(Y = 其他登记管理部门), which the library's own `validate` refuses.
"""

from __future__ import annotations

from stdnum.cn import uscc

from ledger.store.errors import FieldProblem, InvalidInput

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code_problem(raw: str) -> str | None:
    """Why `raw` is not a well-formed code with a correct check character (None if it is)."""
    code = raw.strip().upper()
    if len(code) != 18:
        return f"has {len(code)} characters; a unified social credit code has 18"
    wrong = sorted({c for c in code if c not in ALPHABET})
    if wrong:
        return f"contains {''.join(wrong)!r}; only 0-9 and A-H J-N P-R T U W X Y are used"
    if not code[2:8].isdigit():
        return "characters 3-8 (the registering authority's area code) must be digits"
    expected = uscc.calc_check_digit(code[:17])
    if code[17] != expected:
        return f"the check character is {code[17]!r}, but the first 17 characters give {expected!r}"
    return None


def parse_credit_code(raw: str, field_name: str = "unit.credit_code") -> str:
    """The code in upper case, or 422 naming the field and why."""
    problem = credit_code_problem(raw)
    if problem is not None:
        raise InvalidInput(
            "统一社会信用代码有误", f"invalid unified social credit code: {problem}",
            fields=[FieldProblem(field_name, "bad_credit_code", problem)],
        )
    return raw.strip().upper()
