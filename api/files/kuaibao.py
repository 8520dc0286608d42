"""The 快报 table (自然灾害损失情况统计快报表) of an area and period as .xlsx.

Layout: indicators as rows (指标名称, 计量单位, 代码, then the area's total and
one column per child area — 分市 / 分县 / 分乡镇), as the 制度's tables list
indicators with their units. The table number (应急统表1) and the row codes
are **not confirmed** against the official 2020 text (reporting-rules.md
§1.5: the numbering is inferred); the file says so in its header. The row
code here is the indicator's line number in the ledger's indicator set.
"""

from __future__ import annotations

import io
from typing import Any

UNCONFIRMED = ("表式说明：表号“应急统表1”与行代码为推定，未经《自然灾害情况统计调查制度》正式文本核实；"
               "数值为所选期间内各灾害过程的合计（人次）。 / Table number and row codes are inferred, "
               "not confirmed against the official layout; values are sums over processes.")


def kuaibao_workbook(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "快报表"
    indicators = data["indicators"]
    result = data["result"]
    children = list(result.breakdown)
    sheet.append(["自然灾害损失情况统计快报表"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["表号：应急统表1（推定）", "", "", "制定机关：应急管理部", "", "批准机关：国家统计局"])
    sheet.append([f"填报单位：{data['area_name']}（{data['prefix']}）", "", "",
                  f"统计期：{data['start']} 至 {data['end']}", "", f"灾害过程数：{result.processes}"])
    sheet.append([UNCONFIRMED])
    sheet.append(["指标名称", "计量单位", "代码", "合计", *[f"{data['names'][c]}（{c}）" for c in children]])
    for line, (key, indicator) in enumerate(indicators.items(), start=1):
        sheet.append([indicator.name_zh, indicator.unit, f"{line:02d}", _value(result.totals.get(key)),
                      *[_value(result.breakdown[c].get(key)) for c in children]])
    sheet.column_dimensions["A"].width = 34
    for row in sheet.iter_rows(min_row=6, min_col=4):
        for cell in row:
            cell.alignment = Alignment(horizontal="right")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _value(amount: Any) -> str:
    return "" if amount is None else str(amount)
