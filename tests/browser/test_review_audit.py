"""Issue 12's remaining points in a real browser: the review queue accepts and 驳回 in place (the row is
swapped, the page is not reloaded; without a reason the row says so); each report's own figures in the
process's report history; the auditor's seal 'verify' with its result (a wrong published digest is caught);
the roster exported with numbers in clear only after a stated purpose, and that export listed in the
accountability report."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import shoot
from tests.browser.steps import beijing_input, fill, sign_in, text_of, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _file_initial(driver: Any, web: dict[str, Any], hazard: str, affected: str) -> str:
    driver.get(web["url"] + f"/reports/new?hazard={hazard}")
    fill(driver, "occurred_at", beijing_input(hours_ago=3))
    fill(driver, "f_affected_population", affected)
    driver.find_element(By.CSS_SELECTOR, "form.report button.primary").click()
    wait_for(lambda: "初报已提交" in text_of(driver), what="the filed process page")
    return driver.current_url.split("/reports/")[1].split("?")[0]


def _cookies(driver: Any) -> dict[str, str]:
    return {c["name"]: c["value"] for c in driver.get_cookies()}


def test_the_queue_accepts_and_returns_in_place_and_the_history_shows_each_reports_figures(
    driver: Any, web: dict[str, Any]
) -> None:
    sign_in(driver, web, "demo-township")
    accepted = _file_initial(driver, web, "earthquake", "512")
    returned = _file_initial(driver, web, "geological", "77")

    sign_in(driver, web, "demo-county")
    driver.get(web["url"] + "/review")
    driver.execute_script("window.__samePage = true")  # lost on a full reload
    row = f"queue-{accepted}-1"
    driver.find_element(By.CSS_SELECTOR, f"#{row} form[action$='/accept'] button").click()
    wait_for(lambda: "已审核通过" in driver.find_element(By.ID, row).text, what="the row swapped for its outcome")

    row = f"queue-{returned}-1"
    driver.find_element(By.CSS_SELECTOR, f"#{row} form[action$='/return'] button").click()  # no reason yet
    wait_for(lambda: "理由" in driver.find_element(By.CSS_SELECTOR, f"#{row} .alert").text, what="the reason asked")
    fill(driver, f"reason-{row}", "受灾人口与村上报不一致，请核实")
    driver.find_element(By.CSS_SELECTOR, f"#{row} form[action$='/return'] button").click()
    wait_for(lambda: "已驳回：受灾人口与村上报不一致" in driver.find_element(By.ID, row).text, what="returned")
    assert driver.execute_script("return window.__samePage === true")  # never reloaded
    assert "/review" == driver.current_url.split(web["url"])[1].split("?")[0]
    shoot(driver, "review-queue-inline")

    driver.get(web["url"] + f"/reports/{accepted}")
    figures = driver.find_element(By.ID, "report-1-figures")
    figures.find_element(By.TAG_NAME, "summary").click()
    assert "512" in figures.text and "受灾人口" in figures.text
    shoot(driver, "process-report-figures")


def test_an_auditor_verifies_the_seal_and_a_wrong_digest_is_caught(driver: Any, web: dict[str, Any]) -> None:
    sign_in(driver, web, "demo-auditor")
    driver.get(web["url"] + "/audit/seal")
    driver.find_element(By.CSS_SELECTOR, "#verify button").click()
    result = wait_for(lambda: driver.find_element(By.ID, "verify-result").text, timeout=60, what="the check")
    assert "完整" in result, result
    assert driver.find_elements(By.CSS_SELECTOR, "main form[method=post]") == []  # still no write control
    shoot(driver, "audit-seal-verified")

    digests = driver.find_elements(By.ID, "digest")
    if digests:  # a published digest line whose hash was changed: the check names it
        line = digests[0].text.strip()
        digest = re.search(r"digest=([0-9a-f]{64})", line).group(1)
        forged = line.replace(digest, digest[:-1] + ("0" if digest[-1] != "0" else "1"))
        fill(driver, "verify-digest", forged)
        driver.find_element(By.CSS_SELECTOR, "#verify button").click()
        result = wait_for(lambda: "被篡改" in driver.find_element(By.ID, "verify-result").text and
                          driver.find_element(By.ID, "verify-result").text, timeout=60, what="the forged digest")
        assert "摘要" in result
    fill(driver, "verify-digest", "not a digest line")
    driver.find_element(By.CSS_SELECTOR, "#verify button").click()
    wait_for(lambda: "格式有误" in text_of(driver), what="the bad line refused")


def test_the_roster_is_revealed_only_with_a_purpose_and_the_export_is_reported(
    driver: Any, web: dict[str, Any]
) -> None:
    from openpyxl import load_workbook

    from ledger.personal.identifiers import id_check_digit
    from tests.browser.test_roles import _card

    first17 = "32092119850707" + "552"
    sign_in(driver, web, "demo-township")
    driver.get(web["url"] + "/relief/cases/new")
    for field, value in {"head_name": "赵六", "id_number": first17 + id_check_digit(first17), "phone": "13800138011",
                         "card_number": _card(), "household_type": "一般户", "household_size": "2",
                         "people_in_need": "2", "address": "响水镇东园居委会 8 号", "causes": "洪涝",
                         "needs": "口粮"}.items():
        fill(driver, field, value)
    driver.find_element(By.CSS_SELECTOR, "form[action='/relief/cases/new'] button").click()
    wait_for(lambda: "赵六" in driver.find_element(By.TAG_NAME, "h1").text, what="the case page")

    sign_in(driver, web, "demo-relief")
    driver.get(web["url"] + "/relief/cases")
    driver.find_element(By.CSS_SELECTOR, "#roster-reveal summary").click()
    driver.find_element(By.CSS_SELECTOR, "#roster-reveal button").click()  # no purpose: refused, nothing sent
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#roster-reveal .alert"), what="the refusal")
    assert "理由" in driver.find_element(By.CSS_SELECTOR, "#roster-reveal .alert").text
    shoot(driver, "relief-roster-reveal-refused")

    csrf = driver.find_element(By.CSS_SELECTOR, "meta[name=csrf-token]").get_attribute("content")
    period = driver.find_element(By.ID, "period").get_attribute("value")
    masked = httpx.get(web["url"] + f"/relief/roster.xlsx?period={period}", cookies=_cookies(driver))
    revealed = httpx.post(web["url"] + "/relief/roster.xlsx", cookies=_cookies(driver),
                          data={"csrf_token": csrf, "programme": "winter_spring", "period": period,
                                "purpose": "与银行核对一卡通账号"})
    assert masked.status_code == 200 and revealed.status_code == 200

    def cells(content: bytes) -> list[str]:
        book = load_workbook(io.BytesIO(content), read_only=True)
        return [str(c) for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r if c]

    clear_id = first17 + id_check_digit(first17)
    assert clear_id not in cells(masked.content) and clear_id in cells(revealed.content)

    sign_in(driver, web, "demo-auditor")
    today = date.today().isoformat()
    report = httpx.get(web["url"] + f"/audit/report.xlsx?area=320921&date_from={today[:8]}01&date_to={today}",
                       cookies=_cookies(driver), timeout=60)
    assert report.status_code == 200
    text = " ".join(cells(report.content))
    assert "导出个人信息" in text and "与银行核对一卡通账号" in text
