"""Filing a 续报 from the 快报 spreadsheet (issue 15.8): all or nothing, bad cells named by row and column."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import Workbook

from tests.api.test_disasters_api import CHENJIAGANG, XIANGSHUI, assert_error, open_disaster, state


def sheet(rows: list[list]) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(["自然灾害损失情况统计快报表"])
    ws.append(["指标名称", "计量单位", "代码", "合计", f"响水镇（{XIANGSHUI}）", f"陈家港镇（{CHENJIAGANG}）"])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def send(client, as_role, disaster_id: str, data: bytes, role: str = "county"):
    return client.post(f"/v1/disasters/{disaster_id}/follow-ups/spreadsheet", headers=as_role(role),
                       files={"file": ("快报.xlsx", data, "application/octet-stream")},
                       data={"as_of": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
                             "explanation": "按乡镇快报表汇总"})


def test_a_filled_spreadsheet_files_one_follow_up_for_its_townships(client, as_role):
    disaster_id = open_disaster(client, as_role)["id"]
    filed = send(client, as_role, disaster_id, sheet([
        ["受灾人口", "人", "02", "", 150, 40],
        ["倒塌房屋间数", "间", "23", "", 5, None],
        ["其中倒塌住房间数", "间", "24", "", 4, None],
        [None, None, None, None, None, None],
    ]))
    assert filed.status_code == 201, filed.text
    townships = {t["code"]: t["figures"] for t in state(client, as_role, disaster_id)["townships"]}
    assert townships[XIANGSHUI]["affected_population"] == "150"
    assert townships[XIANGSHUI]["collapsed_dwelling_rooms"] == "4"
    assert townships[CHENJIAGANG] == {"affected_population": "40"}


def test_bad_cells_are_named_by_row_and_column_and_nothing_is_filed(client, as_role, runtime):
    disaster_id = open_disaster(client, as_role)["id"]
    before = runtime.position()
    unknown = send(client, as_role, disaster_id, sheet([["受灾人数", "人", "02", "", 150, 40]]))
    assert [f["field"] for f in assert_error(unknown, 422, "invalid")["fields"]] == ["row 3.A"]
    bad_value = send(client, as_role, disaster_id, sheet([["受灾人口", "人", "02", "", "一百", 40],
                                                        ["其中倒塌住房间数", "间", "24", "", None, 9]]))
    fields = {f["field"]: f["code"] for f in assert_error(bad_value, 422, "invalid")["fields"]}
    assert fields[f"row 3.E (figures.{XIANGSHUI}.affected_population)"] == "not_a_number"
    assert runtime.position() == before
    parts = send(client, as_role, disaster_id, sheet([["其中倒塌住房间数", "间", "24", "", None, 9]]))
    fields = {f["field"]: f["code"] for f in assert_error(parts, 422, "inconsistent_figures")["fields"]}
    assert fields == {f"row 3.F (figures.{CHENJIAGANG}.collapsed_dwelling_rooms)": "parent_missing"}
    assert runtime.position() == before
