"""Accidents, incident command and the plans' targets in a real browser: a regulator records an accident
(a bad credit code refused beside its field), files a 补报 whose casualties regrade it, and sees each
grade and the report clocks; a township calls for support and the county answers; the county adjusts
its response with a reason and hands over command; who held command at a moment; targets on/off track."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import shoot
from tests.browser.steps import beijing_input, error_beside, fill, sign_in, text_of, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _submit(driver: Any, section: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{section} button[type=submit]").click()
    wait_for(lambda: f"done={section}" in driver.current_url or driver.find_elements(By.CSS_SELECTOR, ".alert"),
             what=f"{section} answered")
    assert "已保存" in text_of(driver), text_of(driver)


def test_a_regulator_records_an_accident_and_a_supplement_regrades_it(driver: Any, web: dict[str, Any],
                                                                      tmp_path: Path) -> None:
    sign_in(driver, web, "demo-county")
    driver.find_element(By.LINK_TEXT, "事故").click()
    wait_for(lambda: driver.find_elements(By.ID, "accidents"), what="the accident register")
    assert "较大" in driver.find_element(By.ID, "accidents").text  # the demo's explosion, 1 → 3 dead
    assert "迟报" in driver.find_element(By.ID, "clock-counts").text
    shoot(driver, "accidents-county")

    driver.find_element(By.LINK_TEXT, "记录事故报告").click()
    fill(driver, "unit_name", "响水某建材有限公司")
    fill(driver, "credit_code", "91350100M000100Y44")  # wrong check character
    Select(driver.find_element(By.ID, "sector")).select_by_visible_text("工贸")
    fill(driver, "occurred_at", beijing_input(hours_ago=3))
    fill(driver, "unit_reported_at", beijing_input(hours_ago=2.5))
    fill(driver, "place", "厂区粉碎车间")
    fill(driver, "summary", "粉碎机检修时发生机械伤害")
    fill(driver, "c_deaths", "1")
    fill(driver, "direct_loss", "800000")
    driver.find_element(By.CSS_SELECTOR, "form[action='/accidents/new'] button").click()
    assert "校验" in wait_for(lambda: error_beside(driver, "credit_code"), what="the message beside the code") \
        or error_beside(driver, "credit_code")
    assert driver.find_element(By.ID, "place").get_attribute("value") == "厂区粉碎车间"  # kept
    shoot(driver, "accident-new-refused")
    fill(driver, "credit_code", "91350100M000100Y43")
    driver.find_element(By.CSS_SELECTOR, "form[action='/accidents/new'] button").click()
    wait_for(lambda: driver.find_elements(By.ID, "grade"), what="the accident page")
    assert driver.find_element(By.ID, "grade").text == "一般"

    fill(driver, "as_of", beijing_input(hours_ago=0.5))
    fill(driver, "c_deaths", "4")
    fill(driver, "fu-text", "搜救发现 3 名遇难者")
    _submit(driver, "follow-up")
    assert driver.find_element(By.ID, "grade").text == "较大"
    grades = driver.find_element(By.ID, "grades").text
    assert "一般" in grades and "较大" in grades and "死亡" in grades
    assert "补报" in driver.find_element(By.ID, "reports").text
    assert "事故单位 1 小时内报告县级监管部门" in driver.find_element(By.ID, "clocks").text
    fill(driver, "reported_at", beijing_input(hours_ago=0.2))
    _submit(driver, "upward")
    assert "市级" in driver.find_element(By.ID, "upward").text
    shoot(driver, "accident-regraded")

    # a 迟报 finding against the unit, with the evidence file hashed in the page; the reports stay as they were
    driver.execute_script("document.querySelector('#finding').closest('details').open = true")
    Select(driver.find_element(By.ID, "kind")).select_by_value("late")
    fill(driver, "finding-text", "事故单位未在 1 小时内报告")
    evidence = tmp_path / "通话记录.pdf"
    evidence.write_bytes(b"%PDF-1.4 call log")
    driver.find_element(By.ID, "evidence_files").send_keys(str(evidence))
    _submit(driver, "finding")
    assert "迟报：事故单位未在 1 小时内报告" in driver.find_element(By.ID, "findings").text
    assert len(driver.find_elements(By.CSS_SELECTOR, "#reports tbody tr")) == 2


def test_incident_command_calls_answers_and_who_held_command(driver: Any, web: dict[str, Any]) -> None:
    sign_in(driver, web, "demo-township")
    driver.find_element(By.LINK_TEXT, "应急指挥").click()
    wait_for(lambda: driver.find_elements(By.ID, "incidents"), what="the incidents")
    driver.find_element(By.PARTIAL_LINK_TEXT, "闪爆").click()
    wait_for(lambda: driver.find_elements(By.ID, "command"), what="the incident page")
    assert driver.find_elements(By.ID, "response") == []  # a township does not decide responses
    fill(driver, "what", "请求增派 2 台挖掘机")
    driver.find_element(By.CSS_SELECTOR, "#support-request input[name=cat_equipment]").click()
    fill(driver, "requested_at", beijing_input(hours_ago=0.5))
    _submit(driver, "support-request")
    assert "未答复" in driver.find_element(By.ID, "calls").text
    incident_url = driver.current_url.split("?")[0]
    shoot(driver, "incident-township")

    sign_in(driver, web, "demo-county")
    driver.get(incident_url)
    form = driver.find_element(By.CSS_SELECTOR, "#calls form[action$='/support-answer']")
    form.find_element(By.CSS_SELECTOR, "input[name=what]").send_keys("县交通局调派挖掘机 2 台")
    form.find_element(By.CSS_SELECTOR, "button").click()
    wait_for(lambda: "done=support-answer" in driver.current_url, what="the answer")
    calls = driver.find_element(By.ID, "calls").text
    assert "未答复" not in calls and "县交通局调派挖掘机 2 台" in calls

    Select(driver.find_element(By.ID, "action")).select_by_value("adjust")
    Select(driver.find_element(By.ID, "level")).select_by_value("3")
    fill(driver, "decided_at", beijing_input(hours_ago=0.1))
    fill(driver, "response-reason", "死亡人数上升，提升为三级响应")
    _submit(driver, "response")
    assert "Ⅲ级" in driver.find_element(By.ID, "responses").text

    fill(driver, "commander_name", "李县长")
    fill(driver, "commander_post", "县长")
    fill(driver, "commander_unit", "320921")
    fill(driver, "since", beijing_input(hours_ago=0.05))
    _submit(driver, "command")
    command = driver.find_element(By.ID, "command").text
    assert "李县长" in command and "副县长" in command  # the handover keeps the earlier commander

    fill(driver, "at", beijing_input(hours_ago=0.08))  # after the demo's handover, before 李县长
    driver.find_element(By.CSS_SELECTOR, "#command-at button").click()
    held = wait_for(lambda: driver.find_element(By.ID, "held").text, what="who held command")
    assert "县现场指挥部指挥长" in held
    shoot(driver, "incident-county")


def test_targets_show_on_or_off_track_with_the_figures(driver: Any, web: dict[str, Any]) -> None:
    sign_in(driver, web, "demo-county")
    driver.get(web["url"] + "/targets")
    table = wait_for(lambda: driver.find_element(By.ID, "targets").text, what="the targets")
    assert any(word in table for word in ("达标", "未达标", "数据不足"))
    shoot(driver, "targets-county")
