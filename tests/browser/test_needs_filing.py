"""冬春 需救助 上报 in a real browser: the county's officer sees the season's clocks and the roster's figures,
files the county's figures once, and the page shows the filing in place of the form."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import shoot
from tests.browser.steps import error_beside, fill, sign_in, text_of, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_county_files_its_winter_spring_needs_upward(driver: Any, web: dict[str, Any]) -> None:
    sign_in(driver, web, "demo-county")
    driver.find_element(By.LINK_TEXT, "冬春").click()  # the season's page, and from it the filing
    wait_for(lambda: driver.find_elements(By.LINK_TEXT, "冬春上报"), what="the season page")
    driver.find_element(By.LINK_TEXT, "冬春上报").click()
    wait_for(lambda: "冬春需救助情况" in text_of(driver), what="the 冬春 page")
    assert "县级上报地市（冬春需救助）" in text_of(driver)
    fill(driver, "households", "40")
    fill(driver, "people", "12")
    driver.find_element(By.CSS_SELECTOR, "#filing button[type=submit]").click()
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".alert"), what="the refusal")
    assert "户数不能大于人数" in error_beside(driver, "households")
    fill(driver, "people", "96")
    fill(driver, "need_口粮", "60")
    driver.find_element(By.CSS_SELECTOR, "#filing button[type=submit]").click()
    wait_for(lambda: "需救助情况已上报" in text_of(driver), what="the filing")
    assert "需救助 40 户，96 人；其中口粮 60 人" in driver.find_element(By.ID, "filed-figures").text
    assert "更正理由" in text_of(driver)  # a second filing is a correction with a reason
    row = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#season-clocks tbody tr")
           if "县级上报地市" in r.text]
    assert row and ("迟报" in row[0] or "按时" in row[0]), row
    shoot(driver, "relief-winter-spring-filed")
