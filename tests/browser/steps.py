"""Small steps the browser tests share: sign in, fill a field, wait for text."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By

CHINA = ZoneInfo("Asia/Shanghai")


def beijing_input(hours_ago: float = 0) -> str:
    """A datetime-local value in Beijing time."""
    return (datetime.now(CHINA) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


def wait_for(condition: Any, timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except Exception:  # noqa: BLE001 — the page may be mid-load
            last = None
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def sign_in(driver: Any, web: dict[str, Any], username: str) -> None:
    driver.delete_all_cookies()
    driver.get(web["url"] + "/signin")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(web["passwords"][username])
    driver.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    wait_for(lambda: "/signin" not in driver.current_url, what=f"{username} signed in")


def fill(driver: Any, element_id: str, value: str) -> None:
    element = driver.find_element(By.ID, element_id)
    if element.get_attribute("type") in ("datetime-local", "date"):
        driver.execute_script("arguments[0].value = arguments[1]", element, value)
        return
    element.clear()
    element.send_keys(value)


def text_of(driver: Any) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def error_beside(driver: Any, field: str) -> str:
    """The message shown beside a field (its aria-describedby), checked to be linked to it."""
    element = driver.find_element(By.ID, field)
    assert element.get_attribute("aria-invalid") == "true", f"{field} is not marked invalid"
    return driver.find_element(By.ID, element.get_attribute("aria-describedby")).text
