"""Township staff in a real browser: sign in, file a 初报 (an invalid figure is refused beside its field),
see it on the board and in the statistics; an offline draft is sent once when the network returns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import shoot
from tests.browser.steps import beijing_input, error_beside, fill, sign_in, text_of, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_township_files_an_initial_report_and_an_invalid_figure_is_refused_beside_its_field(
    driver: Any, web: dict[str, Any]
) -> None:
    sign_in(driver, web, "demo-township")
    assert driver.current_url.endswith("/reports")
    shoot(driver, "township-reports")

    driver.get(web["url"] + "/reports/new?hazard=geological")
    fill(driver, "occurred_at", beijing_input(hours_ago=2))
    fill(driver, "f_affected_population", "35")
    fill(driver, "f_deaths", "-2")  # refused: a figure cannot be negative
    fill(driver, "text", "山体滑坡，冲毁农房两间。")
    driver.find_element(By.CSS_SELECTOR, "form.report button.primary").click()

    message = wait_for(lambda: error_beside(driver, "f_deaths"), what="the message beside 因灾死亡人口")
    assert "不能为负数" in message
    assert driver.find_element(By.ID, "f_affected_population").get_attribute("value") == "35"  # kept
    shoot(driver, "township-initial-refused")

    fill(driver, "f_deaths", "1")
    driver.find_element(By.CSS_SELECTOR, "form.report button.primary").click()
    wait_for(lambda: "初报已提交" in text_of(driver), what="the filed process page")
    assert "地质灾害" in text_of(driver) and "35" in text_of(driver)
    shoot(driver, "township-process")

    driver.get(web["url"] + "/reports")
    assert "地质灾害" in text_of(driver)


def _file_initial(driver: Any, web: dict[str, Any], hazard: str, affected: str) -> str:
    driver.get(web["url"] + f"/reports/new?hazard={hazard}")
    fill(driver, "occurred_at", beijing_input(hours_ago=3))
    fill(driver, "f_affected_population", affected)
    driver.find_element(By.CSS_SELECTOR, "form.report button.primary").click()
    wait_for(lambda: "初报已提交" in text_of(driver), what="the filed process page")
    return driver.current_url.split("/reports/")[1].split("?")[0]


def test_an_offline_follow_up_is_kept_as_a_draft_and_filed_once_when_the_network_returns(
    driver: Any, web: dict[str, Any]
) -> None:
    sign_in(driver, web, "demo-township")
    disaster_id = _file_initial(driver, web, "snow", "40")
    driver.get(web["url"] + f"/reports/{disaster_id}")

    driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    try:
        fill(driver, "f_affected_population", "44")
        driver.find_element(By.CSS_SELECTOR, "#file button.primary").click()
        wait_for(lambda: "已在本机保存草稿" in text_of(driver), what="the draft note")
        drafts = driver.execute_script("return JSON.parse(localStorage.getItem('relief-ledger-drafts') || '[]')")
        assert len(drafts) == 1 and drafts[0]["values"]["f_affected_population"] == "44"
        shoot(driver, "township-offline-draft")
    finally:
        driver.set_network_conditions(offline=False, latency=0, download_throughput=-1, upload_throughput=-1)

    wait_for(lambda: "草稿已发送" in text_of(driver), timeout=30, what="the draft sent when the network returned")
    # a resend of the same draft (its answer lost, say) files nothing new: the idempotency key
    driver.execute_script("localStorage.setItem('relief-ledger-drafts', JSON.stringify(arguments[0]))", drafts)
    driver.refresh()
    wait_for(lambda: driver.execute_script("return localStorage.getItem('relief-ledger-drafts')") == "[]",
             timeout=30, what="the resent draft answered")

    driver.get(web["url"] + f"/reports/{disaster_id}")
    body = text_of(driver)
    assert body.count("FollowUpReportFiled") == 1, body
    assert "44" in body


def test_a_refused_jump_asks_for_the_written_explanation_and_the_form_is_sent_again(
    driver: Any, web: dict[str, Any]
) -> None:
    sign_in(driver, web, "demo-township")
    disaster_id = _file_initial(driver, web, "low_temperature", "100")
    driver.get(web["url"] + f"/reports/{disaster_id}")

    fill(driver, "f_affected_population", "900")  # more than doubled: needs 书面说明
    driver.find_element(By.CSS_SELECTOR, "#file button.primary").click()
    message = wait_for(lambda: error_beside(driver, "explanation"), what="the explanation asked for")
    assert "书面说明" in message
    assert "激增" in error_beside(driver, "f_affected_population")
    shoot(driver, "township-jump-explanation")

    fill(driver, "explanation", "夜间寒潮加剧，新增三个村受灾，已逐户核实")
    driver.find_element(By.CSS_SELECTOR, "#file button.primary").click()
    wait_for(lambda: "续报已提交" in text_of(driver), what="the follow-up filed")
    assert "夜间寒潮加剧" in text_of(driver)


def test_a_filed_report_shows_on_the_board_in_the_review_queue_and_in_the_statistics(
    driver: Any, web: dict[str, Any]
) -> None:
    sign_in(driver, web, "demo-township")
    disaster_id = _file_initial(driver, web, "typhoon", "321")

    sign_in(driver, web, "demo-county")
    assert driver.current_url.endswith("/review")
    assert "台风灾害" in text_of(driver)
    shoot(driver, "county-review-queue")
    driver.get(web["url"] + "/reports")
    assert "台风灾害" in text_of(driver)
    shoot(driver, "county-board")
    driver.get(web["url"] + "/deadlines")
    assert "县级初报" in text_of(driver)
    shoot(driver, "county-deadlines")
    driver.get(web["url"] + "/statistics?hazard=typhoon")
    breakdown = driver.find_element(By.ID, "breakdown").text
    assert "响水镇" in breakdown and "321" in breakdown
    shoot(driver, "county-statistics")

    driver.get(web["url"] + f"/review/{disaster_id}/1")
    # The township left the 亚灾种 out; the county gives it as it accepts (the county fills it).
    Select(driver.find_element(By.ID, "a_subtype")).select_by_visible_text("其他")
    driver.find_element(By.CSS_SELECTOR, "form[action$='/accept'] button").click()
    wait_for(lambda: "已审核通过" in text_of(driver), what="the report accepted")
    response = httpx.get(web["url"] + "/statistics.xlsx?hazard=typhoon",
                         cookies={c["name"]: c["value"] for c in driver.get_cookies()})
    assert response.status_code == 200 and response.content[:2] == b"PK"
