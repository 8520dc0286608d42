"""The relief rules of issue 16 on the relief pages, in a real browser: a household with its family members
and no 一卡通 card, answering the flood; its posting backdated only with a reason (then shown as 补录);
goods delivered with a photo and the three signatures; the 冬春 season page with the place's season, the
需救助 figures, the season's clocks and the relief timeliness of the flood; money given back from a fund."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from ledger.personal.identifiers import id_check_digit
from tests.browser.conftest import shoot
from tests.browser.steps import error_beside, fill, sign_in, text_of, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def _submit(driver: Any, section: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{section} button[type=submit]").click()
    wait_for(lambda: f"done={section}" in driver.current_url or driver.find_elements(By.CSS_SELECTOR, ".alert"),
             what=f"{section} answered")
    assert "已保存" in text_of(driver), text_of(driver)


def test_a_family_without_a_card_gets_goods_with_signatures_and_the_season_page_counts_it(
    driver: Any, web: dict[str, Any], tmp_path: Path
) -> None:
    sign_in(driver, web, "demo-township")
    driver.get(web["url"] + "/relief/cases/new?programme=emergency")
    fill(driver, "period", str(date.today().year))
    head, member = _id("32092119700303" + "118"), _id("32092119720404" + "226")
    for field, value in {"head_name": "孙七", "id_number": head, "phone": "13800138077",
                         "household_type": "一般户", "household_size": "2", "people_in_need": "2",
                         "address": "响水镇东园居委会 9 号", "causes": "洪涝", "needs": "口粮、衣被",
                         "m0_name": "李八妹", "m0_relation": "配偶", "m0_id_number": member,
                         "m0_groups": "残疾"}.items():
        fill(driver, field, value)
    fill(driver, "applied_on", (date.today() - timedelta(days=7)).isoformat())  # recorded a week late
    Select(driver.find_element(By.ID, "disaster_id")).select_by_index(1)  # the demo's flood
    driver.find_element(By.CSS_SELECTOR, "form[action='/relief/cases/new'] button[type=submit]").click()
    wait_for(lambda: "孙七" in driver.find_element(By.TAG_NAME, "h1").text, what="the case page")
    case_url = driver.current_url.split("?")[0]
    members = driver.find_element(By.ID, "members").text
    assert "李八妹" in members and "配偶" in members and "残疾" in members and member not in members  # masked
    assert "灾害过程" in text_of(driver)

    held = (date.today() - timedelta(days=6)).isoformat()
    fill(driver, "minutes_ref", "东园居委会评议〔2026〕9号")
    fill(driver, "held_on", held)
    _submit(driver, "assessment")
    fill(driver, "start", held)  # six days before today: more than the days allowed without a reason
    fill(driver, "place", "东园居委会村务公开栏")
    driver.find_element(By.CSS_SELECTOR, "#posting button[type=submit]").click()
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#posting .alert"), what="the backdating refused")
    assert "补录说明" in error_beside(driver, "start")
    fill(driver, "posting-reason", "公示期间网络中断，补录")
    _submit(driver, "posting")
    posting = driver.find_element(By.ID, "posting").text
    assert "补录" in posting and "公示期间网络中断" in posting and held in posting
    shoot(driver, "relief-posting-backdated")

    sign_in(driver, web, "demo-relief")
    driver.get(case_url)
    photo = tmp_path / "发放照片.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 quilts handed over")
    fill(driver, "item", "棉被")
    fill(driver, "quantity", "2")
    fill(driver, "value", "300")
    driver.find_element(By.ID, "evidence_files").send_keys(str(photo))
    for party, name in (("recipient", "孙七"), ("village", "东园居委会王主任"), ("township", "响水镇驻村干部")):
        fill(driver, f"goods-sig_{party}_name", name)
    _submit(driver, "goods")
    goods = driver.find_element(By.ID, "goods-issued").text
    assert "棉被" in goods and "发放照片.jpg" in goods
    shoot(driver, "relief-goods-signed")

    driver.find_element(By.LINK_TEXT, "冬春").click()
    wait_for(lambda: driver.find_elements(By.ID, "season-dates"), what="the season page")
    assert "12-01" in driver.find_element(By.ID, "season-dates").text  # the season from 12月 by default
    assert "合计" in driver.find_element(By.ID, "need").text
    clocks = driver.find_element(By.ID, "season-clocks").text
    assert "县级上报地市" in clocks
    rows = driver.find_elements(By.CSS_SELECTOR, "#timeliness tbody tr")  # the flood, its household relieved
    assert len(rows) == 1 and rows[0].find_elements(By.TAG_NAME, "td")[3].text == "1"
    shoot(driver, "relief-season")


def test_money_is_given_back_from_a_fund_with_its_document(driver: Any, web: dict[str, Any]) -> None:
    sign_in(driver, web, "demo-relief")
    driver.get(web["url"] + "/relief/funds")
    form = driver.find_element(By.CSS_SELECTOR, "form[action$='/give-back']")
    driver.execute_script("arguments[0].closest('details').open = true", form)
    form.find_element(By.CSS_SELECTOR, "input[name=amount]").send_keys("100.00")
    form.find_element(By.CSS_SELECTOR, "input[name=document]").send_keys("响财〔2026〕3号")
    form.find_element(By.CSS_SELECTOR, "button").click()
    wait_for(lambda: "资金已收回" in text_of(driver) or driver.find_elements(By.CSS_SELECTOR, ".alert"),
             what="the give-back answered")
    assert "资金已收回" not in text_of(driver)  # no reason: refused
    form = driver.find_element(By.CSS_SELECTOR, "form[action$='/give-back']")
    form.find_element(By.CSS_SELECTOR, "input[name=amount]").send_keys("100.00")
    form.find_element(By.CSS_SELECTOR, "input[name=document]").send_keys("响财〔2026〕3号")
    form.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("结余资金收回")
    form.find_element(By.CSS_SELECTOR, "button").click()
    wait_for(lambda: "资金已收回" in text_of(driver), what="the money given back")
    shoot(driver, "relief-funds-given-back")
