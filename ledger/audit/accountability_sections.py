"""The sections and columns of the accountability report, and the Chinese names in it."""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNT_STATUS_NAMES = {"active": "正常", "suspended": "暂停", "revoked": "停用"}


RIGHTS_CHANGE_NAMES = {"Registered": "开户", "AccessChanged": "角色或管辖范围变更", "Suspended": "暂停",
                       "Restored": "恢复", "Revoked": "停用"}


REPORT_KIND_NAMES = {"initial": "初报", "follow_up": "续报", "final": "核报"}


STATUS_NAMES = {"late": "迟报", "missing": "未报", "on_time": "按时", "pending": "未到期"}


JUMP_KIND_NAMES = {"surge": "激增", "decrease": "减少"}


COMEBACK_NAMES = {"returned": "退回", "reversed": "冲正"}


ACCESS_NAMES = {"viewed": "查看", "exported": "导出"}


CORRECTABLE = ("disaster_date", "occurred_at", "hazard", "subtype", "text")


CORRECTABLE_NAMES = {"disaster_date": "灾害日期", "occurred_at": "发生时间", "hazard": "灾种",
                     "subtype": "亚灾种", "text": "灾情文字"}


ACTION_NAMES = {
    "Disaster.InitialReportFiled": "初报",
    "Disaster.FollowUpReportFiled": "续报",
    "Disaster.FinalReportFiled": "核报",
    "Disaster.ReportAccepted": "审核通过",
    "Disaster.ReportReturned": "驳回",
    "Disaster.Corrected": "勘误",
    "Disaster.DeclaredStable": "灾情稳定",
    "Disaster.ResponseLevelChanged": "响应级别变更",
    "Disaster.Retracted": "核销",
    "ReliefFund.Opened": "资金建账",
    "ReliefFund.Allocated": "下达资金",
    "ReliefFund.GivenBack": "资金收回",
    "ReliefFund.Debited": "资金支出",
    "ReliefFund.Credited": "资金退回入账",
    "ReliefCase.Applied": "户报",
    "ReliefCase.VillageAssessed": "村评",
    "ReliefCase.Posted": "公示",
    "ReliefCase.ObjectionRaised": "异议",
    "ReliefCase.ObjectionResolved": "异议处理",
    "ReliefCase.TownshipReviewed": "乡审",
    "ReliefCase.CountyApproved": "县定",
    "ReliefCase.Rejected": "驳回（救助）",
    "ReliefCase.Withdrawn": "撤回",
    "ReliefCase.PaymentMade": "发放",
    "ReliefCase.PaymentReturned": "退回",
    "ReliefCase.PaymentReversed": "冲正",
    "ReliefCase.GoodsIssued": "发放物资",
    "PersonalDataViewed.Viewed": "查看个人信息",
    "PersonalDataExported.Exported": "导出个人信息",
    "Account.Registered": "注册账号",
    "Account.TokenIssued": "签发令牌",
    "Account.TokenRevoked": "撤销令牌",
    "Account.Revoked": "停用账号",
    "Accident.Recorded": "事故报告", "Accident.FollowUpFiled": "事故续报", "Accident.Regraded": "事故等级变更",
    "Accident.ReportedUpward": "事故上报", "Accident.RescueConcluded": "救援结束",
    "Accident.InvestigationOpened": "事故调查启动", "Accident.InvestigationReportSubmitted": "调查报告提交",
    "Accident.ApprovalDeadlineExtended": "批复延期", "Accident.InvestigationApproved": "调查报告批复",
    "Accident.Closed": "事故结案", "Accident.FindingRecorded": "认定迟报/漏报/谎报/瞒报",
    "Accident.FindingWithdrawn": "撤销认定", "Accident.Withdrawn": "事故撤销",
    "Incident.Opened": "事件建档", "Incident.Linked": "关联灾害/事故", "Incident.ResponseStarted": "启动响应",
    "Incident.ResponseAdjusted": "调整响应", "Incident.ResponseEnded": "终止响应", "Incident.CommandTaken": "接管指挥",
    "Incident.CommandTransferred": "移交指挥", "Incident.SupportRequested": "镇呼区应（请求）",
    "Incident.SupportAnswered": "镇呼区应（响应）", "Incident.Closed": "事件结束",
    "HousingCase.Applied": "倒损住房申请", "HousingCase.Deliberated": "评议", "HousingCase.ObjectionRaised": "异议（住房）",
    "HousingCase.ObjectionResolved": "异议处理（住房）", "HousingCase.TownshipReviewed": "乡审（住房）",
    "HousingCase.CountyApproved": "县定（住房）", "HousingCase.AgreementSigned": "签订协议",
    "HousingCase.StepRecorded": "重建进度", "HousingCase.Inspected": "验收", "HousingCase.ProgressReported": "进度报告",
    "HousingCase.ClosedEarly": "提前结案", "HousingCase.TranchePaid": "拨付补助", "HousingCase.TrancheReturned": "补助退回",
    "HousingCase.OtherMoneyRecorded": "其他资金",
    "SeasonNeedsFiling.Filed": "冬春需救助情况上报", "SeasonNeedsFiling.Corrected": "冬春需救助情况更正",
    "ReferenceFigures.Loaded": "参考数据导入",
}


@dataclass(frozen=True)
class Section:
    key: str
    title: str  # Chinese title (sheet name: at most 31 characters)
    columns: tuple[tuple[str, str], ...]  # (row key, Chinese label)


_ACTOR_COLUMNS = (("actor", "操作账号"), ("actor_role", "角色"), ("actor_unit", "单位"), ("recorded_at", "记录时间"))


SECTIONS: tuple[Section, ...] = (
    Section("late_and_missing", "迟报未报", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("hazard_name", "灾种名称"), ("disaster_date", "灾害日期"), ("rule", "规则"), ("rule_name", "规则名称"),
        ("level", "层级"), ("unit", "责任单位"), ("status", "状态"), ("status_name", "状态名称"),
        ("due_at", "应报时间"), ("arrived_at", "实报时间"), ("delay_seconds", "延误秒数"),
        ("report_number", "报告序号"), ("rules_version", "规则版本"),
    )),
    Section("corrections", "勘误", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("disaster_date", "灾害日期"), ("changed", "更改项"), ("changes", "更改内容（原 → 新）"),
        ("reason", "理由"), *_ACTOR_COLUMNS,
    )),
    Section("retractions", "核销", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("disaster_date", "灾害日期"), ("reason", "理由"), *_ACTOR_COLUMNS,
    )),
    Section("returns", "驳回", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("disaster_date", "灾害日期"), ("report_number", "报告序号"), ("report_kind", "报告类型"),
        ("filed_by", "报送账号"), ("filed_unit", "报送单位"), ("reason", "驳回理由"), *_ACTOR_COLUMNS,
    )),
    Section("jumps", "激增激减", (
        ("disaster_id", "灾害过程"), ("county", "县"), ("county_name", "县名"), ("hazard", "灾种"),
        ("report_number", "报告序号"), ("report_kind", "报告类型"), ("as_of", "统计时间"),
        ("township", "乡镇"), ("township_name", "乡镇名称"), ("indicator", "指标"), ("indicator_name", "指标名称"),
        ("previous", "原值"), ("reported", "报送值"), ("kind", "类型"), ("kind_name", "类型名称"),
        ("explanation", "书面说明"), *_ACTOR_COLUMNS,
    )),
    Section("above_standard", "超标准核定", (
        ("case_id", "救助案件"), ("county", "县"), ("village", "村"), ("village_name", "村名"),
        ("programme", "救助项目"), ("programme_name", "项目名称"), ("period", "期间"),
        ("amount_fen", "核定金额（分）"), ("amount_yuan", "核定金额（元）"), ("cap_fen", "标准（分）"),
        ("cap_yuan", "标准（元）"), ("reason", "书面说明"), ("rules_version", "规则版本"), *_ACTOR_COLUMNS,
    )),
    Section("returned_or_reversed", "退回冲正", (
        ("case_id", "救助案件"), ("county", "县"), ("village", "村"), ("village_name", "村名"),
        ("programme", "救助项目"), ("period", "期间"), ("payment_id", "支付编号"), ("batch_id", "批次"),
        ("amount_fen", "金额（分）"), ("amount_yuan", "金额（元）"), ("kind", "类型"), ("kind_name", "类型名称"),
        ("reason", "理由"), *_ACTOR_COLUMNS,
    )),
    Section("access_log", "个人信息访问", (
        ("kind", "类型"), ("kind_name", "类型名称"), ("case_id", "救助案件"), ("village", "村"),
        ("village_name", "村名"), ("programme", "救助项目"), ("period", "期间"), ("area", "导出区域"),
        ("purpose", "用途"), *_ACTOR_COLUMNS,
    )),
    Section("backdated_postings", "公示补录", (
        ("case_id", "救助案件"), ("county", "县"), ("village", "村"), ("village_name", "村名"),
        ("programme", "救助项目"), ("period", "期间"), ("assessed_on", "村评日期"), ("posting_start", "公示开始"),
        ("posting_end", "公示结束"), ("recorded_at", "记录时间"), ("backdated_days", "补录天数"), ("reason", "理由"),
    )),
    Section("household_matches", "重复人员账号电话", (
        ("kind", "类型"), ("kind_name", "类型名称"), ("programme", "救助项目"), ("period", "期间"),
        ("case_a", "案件甲"), ("village_a", "村甲"), ("role_a", "身份甲"), ("case_b", "案件乙"),
        ("village_b", "村乙"), ("role_b", "身份乙"), ("applied_b", "后一户报日期"),
    )),
    Section("relief_late_steps", "审核审批超时", (
        ("kind", "类型"), ("kind_name", "类型名称"), ("case_id", "救助案件"), ("village", "村"),
        ("village_name", "村名"), ("programme", "救助项目"), ("period", "期间"), ("since", "应完成日期"),
        ("days_overdue", "超期天数"), ("rules_version", "规则版本"),
    )),
    Section("season_deadlines", "冬春时限", (
        ("rule", "规则"), ("rule_name", "规则名称"), ("level", "层级"), ("area", "区域"), ("period", "救助期间"),
        ("due_on", "应报日期"), ("arrived_at", "实报时间"), ("status", "状态"), ("status_name", "状态名称"),
        ("days_late", "延误天数"), ("rules_version", "规则版本"),
    )),
    Section("relief_timeliness", "救助时效", (
        ("disaster_id", "灾害过程"), ("occurred_at", "灾害发生时间"), ("case_id", "救助案件"), ("village", "村"),
        ("first_relief_at", "首次有效救助时间"), ("hours", "间隔小时"), ("target_hours", "目标小时"),
        ("breach", "类型"), ("breach_name", "类型名称"),
    )),
    Section("equal_amounts", "平均分配", (
        ("village", "村"), ("village_name", "村名"), ("programme", "救助项目"), ("period", "期间"),
        ("households", "户数"), ("amount_fen", "每户金额（分）"), ("amount_yuan", "每户金额（元）"),
    )),
    Section("housing_above_standard", "重建补助超标准", (
        ("case_id", "重建档案"), ("disaster_id", "灾害过程"), ("county", "县"), ("village", "村"),
        ("village_name", "村名"), ("damage", "损坏程度"), ("rooms", "间数"), ("mode", "重建方式"),
        ("subsidy_fen", "核定补助（分）"), ("subsidy_yuan", "核定补助（元）"), ("standard_fen", "标准（分）"),
        ("standard_yuan", "标准（元）"), ("reason", "书面说明"), ("standard_row", "标准条目"),
        ("table_version", "标准表版本"), ("approved_at", "批准记录时间"),
    )),
    Section("housing_reconciliation", "倒损住房核对", (
        ("disaster_id", "灾害过程"), ("disaster_date", "灾害日期"), ("township", "乡镇"), ("township_name", "乡镇名称"),
        ("damage", "损坏程度"), ("unit", "单位"), ("indicator", "指标"), ("cases", "建档数"), ("reported", "报送数"),
        ("difference", "差额"), ("status", "类型"), ("status_name", "类型名称"),
    )),
    Section("actions_per_account", "账号操作", (
        ("actor", "账号"), ("account_id", "账号 ID"), ("actor_role", "角色"), ("actor_unit", "单位"),
        ("event_type", "操作类型"), ("event_name", "操作名称"), ("count", "次数"),
    )),
    Section("account_rights", "账号权限", (
        ("username", "账号"), ("account_id", "账号 ID"), ("role", "角色"), ("scope", "管辖范围"),
        ("status", "状态"), ("status_name", "状态名称"), ("valid_from", "起始时间"), ("valid_until", "截止时间"),
        ("change", "变更"), ("change_name", "变更名称"), ("reason", "理由"), ("changed_by", "操作人"),
    )),
)


_ACCIDENT = (("accident_id", "事故"), ("county", "县"), ("county_name", "县名"), ("unit_name", "事故单位"),
             ("sector", "行业领域"))


# Accident sections: rows from the accident register (`projections.accidents.accountability`), queried by
# area and period, handed to `build_report` as a section source.
ACCIDENT_SECTIONS: tuple[Section, ...] = (
    Section("accident_clocks", "事故迟报未报", (
        *_ACCIDENT, ("grade", "等级"), ("grade_name", "等级名称"), ("occurred_date", "事故日期"), ("rule", "规则"),
        ("rule_name", "规则名称"), ("level", "层级"), ("unit", "责任单位"), ("status", "状态"),
        ("status_name", "状态名称"), ("due_at", "应报时间"), ("arrived_at", "实报时间"), ("delay_seconds", "延误秒数"),
        ("report_number", "报告序号"), ("rules_version", "规则版本"), ("rule_source", "规则来源"),
    )),
    Section("accident_regradings", "事故等级调整", (
        *_ACCIDENT, ("previous", "原等级"), ("grade", "新等级"), ("grade_name", "新等级名称"),
        ("report_number", "报告序号"), ("as_of", "统计时间"), ("basis", "依据"), ("rules_version", "规则版本"),
        *_ACTOR_COLUMNS,
    )),
    Section("accident_findings", "迟报漏报谎报瞒报认定", (
        *_ACCIDENT, ("action", "操作"), ("finding_id", "认定编号"), ("kind", "类型"), ("kind_name", "类型名称"),
        ("definition", "适用定义"), ("source", "依据"), ("against", "认定对象"), ("evidence", "证据"),
        ("text", "认定事实 / 撤销理由"), ("rules_version", "规则版本"), *_ACTOR_COLUMNS,
    )),
    Section("accident_late_supplements", "逾期补报", (
        *_ACCIDENT, ("report_number", "报告序号"), ("as_of", "伤亡变化时间"), ("window_days", "补报期限（日）"),
        ("casualties", "伤亡人数"), ("explanation", "书面说明"), *_ACTOR_COLUMNS,
    )),
)


SECTIONS = SECTIONS + ACCIDENT_SECTIONS


SECTION_KEYS = tuple(s.key for s in SECTIONS)
