"""The web interface in-process (both backends): sign-in, sessions and CSRF, a form filing through the use case
with its idempotency key, field messages in Chinese, role and scope checks, and the consoles' own assets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.accounts.service import local_operator
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost

PASSWORD = "报灾要及时-2026"
OPERATOR = local_operator()


@pytest.fixture
def web(runtime: LedgerRuntime) -> Iterator[TestClient]:
    runtime.accounts.passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    for username, role, scope in (("xs-township", "township", "320921100"), ("xs-county", "county", "320921"),
                                  ("yc-auditor", "auditor", "3209")):
        runtime.accounts.register(OPERATOR, username, role, scope)
        runtime.accounts.passwords.set_password(OPERATOR, username, PASSWORD)
    host = ProjectionHost(runtime)
    with TestClient(create_app(runtime, host=host), raise_server_exceptions=False) as client:
        yield client


def token(html: str, name: str = "csrf_token") -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    client.cookies.clear()
    page = client.get("/signin")
    return client.post("/signin", data={"username": username, "password": password, "csrf_token": token(page.text),
                                        "next": ""}, follow_redirects=False)


def errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="err-([^"]+)" role="alert">([^<]*)</p>', html))


def test_signing_in_sets_an_httponly_samesite_cookie_and_leads_to_the_roles_page(web: TestClient) -> None:
    answer = sign_in(web, "xs-township")

    assert answer.status_code == 303 and answer.headers["location"] == "/reports"
    cookie = answer.headers["set-cookie"]
    assert "rl_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS it is Secure
    assert web.get("/reports").status_code == 200


def test_a_wrong_password_is_refused_and_pages_need_a_session(web: TestClient) -> None:
    assert sign_in(web, "xs-township", "wrong-wrong-wrong").status_code == 401
    page = web.get("/reports", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/signin?next=%2Freports")


def test_a_sign_in_form_without_its_token_is_refused(web: TestClient) -> None:
    web.cookies.clear()
    answer = web.post("/signin", data={"username": "xs-township", "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 400


def test_signing_out_ends_the_session_on_the_server(web: TestClient) -> None:
    sign_in(web, "xs-township")
    session = web.cookies.get("rl_session")
    page = web.get("/reports")
    web.post("/signout", data={"csrf_token": token(page.text)})

    web.cookies.set("rl_session", session)  # a copy of the old cookie
    assert web.get("/reports", follow_redirects=False).status_code == 303


def test_cookie_calls_to_the_api_need_the_csrf_header_and_bearer_calls_do_not(
    web: TestClient, runtime: LedgerRuntime
) -> None:
    sign_in(web, "xs-county")
    csrf = token(web.get("/review").text)

    assert web.get("/v1/me").status_code == 401
    assert web.get("/v1/me", headers={"X-CSRF-Token": csrf}).json()["username"] == "xs-county"
    query = {"query": "{ disasters(first: 5) { totalCount } }"}
    assert web.post("/graphql", json=query).json()["errors"]
    assert web.post("/graphql", json=query, headers={"X-CSRF-Token": csrf}).json()["data"]["disasters"] == {
        "totalCount": 0}
    bearer, _ = runtime.accounts.issue_token(OPERATOR, "xs-county")
    web.cookies.clear()
    assert web.get("/v1/me", headers={"Authorization": f"Bearer {bearer}"}).status_code == 200


def test_a_form_without_its_csrf_token_changes_nothing(web: TestClient, runtime: LedgerRuntime) -> None:
    sign_in(web, "xs-township")
    before = runtime.position()
    answer = web.post("/reports/new", data={"hazard": "flood", "occurred_at": "2025-07-01T06:30",
                                            "f_affected_population": "10"})
    assert answer.status_code == 401 and "表单已过期" in answer.text
    assert runtime.position() == before


def test_an_initial_report_from_the_form_is_filed_once_and_read_back_from_the_board(
    web: TestClient, runtime: LedgerRuntime
) -> None:
    sign_in(web, "xs-township")
    form = web.get("/reports/new?hazard=flood").text
    data = {"csrf_token": token(form), "idempotency_key": token(form, "idempotency_key"), "hazard": "flood",
            "township": "320921100", "occurred_at": "2025-07-01T06:30", "f_affected_population": "120",
            "f_crop_affected_ha": "10.50", "text": "河水漫堤"}

    first = web.post("/reports/new", data=data, follow_redirects=False)
    again = web.post("/reports/new", data=data, follow_redirects=False)  # the same form sent twice

    assert first.status_code == again.status_code == 303
    assert first.headers["location"].split("?")[0] == again.headers["location"].split("?")[0]
    page = web.get(first.headers["location"])
    assert "初报已提交" in page.text and "120" in page.text and "10.50" in page.text
    assert "2025-07-01 06:30 (+08:00)" in page.text  # Beijing time, as typed
    disaster = runtime.disasters.get(runtime.accounts.get("xs-county").as_actor(),
                                     __import__("uuid").UUID(first.headers["location"].split("/")[2].split("?")[0]))
    assert disaster.report_count == 1


def test_invalid_figures_come_back_beside_their_fields_in_chinese(web: TestClient, runtime: LedgerRuntime) -> None:
    sign_in(web, "xs-township")
    form = web.get("/reports/new").text
    answer = web.post("/reports/new", data={
        "csrf_token": token(form), "idempotency_key": token(form, "idempotency_key"), "hazard": "flood",
        "occurred_at": "2025-07-01T06:30", "f_affected_population": "12人", "f_deaths": "-1",
        "f_crop_affected_ha": "1.234", "f_crop_damaged_ha": "5"})

    assert answer.status_code == 422
    shown = errors(answer.text)
    assert "请填写数字" in shown["affected_population"]
    assert "不能为负数" in shown["deaths"]
    assert "最多 2 位小数" in shown["crop_affected_ha"]
    assert 'value="12人"' in answer.text  # what was typed is kept
    assert "暂无灾害过程" in web.get("/reports").text  # nothing filed


def test_an_auditor_reads_but_every_write_is_refused_by_the_use_case(web: TestClient) -> None:
    sign_in(web, "yc-auditor")
    home = web.get("/audit")
    assert home.status_code == 200 and 'method="post"' not in home.text.split("<main")[1]
    answer = web.post("/reports/new", data={"csrf_token": token(home.text), "hazard": "flood",
                                            "occurred_at": "2025-07-01T06:30", "f_affected_population": "1"})
    assert answer.status_code == 403


def test_a_township_account_cannot_open_the_review_queue(web: TestClient) -> None:
    sign_in(web, "xs-township")
    answer = web.get("/review")
    assert answer.status_code == 403 and "本页面不适用" in answer.text


def test_docs_and_graphiql_load_their_scripts_from_this_server(web: TestClient) -> None:
    docs = web.get("/docs").text
    graphiql = web.get("/graphql", headers={"Accept": "text/html"}).text
    for page in (docs, graphiql):
        sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
        assert sources and all(s.startswith("/static/") for s in sources), sources
    assert "cdn" not in (docs + graphiql).lower()


def test_an_admin_sets_a_password_on_the_page_and_the_accounts_sessions_end(
    web: TestClient, runtime: LedgerRuntime
) -> None:
    runtime.accounts.register(OPERATOR, "js-admin", "admin", "32")
    runtime.accounts.passwords.set_password(OPERATOR, "js-admin", PASSWORD)
    sign_in(web, "xs-township")
    township_session = web.cookies.get("rl_session")

    sign_in(web, "js-admin")
    page = web.get("/admin/accounts")
    answer = web.post("/admin/accounts/password", data={"csrf_token": token(page.text), "username": "xs-township",
                                                        "password": "新密码-管理员设置-01"}, follow_redirects=False)

    assert answer.status_code == 303
    assert runtime.accounts.sessions.resolve(township_session) is None
    assert sign_in(web, "xs-township", "新密码-管理员设置-01").status_code == 303
