"""Township staff in a real browser: sign in, file a 初报 (an invalid figure is refused beside its field),
see it on the board and in the statistics; an offline draft is sent once when the network returns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

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
