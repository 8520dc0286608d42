"""Every role in a real browser: sign in and out; a relief case from 户报 to payment; an auditor sees an
earlier version and has no write control."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By

from ledger.personal.identifiers import id_check_digit
from tests.browser.conftest import shoot
from tests.browser.steps import fill, sign_in, text_of, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LANDING = {
    "demo-township": ("/reports", "灾情报送"), "demo-county": ("/review", "待审核报告"),
    "demo-city": ("/review", "待审核报告"), "demo-province": ("/statistics", "灾情统计"),
    "demo-relief": ("/relief/cases", "救助对象"), "demo-auditor": ("/audit", "追溯"),
    "demo-admin": ("/admin/accounts", "账号管理"),
}


def _id_number() -> str:
    first17 = "32092119800101" + "123"
    return first17 + id_check_digit(first17)


def _card() -> str:
    digits = "622848001234567"
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return digits + str((10 - total % 10) % 10)


def test_each_role_signs_in_to_its_own_pages_and_signs_out(driver: Any, web: dict[str, Any]) -> None:
    for username, (path, heading) in LANDING.items():
        sign_in(driver, web, username)
        if username == "demo-admin":
            driver.get(web["url"] + path)
        assert driver.current_url.split("?")[0].endswith(path), (username, driver.current_url)
        assert heading in text_of(driver) and username in text_of(driver)
        shoot(driver, f"landing-{username.removeprefix('demo-')}")
        driver.find_element(By.CSS_SELECTOR, "form[action='/signout'] button").click()
        wait_for(lambda: "/signin" in driver.current_url, what="signed out")
        driver.get(web["url"] + path)
        assert "/signin" in driver.current_url  # the session ended on the server
    shoot(driver, "signin")


def test_a_wrong_password_is_refused_on_the_page(driver: Any, web: dict[str, Any]) -> None:
    driver.delete_all_cookies()
    driver.get(web["url"] + "/signin")
    fill(driver, "username", "demo-county")
    fill(driver, "password", "not-the-password")
    driver.find_element(By.CSS_SELECTOR, "form[action='/signin'] button").click()
    wait_for(lambda: "用户名或密码错误" in text_of(driver), what="the refusal")
    shoot(driver, "signin-refused")


def _submit(driver: Any, section: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{section} button[type=submit]").click()
    wait_for(lambda: f"done={section}" in driver.current_url or driver.find_elements(By.CSS_SELECTOR, ".alert"),
             what=f"{section} answered")
    assert "已保存" in text_of(driver), text_of(driver)


def test_a_relief_case_goes_from_household_application_to_payment(driver: Any, web: dict[str, Any]) -> None:
    sign_in(driver, web, "demo-relief")
    driver.get(web["url"] + "/relief/funds")
    period = driver.find_element(By.ID, "period").get_attribute("value")
    fill(driver, "amount", "50000.00")
    fill(driver, "document", "响财社〔2025〕18号")
    driver.find_element(By.CSS_SELECTOR, "form[action='/relief/funds'] button").click()
    wait_for(lambda: "资金已下达" in text_of(driver), what="the fund allocated")
    shoot(driver, "relief-funds")

    sign_in(driver, web, "demo-township")
    driver.get(web["url"] + "/relief/cases/new")
    for field, value in {"head_name": "王建国", "id_number": _id_number(), "phone": "13800138000",
                         "card_number": _card(), "household_type": "一般户", "household_size": "3",
                         "people_in_need": "3", "address": "响水镇新港村3组", "causes": "洪涝",
                         "needs": "口粮、衣被"}.items():
        fill(driver, field, value)
    fill(driver, "period", period)
    driver.find_element(By.CSS_SELECTOR, "form[action='/relief/cases/new'] button").click()
    wait_for(lambda: "王建国" in driver.find_element(By.TAG_NAME, "h1").text, what="the case page")
    case_url = driver.current_url.split("?")[0]
    assert "320921" in text_of(driver) and _id_number() not in text_of(driver)  # masked
    fill(driver, "minutes_ref", "新港村评议〔2025〕3号")
    _submit(driver, "assessment")
    fill(driver, "place", "新港村村务公开栏")
    _submit(driver, "posting")  # from today, for the 7 days the rules ask
    assert "公示" in text_of(driver)

    # the posting runs its course: the server's rules clock ten days on (recorded times stay real)
    web["restart"](RELIEF_CLOCK_OFFSET_SECONDS=str(10 * 86400))
    sign_in(driver, web, "demo-township")
    driver.get(case_url)
    _submit(driver, "township-review")
    shoot(driver, "relief-case-township")

    sign_in(driver, web, "demo-relief")
    driver.get(case_url)
    fill(driver, "amount", "900.00")
    _submit(driver, "approval")
    fill(driver, "batch_id", "2025-冬春-01")
    fill(driver, "bank_ref", "BANK-0001")
    _submit(driver, "payment")
    assert "已发放" in text_of(driver) and "900.00" in text_of(driver)

    fill(driver, "purpose", "核对一卡通账号")
    driver.find_element(By.CSS_SELECTOR, "form[action$='/reveal'] button").click()
    wait_for(lambda: "本次查看已记录" in text_of(driver), what="the recorded reveal")
    assert driver.find_element(By.ID, "id_number_shown").text == _id_number()
    shoot(driver, "relief-case-paid")

    driver.get(web["url"] + f"/relief/cases?period={period}")
    assert "王建国" in text_of(driver) and "已发放" in text_of(driver)
    shoot(driver, "relief-cases")
    driver.get(web["url"] + "/relief/import")
    shoot(driver, "relief-import")
    web["restart"]()  # back on the real clock for the other tests of the module


def test_an_auditor_sees_an_earlier_version_and_no_write_control(driver: Any, web: dict[str, Any]) -> None:
    sign_in(driver, web, "demo-auditor")
    shoot(driver, "auditor-home")
    driver.find_element(By.LINK_TEXT, "当时记录").click()
    wait_for(lambda: driver.find_elements(By.ID, "known-version"), what="the as-known-at page")
    current = int(driver.find_element(By.ID, "known-version").text)
    assert current > 1
    driver.find_element(By.PARTIAL_LINK_TEXT, "看这一版").click()  # the first version
    wait_for(lambda: driver.find_element(By.ID, "known-version").text == "1", what="version 1 as known then")
    assert "InitialReportFiled" in text_of(driver)
    shoot(driver, "auditor-known-at")
    driver.get(driver.current_url.split("?")[0] + f"/diff?from_version=1&to_version={current}")
    assert driver.find_elements(By.CSS_SELECTOR, "#changes tbody tr")
    shoot(driver, "auditor-diff")
    for page in ("/audit/seal", "/audit/report", "/audit", "/deadlines", "/housing", "/accidents", "/incidents"):
        driver.get(web["url"] + page)
        forms = driver.find_elements(By.CSS_SELECTOR, "main form[method=post]")
        assert forms == [], f"{page} offers a write control to an auditor"
        shoot(driver, "auditor-" + (page.strip("/").replace("/", "-") or "home"))
    for listing, table in (("/housing", "files"), ("/accidents", "accidents"), ("/incidents", "incidents")):
        driver.get(web["url"] + listing)
        driver.find_element(By.CSS_SELECTOR, f"#{table} tbody a").click()  # one file, accident, incident
        wait_for(lambda: driver.find_elements(By.ID, "history"), what=f"a record from {listing}")
        forms = driver.find_elements(By.CSS_SELECTOR, "main form[method=post]")
        assert forms == [], f"{driver.current_url} offers a write control to an auditor"
