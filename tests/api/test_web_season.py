"""The 冬春 需救助 上报 page in-process (both backends): a county files once from the roster-prefilled form,
the clock turns from 未报 to a filing, figures that cannot be true come back beside their fields in Chinese,
a correction needs a reason, and a township account has no filing form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ledger.runtime import LedgerRuntime
from tests.api.test_web import errors, sign_in, token, web  # noqa: F401 — web is a fixture


def test_a_county_files_its_winter_spring_needs_from_the_page(web: TestClient, runtime: LedgerRuntime  # noqa: F811
                                                              ) -> None:
    sign_in(web, "xs-county")
    page = web.get("/relief/winter-spring")
    assert page.status_code == 200 and "上报本级需救助情况" in page.text
    period = re.search(r'name="period" value="(\d{4}-\d{4})"', page.text).group(1)
    form = {"csrf_token": token(page.text), "idempotency_key": token(page.text, "idempotency_key"),
            "period": period, "action": "file", "households": "5", "people": "3", "need_口粮": "9"}
    bad = web.post("/relief/winter-spring", data=form)
    assert bad.status_code == 422
    assert set(errors(bad.text)) == {"households", "need_口粮"} and "户数不能大于人数" in errors(bad.text)["households"]
    assert runtime.season_filings.find(period, "320921") is None  # nothing written

    done = web.post("/relief/winter-spring", data={**form, "households": "3", "people": "7", "need_口粮": "4"},
                    follow_redirects=True)
    assert done.status_code == 200 and "需救助情况已上报" in done.text
    assert "需救助 3 户，7 人；其中口粮 4 人" in done.text
    filing = runtime.season_filings.find(period, "320921")
    assert (filing.figures["households"], filing.filed_by["username"]) == (3, "xs-county")
    assert "县级上报地市（冬春需救助）" in done.text

    no_reason = web.post("/relief/winter-spring", data={
        "csrf_token": token(done.text), "idempotency_key": token(done.text, "idempotency_key"), "period": period,
        "action": "correct", "households": "4", "people": "8", "reason": ""})
    assert no_reason.status_code == 422 and "reason" in errors(no_reason.text)
    corrected = web.post("/relief/winter-spring", data={
        "csrf_token": token(done.text), "idempotency_key": token(done.text, "idempotency_key"), "period": period,
        "action": "correct", "households": "4", "people": "8", "reason": "补录一户"}, follow_redirects=True)
    assert "更正已记录" in corrected.text and "已更正 1 次" in corrected.text


def test_a_township_sees_the_clocks_but_no_filing_form(web: TestClient) -> None:  # noqa: F811
    sign_in(web, "xs-township")
    page = web.get("/relief/winter-spring")
    assert page.status_code == 200 and "冬春需救助情况" in page.text and 'action="/relief/winter-spring"' in page.text
    assert 'name="households"' not in page.text
    refused = web.post("/relief/winter-spring", data={"csrf_token": token(page.text), "households": "1",
                                                      "people": "1", "action": "file"})
    assert refused.status_code == 422 and "本账号不报送" in refused.text
