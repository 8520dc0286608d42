"""An area table imported while the server runs is used without a restart (SQLite and PostgreSQL), and the
roster's 村 column shows the village's name beside its code."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.files.relief import write_roster
from ledger.reference.area_files import import_areas
from ledger.reference.areas import AreaTable
from ledger.runtime import LedgerConfig, LedgerRuntime
from tests.conftest import TEST_PEPPER


def test_an_area_import_takes_effect_in_the_running_server(backend: dict[str, str], tmp_path: Path) -> None:
    runtime = LedgerRuntime(LedgerConfig(persistence=backend, token_pepper=TEST_PEPPER, data_dir=tmp_path))
    runtime.areas_refresh_seconds = 0.0  # look at every request (2 s in a server)
    try:
        from ledger.accounts.service import local_operator

        runtime.accounts.register(local_operator(), "sq-county", "province", "32")
        token, _ = runtime.accounts.issue_token(local_operator(), "sq-county")
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            before = client.get("/v1/areas/321371", headers=headers)
            assert before.status_code in (404, 422) and before.json()["error"]["code"] == "unknown_area", before.text
            sheet = tmp_path / "areas.csv"
            sheet.write_text("code,name,cityCode,provinceCode\n321371,\"宿迁经济技术开发区\",3213,32\n",
                             encoding="utf-8")
            import_areas(sheet, tmp_path, "2023")  # what `relief-ledger areas import` does, beside the server
            after = client.get("/v1/areas/321371", headers=headers)
            assert after.status_code == 200, after.text
            assert after.json()["name"] == "宿迁经济技术开发区"
    finally:
        runtime.close()


def test_the_roster_village_column_shows_the_name_beside_the_code(area_table: AreaTable) -> None:
    out = io.BytesIO()
    write_roster([{"village": "320921100001", "head_name": "张*", "household_size": 3, "people_in_need": 2,
                   "stage": "applied"}], out, areas=area_table)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "320921100001 东园居委会" in cells
