"""Housing reconstruction in a real browser: the files of the county by step with the progress figures; a
new file (evidence photo hashed in the page) goes through 村评议, 公示, 乡审, 县批, 协议 and 开工 to its
first tranche; a skipped or ill-dated step is refused on the page; its history lists every step with who
and when; the ID number is shown only after a stated purpose."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from ledger.personal.identifiers import id_check_digit
from tests.browser.conftest import shoot
from tests.browser.steps import error_beside, fill, sign_in, text_of, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _id_number() -> str:
    first17 = "32092119750305" + "417"
    return first17 + id_check_digit(first17)


def _submit(driver: Any, section: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{section} button[type=submit]").click()
    wait_for(lambda: f"done={section}" in driver.current_url or driver.find_elements(By.CSS_SELECTOR, ".alert"),
             what=f"{section} answered")
    assert "已保存" in text_of(driver), text_of(driver)


def _history(driver: Any) -> str:
    return driver.find_element(By.ID, "history").text


def test_the_county_sees_its_files_by_step_and_the_progress_figures(driver: Any, web: dict[str, Any]) -> None:
    sign_in(driver, web, "demo-county")
    driver.find_element(By.LINK_TEXT, "住房重建").click()
    wait_for(lambda: driver.find_elements(By.ID, "files"), what="the housing list")
    files = driver.find_element(By.ID, "files").text
    assert all(name in files for name in ("陈大", "刘二", "周三")), files  # names in clear within scope
    assert "公示中" in files and "村评议" in files
    progress = driver.find_element(By.ID, "progress").text
    assert "重建" in progress and "维修加固" in progress
    assert driver.find_element(By.ID, "reconciliation").text  # files against the reported 住房 figures
    shoot(driver, "housing-list-county")
    driver.find_element(By.PARTIAL_LINK_TEXT, "公示中 1").click()
    wait_for(lambda: "step=posted" in driver.current_url, what="the filtered list")
    rows = driver.find_elements(By.CSS_SELECTOR, "#files tbody tr")
    assert len(rows) == 1 and "周三" in rows[0].text

    # the list as .xlsx: masked by default; in clear only after a stated purpose (the form posts it)
    session = {"rl_session": driver.get_cookie("rl_session")["value"]}
    csrf = driver.find_element(By.CSS_SELECTOR, "meta[name=csrf-token]").get_attribute("content")
    first17 = "32092119600101201"
    clear_id = first17 + id_check_digit(first17)
    masked = httpx.get(web["url"] + "/housing/list.xlsx?area=320921", cookies=session)
    assert masked.status_code == 200 and masked.content[:2] == b"PK"
    assert clear_id not in _cells(masked.content)
    refused = httpx.post(web["url"] + "/housing/list.xlsx", cookies=session,
                         data={"csrf_token": csrf, "area": "320921", "purpose": ""})
    assert refused.status_code == 303 and "export_error" in refused.headers["location"]
    revealed = httpx.post(web["url"] + "/housing/list.xlsx", cookies=session,
                          data={"csrf_token": csrf, "area": "320921", "purpose": "核对重建补助对象"})
    assert revealed.status_code == 200 and clear_id in _cells(revealed.content)


def _cells(content: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row)


def test_a_file_goes_from_application_to_its_first_tranche(driver: Any, web: dict[str, Any],
                                                          tmp_path: Path) -> None:
    sign_in(driver, web, "demo-township")
    driver.get(web["url"] + "/housing/new")
    for field, value in {"head_name": "吴四海", "id_number": _id_number(), "phone": "13912340099",
                         "address": "响水镇东园居委会 31 号", "rooms": "3"}.items():
        fill(driver, field, value)
    photo = tmp_path / "倒房照片.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a photo of the collapsed house")
    driver.find_element(By.ID, "evidence_files").send_keys(str(photo))
    driver.find_element(By.CSS_SELECTOR, "form[action='/housing/new'] button").click()
    wait_for(lambda: "吴四海" in driver.find_element(By.TAG_NAME, "h1").text, what="the file page")
    case_url = driver.current_url.split("?")[0]
    assert _id_number() not in text_of(driver)  # masked

    fill(driver, "minutes_ref", "东园居委会四议两公开〔2026〕5号")
    _submit(driver, "deliberation")
    fill(driver, "place", "东园居委会村务公开栏")
    _submit(driver, "posting")
    driver.find_element(By.CSS_SELECTOR, "#township-review button").click()  # before the posting ran its course
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#township-review .alert"), what="the refusal")
    assert "公示" in driver.find_element(By.CSS_SELECTOR, "#township-review .alert").text
    shoot(driver, "housing-review-refused")

    # the posting runs its course: the server's rules clock ten days on
    web["restart"](RELIEF_CLOCK_OFFSET_SECONDS=str(10 * 86400))
    try:
        sign_in(driver, web, "demo-township")
        driver.get(case_url)
        _submit(driver, "township-review")

        sign_in(driver, web, "demo-relief")
        driver.get(case_url)
        _submit(driver, "approval")  # the standard from the table
        assert driver.find_element(By.ID, "subsidy").text not in ("—", "0.00")
        today = driver.find_element(By.ID, "signed_on").get_attribute("value")
        fill(driver, "planned_start", "2020-01-01")  # before the agreement: refused beside the field
        fill(driver, "planned_completion", today)
        driver.find_element(By.CSS_SELECTOR, "#agreement button").click()
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#agreement .alert"), what="the refusal")
        assert error_beside(driver, "planned_completion")
        fill(driver, "planned_start", today)
        fill(driver, "planned_completion", today)
        _submit(driver, "agreement")

        sign_in(driver, web, "demo-township")
        driver.get(case_url)
        _submit(driver, "step")  # 开工
        assert driver.find_element(By.ID, "case-step").text == "已开工"

        sign_in(driver, web, "demo-relief")
        driver.get(case_url)
        fill(driver, "bank_ref-1", "HOUSING-0001")
        _submit(driver, "tranche")
        assert "HOUSING-0001" in driver.find_element(By.ID, "tranches").text
        history = _history(driver)
        for step in ("申请", "村评议", "公示", "乡审", "县批", "签订协议", "已开工", "拨付补助"):
            assert step in history, (step, history)
        assert "demo-township" in history and "demo-relief" in history
        fill(driver, "purpose", "核对拨付对象身份")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/reveal'] button").click()
        wait_for(lambda: "本次查看已记录" in text_of(driver), what="the recorded reveal")
        assert driver.find_element(By.ID, "id_number_shown").text == _id_number()
        shoot(driver, "housing-file-paid")

        sign_in(driver, web, "demo-auditor")
        driver.get(case_url)
        assert driver.find_elements(By.CSS_SELECTOR, "main form[method=post]") == []  # read only
        assert "拨付补助" in _history(driver)
        shoot(driver, "housing-file-auditor")
    finally:
        web["restart"]()
