"""Field messages in Chinese and English: `中文 / English`, like every error's top-level message.

The domain and the request validation report each problem with a stable code
and an English detail. Here the code gets its Chinese sentence — from the
table, from the code's shape (`bad_…`, `unknown_…`, `before_…`), or a
general one — and the English detail follows it, so a person reads Chinese
and support staff still see the precise check.
"""

from __future__ import annotations

#: Chinese for the codes the domain and the pages use.
CODE_ZH: dict[str, str] = {
    "required": "必填", "missing": "缺少必填项", "negative": "不能为负数", "not_a_number": "请填写数字",
    "not_a_whole_number": "请填写整数", "not_positive": "须为正整数", "too_large": "数值过大，请核实",
    "too_long": "内容过长", "too_short": "内容过短", "too_wide": "范围过大", "too_weak": "过于简单",
    "bad_scale": "小数位数超出该指标的要求", "unknown_indicator": "未知的指标", "exceeds_parent": "不能大于上级指标",
    "exceeds": "不能大于相关的总量指标（受灾 ≥ 成灾 ≥ 绝收，户数 ≤ 间数，实时值 ≤ 累计值）",
    "parts_do_not_add_up": "集中安置与分散安置之和应等于总数", "parts_exceed_total": "其中各项之和不能大于总数",
    "at_most_one": "每个乡镇只能填 0 或 1", "surge": "较上次报送激增，须附书面说明",
    "decrease": "较上次报送减少，须附书面说明", "in_future": "不能晚于当前时间", "out_of_range": "超出允许范围",
    "before_occurrence": "不能早于灾害发生时间", "older_than_reported": "统计时间早于该乡镇已报送的数据",
    "outside_county": "不属于该县", "unknown_area": "未知的区划代码", "bad_area_code": "区划代码格式有误",
    "not_a_township": "不是乡镇代码", "not_a_county": "不是县级代码", "not_a_village": "不是村级代码",
    "duplicate_township": "同一乡镇填写了两次", "bad_period": "期间格式有误", "above_standard": "超过救助标准，须填写理由",
    "above_approved": "超过核定未发金额", "bad_amount": "金额有误", "bad_date": "日期有误", "bad_time": "时间格式有误",
    "date_mismatch": "日期与时间不符", "posting_too_short": "公示期不少于规定天数", "bad_id_number": "身份证号码有误",
    "bad_phone": "电话号码有误", "bad_card_number": "一卡通账号有误", "bad_text": "含有无法保存的字符或过长",
    "unknown_hazard": "未知的灾种", "unknown_subtype": "未知的亚灾种", "unknown_report": "没有该报告",
    "bad_if_match": "If-Match 格式有误", "bad_key": "Idempotency-Key 格式有误",
    "key_reused": "该 Idempotency-Key 已用于不同的请求", "bad_encoding": "不是有效的 UTF-8 文本",
    "wrong_password": "密码不正确", "unchanged": "与原值相同", "bad_username": "用户名格式有误", "bad_role": "角色有误",
    "bad_scope": "管辖范围有误", "scope_level": "管辖范围与角色的层级不符", "bad_level": "层级有误",
    "explanation_required": "须附书面说明", "duplicate_in_file": "文件中重复", "bad_credit_code": "统一社会信用代码有误",
    "empty_file": "文件没有数据行", "unreadable_file": "无法读取该文件", "missing_column": "缺少必需的列",
    "reason_required": "须填写理由", "after_to_version": "起始版本不能晚于截止版本",
    "households_over_people": "户数不能大于人数", "over_total": "其中项不能大于总数",
    "parent_missing": "填写其中项时须同时填写其总数（上级指标）", "subtype_required": "县级须填写亚灾种",
    "subtype_differs": "与已填写的亚灾种不同，修改须勘误",
    "photos_required": "已启动应急响应，核报前须附足够的现场照片", "unknown_attachment": "附件不存在，请先上传",
    "bad_file_type": "不支持的文件类型", "already_listed": "已在台账中", "county_final_missing": "县级尚未核报",
}

#: Chinese for pydantic's validation error types (request bodies, query and path parameters).
PYDANTIC_ZH: dict[str, str] = {
    "missing": "缺少必填项", "extra_forbidden": "不允许的字段", "int_parsing": "应为整数", "int_type": "应为整数",
    "int_from_float": "应为整数（不能有小数部分）", "float_parsing": "应为数字", "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false", "bool_type": "应为 true 或 false", "string_type": "应为文本",
    "string_too_short": "内容过短", "string_too_long": "内容过长", "string_pattern_mismatch": "格式不符合要求",
    "string_unicode": "含有无效的字符", "literal_error": "不是允许的取值", "enum": "不是允许的取值",
    "greater_than": "数值过小", "greater_than_equal": "数值过小", "less_than": "数值过大", "less_than_equal": "数值过大",
    "date_parsing": "日期格式有误（如 2026-07-08）", "date_from_datetime_parsing": "日期格式有误（如 2026-07-08）",
    "date_type": "日期格式有误", "datetime_parsing": "时间格式有误（如 2026-07-08T14:00:00+08:00）",
    "datetime_from_date_parsing": "时间格式有误（如 2026-07-08T14:00:00+08:00）", "datetime_type": "时间格式有误",
    "uuid_parsing": "编号格式有误", "uuid_type": "编号格式有误", "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON", "dict_type": "应为对象", "list_type": "应为列表", "too_short": "项数过少",
    "too_long": "项数过多", "model_attributes_type": "应为对象", "model_type": "应为对象", "value_error": "取值有误",
    "decimal_parsing": "应为数字", "decimal_type": "应为数字", "url_parsing": "网址格式有误",
    "date_future": "日期应晚于今天", "date_past": "日期应早于今天",
    "no_such_attribute": "没有该属性", "needs_python_object": "取值类型有误", "recursion_loop": "数据有循环引用",
    "recursion_depth_exceeded": "嵌套层级过深", "frozen_field": "该字段不能修改", "frozen_instance": "该对象不能修改",
    "invalid_key": "键名有误", "get_attribute_error": "无法读取该属性", "dataclass_type": "应为对象",
    "dataclass_exact_type": "应为对象", "named_tuple_type": "应为列表", "default_factory_not_called": "取值有误",
    "none_required": "应为空值", "multiple_of": "应为规定数值的整数倍", "finite_number": "应为有限的数字",
    "iterable_type": "应为列表", "iteration_error": "列表内容有误", "string_not_ascii": "只能包含 ASCII 字符",
    "frozen_dict_type": "应为对象", "ordered_dict_type": "应为对象", "counter_type": "应为对象",
    "mapping_type": "应为对象", "deque_type": "应为列表", "tuple_type": "应为列表", "set_type": "应为列表",
    "set_item_not_hashable": "列表中的项有误", "int_parsing_size": "整数位数过多", "bytes_type": "应为文本",
    "bytes_too_short": "内容过短", "bytes_too_long": "内容过长", "bytes_invalid_encoding": "编码有误",
    "assertion_error": "取值有误", "missing_sentinel_error": "取值有误", "ellipsis_error": "取值有误",
    "date_from_datetime_inexact": "应为日期（不带时刻，如 2026-07-08）", "time_type": "时刻格式有误",
    "time_parsing": "时刻格式有误（如 14:00:00）", "datetime_object_invalid": "时间无效",
    "datetime_past": "时间应早于现在", "datetime_future": "时间应晚于现在",
    "timezone_naive": "时间不能带时区", "timezone_aware": "时间须带时区（如 +08:00）", "timezone_offset": "时区有误",
    "time_delta_type": "时长格式有误", "time_delta_parsing": "时长格式有误", "frozen_set_type": "应为列表",
    "is_instance_of": "取值类型有误", "is_subclass_of": "取值类型有误", "callable_type": "取值类型有误",
    "union_tag_invalid": "类型标记不是允许的取值", "union_tag_not_found": "缺少类型标记",
    "arguments_type": "参数有误", "missing_argument": "缺少参数", "unexpected_keyword_argument": "不允许的参数",
    "missing_keyword_only_argument": "缺少参数", "unexpected_positional_argument": "不允许的参数",
    "missing_positional_only_argument": "缺少参数", "multiple_argument_values": "参数重复", "url_type": "网址格式有误",
    "url_syntax_violation": "网址格式有误", "url_too_long": "网址过长", "url_scheme": "网址协议不被允许",
    "uuid_version": "编号版本有误", "decimal_max_digits": "数字位数过多", "decimal_max_places": "小数位数过多",
    "decimal_whole_digits": "整数位数过多", "fraction_type": "应为分数", "fraction_parsing": "分数格式有误",
    "complex_type": "应为数字", "complex_str_parsing": "数字格式有误",
}

#: How a code's shape reads when it has no sentence of its own.
PREFIXES = (("bad_", "格式或取值有误"), ("unknown_", "未知的取值"), ("before_", "时间早于允许的时刻"),
            ("not_", "不符合要求"), ("duplicate", "重复"), ("above_", "超过允许的数额"), ("below_", "低于要求"))


def zh(code: str) -> str:
    """The Chinese sentence for a field problem's code."""
    if code in CODE_ZH:
        return CODE_ZH[code]
    if code in PYDANTIC_ZH:
        return PYDANTIC_ZH[code]
    for prefix, sentence in PREFIXES:
        if code.startswith(prefix):
            return sentence
    return "输入有误"


def bilingual(code: str, english: str) -> str:
    """`中文 / English` for one field problem (an English text that already has Chinese is kept as it is)."""
    if " / " in english and any("\u4e00" <= c <= "\u9fff" for c in english.split(" / ", 1)[0]):
        return english
    return f"{zh(code)} / {english}"
