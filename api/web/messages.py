"""Chinese messages for the problems the use cases report, shown beside the field they name.

The domain reports each problem with a stable code, a dotted field path and
an English detail; a page shows the Chinese sentence for the code (naming
the indicator in Chinese) followed by that detail, so the person reads
Chinese and support staff still see the precise check.
"""

from __future__ import annotations

from typing import Any

from api.messages import zh
from ledger.store.errors import DomainError

FIELD_LABELS = {
    "occurred_at": "灾害发生时间", "as_of": "统计截止时间", "explanation": "书面说明", "text": "灾情文字说明",
    "county": "县", "hazard": "灾种", "subtype": "亚灾种", "reason": "理由", "figures": "灾情数据",
    "phoned_at": "电话/传真报送时间", "password": "密码", "new_password": "新密码",
    "current_password": "当前密码", "amount_fen": "金额", "purpose": "用途",
}

CODE_MESSAGES = {
    "negative": "不能为负数",
    "not_a_number": "请填写数字",
    "bad_scale": "{scale_rule}",
    "too_large": "数值过大，请核实",
    "unknown_indicator": "未知的指标",
    "exceeds_parent": "不能大于上级指标",
    "exceeds": "不能大于相关的总量指标（如受灾 ≥ 成灾 ≥ 绝收，户数 ≤ 间数，实时值 ≤ 累计值）",
    "parts_do_not_add_up": "集中安置与分散安置之和应等于总数",
    "parts_exceed_total": "其中各项之和不能大于总数",
    "at_most_one": "每个乡镇只能填 0 或 1",
    "surge": "较上次报送激增，须附书面说明",
    "decrease": "较上次报送减少，须附书面说明",
    "in_future": "不能晚于当前时间",
    "out_of_range": "时间超出范围",
    "before_occurrence": "不能早于灾害发生时间",
    "older_than_reported": "统计时间早于该乡镇已报送的数据",
    "required": "必填",
    "too_long": "内容过长",
    "too_short": "太短",
    "too_weak": "过于简单",
    "wrong_password": "密码不正确",
    "unchanged": "与原值相同",
    "outside_county": "不属于该县",
    "unknown_area": "未知的区划代码",
    "not_a_township": "不是乡镇代码",
    "bad_period": "期间格式有误",
    "above_standard": "超过救助标准，须填写理由",
    "bad_amount": "金额有误",
    "bad_date": "日期有误",
    "bad_time": "时间格式有误",
    "posting_too_short": "公示期不少于规定天数",
    "posting_backdated": "公示开始早于今天超过规定天数，须在下方填写补录说明",
    "above_approved": "超过核定未发金额",
    "bad_id_number": "身份证号码有误",
    "parent_missing": "填写其中项时须同时填写其总数（上级指标）",
    "subtype_required": "县级须填写亚灾种",
    "photos_required": "已启动应急响应，核报前须附至少 3 张现场照片",
    "bad_file_type": "不支持的文件类型（照片须为 JPEG 或 PNG）",
    "unknown_attachment": "附件不存在，请重新上传",
}


def field_key(path: str) -> str:
    """The form field a problem belongs to: `figures.320921100.deaths` → `deaths`."""
    if path in ("amount_fen", "value_fen"):
        return "amount"  # forms take 元, the use cases fen
    parts = path.split(".")
    if parts[0] == "figures" and len(parts) == 3:
        return parts[2]
    if parts[0] == "figures" and len(parts) == 2:
        return "township"
    return parts[-1] if parts[0] in ("body",) else parts[0] if len(parts) == 1 else path


def chinese(code: str, detail: str, indicators: Any = None, key: str = "") -> str:
    message = CODE_MESSAGES.get(code)
    if code == "bad_scale" and indicators is not None and key in indicators.indicators:
        scale = indicators.indicators[key].scale
        message = f"须为整数（{indicators.indicators[key].unit}）" if scale == 0 else f"最多 {scale} 位小数"
    if message is None:
        message = zh(code)  # the API's Chinese for every other code
    return f"{message}（{detail}）" if detail and detail != message else message


def field_errors(exc: DomainError, indicators: Any = None) -> dict[str, str]:
    """Form field → the Chinese message(s) to show beside it."""
    out: dict[str, str] = {}
    for problem in exc.fields:
        key = field_key(problem.field)
        text = chinese(problem.code, problem.message, indicators, key)
        out[key] = f"{out[key]}；{text}" if key in out else text
    if exc.code == "explanation_required":
        out["explanation"] = "数据激增或减少，请填写书面说明后重新提交"
    return out
