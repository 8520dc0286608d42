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
    answer = web.post("/reports/new", data={"hazard": "flood", "subtype": "river_flood", "occurred_at": "2025-07-01T06:30",
                                            "f_affected_population": "10"})
    assert answer.status_code == 401 and "表单已过期" in answer.text
    assert runtime.position() == before


def test_an_initial_report_from_the_form_is_filed_once_and_read_back_from_the_board(
    web: TestClient, runtime: LedgerRuntime
) -> None:
    sign_in(web, "xs-township")
    form = web.get("/reports/new?hazard=flood").text
    data = {"csrf_token": token(form), "idempotency_key": token(form, "idempotency_key"), "hazard": "flood", "subtype": "river_flood",
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
    assert len(disaster.reports) == 1


def test_invalid_figures_come_back_beside_their_fields_in_chinese(web: TestClient, runtime: LedgerRuntime) -> None:
    sign_in(web, "xs-township")
    form = web.get("/reports/new").text
    answer = web.post("/reports/new", data={
        "csrf_token": token(form), "idempotency_key": token(form, "idempotency_key"), "hazard": "flood", "subtype": "river_flood",
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
    answer = web.post("/reports/new", data={"csrf_token": token(home.text), "hazard": "flood", "subtype": "river_flood",
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


def _fail_sign_ins(client: TestClient, times: int, forwarded_for: str) -> None:
    for n in range(times):
        client.cookies.clear()
        page = client.get("/signin")
        client.post("/signin", data={"username": f"nobody-{n}", "password": "x", "csrf_token": token(page.text),
                                     "next": ""}, headers={"X-Forwarded-For": forwarded_for}, follow_redirects=False)


def _sign_in_from(client: TestClient, forwarded_for: str) -> Any:
    client.cookies.clear()
    page = client.get("/signin")
    return client.post("/signin", data={"username": "xs-county", "password": PASSWORD,
                                        "csrf_token": token(page.text), "next": ""},
                       headers={"X-Forwarded-For": forwarded_for}, follow_redirects=False)


@pytest.fixture
def proxied(runtime: LedgerRuntime) -> Iterator[TestClient]:
    """The app behind a trusted reverse proxy (the test client's own address)."""
    from api.settings import Settings

    runtime.accounts.passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    runtime.accounts.register(OPERATOR, "xs-county", "county", "320921")
    runtime.accounts.passwords.set_password(OPERATOR, "xs-county", PASSWORD)
    settings = Settings(trusted_proxies=["testclient"])
    with TestClient(create_app(runtime, settings, ProjectionHost(runtime)), raise_server_exceptions=False) as client:
        yield client


def test_sign_in_limits_count_the_client_behind_a_trusted_proxy(proxied: TestClient) -> None:
    from ledger.accounts.passwords import CLIENT_LOCK_AFTER

    _fail_sign_ins(proxied, CLIENT_LOCK_AFTER, "203.0.113.5")
    locked = _sign_in_from(proxied, "203.0.113.5")
    assert locked.status_code == 401 and "15 分钟" in locked.text  # that client is locked out …
    assert _sign_in_from(proxied, "203.0.113.6").status_code == 303  # … another behind the same proxy is not


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(web: TestClient) -> None:
    from ledger.accounts.passwords import CLIENT_LOCK_AFTER

    _fail_sign_ins(web, CLIENT_LOCK_AFTER, "198.51.100.1")
    answer = _sign_in_from(web, "198.51.100.2")  # a new header value does not make a new client
    assert answer.status_code == 401 and "15 分钟" in answer.text


def test_the_queue_answers_an_inline_accept_with_its_row_and_a_plain_form_with_the_page(web: TestClient) -> None:
    sign_in(web, "xs-township")
    filed = []
    for when in ("2025-07-01T06:30", "2025-07-02T06:30"):
        form = web.get("/reports/new?hazard=flood").text
        answer = web.post("/reports/new", data={
            "csrf_token": token(form), "idempotency_key": token(form, "idempotency_key"), "hazard": "flood",
            "township": "320921100", "occurred_at": when, "f_affected_population": "12"}, follow_redirects=False)
        filed.append(answer.headers["location"].split("/")[2].split("?")[0])
    sign_in(web, "xs-county")
    queue = web.get("/review").text
    csrf = token(queue)

    inline = web.post(f"/review/{filed[0]}/1/accept", data={"csrf_token": csrf, "idempotency_key": "k-1"},
                      headers={"HX-Request": "true", "HX-Target": f"queue-{filed[0]}-1"})
    assert inline.status_code == 200
    assert f'id="queue-{filed[0]}-1"' in inline.text and "已审核通过" in inline.text and "<html" not in inline.text

    missing = web.post(f"/review/{filed[1]}/1/return", data={"csrf_token": csrf, "idempotency_key": "k-2"},
                       headers={"HX-Request": "true", "HX-Target": f"queue-{filed[1]}-1"})
    assert missing.status_code == 200 and 'role="alert"' in missing.text and "<html" not in missing.text

    plain = web.post(f"/review/{filed[1]}/1/return", data={"csrf_token": csrf, "idempotency_key": "k-3",
                                                           "reason": "数据待核实"}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].startswith("/review")


def test_an_admin_suspends_restores_and_imports_accounts_on_the_page(web: TestClient, runtime: LedgerRuntime) -> None:
    runtime.accounts.register(OPERATOR, "js-admin2", "admin", "32")
    runtime.accounts.passwords.set_password(OPERATOR, "js-admin2", PASSWORD)
    sign_in(web, "xs-county")
    county_session = web.cookies.get("rl_session")

    sign_in(web, "js-admin2")
    page = web.get("/admin/accounts")
    assert "暂停或恢复账号" in page.text and "批量导入账号" in page.text
    suspended = web.post("/admin/accounts/status", data={"csrf_token": token(page.text), "username": "xs-county",
                                                         "action": "suspend", "reason": "离岗"}, follow_redirects=False)
    assert suspended.status_code == 303
    assert runtime.accounts.sessions.resolve(county_session) is None
    assert runtime.accounts.get("xs-county").status == "suspended"
    restored = web.post("/admin/accounts/status", data={"csrf_token": token(page.text), "username": "xs-county",
                                                        "action": "restore", "reason": "返岗"}, follow_redirects=False)
    assert restored.status_code == 303 and runtime.accounts.get("xs-county").status == "active"

    bad = "用户名,角色,管辖范围\nxs-new,乡镇,320921101\nxs-bad,乡镇,320921\n".encode()
    refused = web.post("/admin/accounts/import", data={"csrf_token": token(page.text)},
                       files={"file": ("accounts.csv", bad, "text/csv")})
    assert refused.status_code == 422 and "row 3.管辖范围" in refused.text
    assert not runtime.accounts.exists("xs-new")
    good = "用户名,角色,管辖范围\nxs-new,乡镇,320921101\n\nxs-county,county,320921\n".encode()
    done = web.post("/admin/accounts/import", data={"csrf_token": token(page.text)},
                    files={"file": ("accounts.csv", good, "text/csv")})
    assert done.status_code == 200, done.text
    assert re.search(r"<td>2</td><td>xs-new</td><td>新建</td>", done.text)
    assert re.search(r"<td>4</td><td>xs-county</td><td>未改变</td>", done.text)
    assert runtime.accounts.get("xs-new").scope == "320921101"


def test_the_final_report_form_takes_the_scene_photos_a_response_requires(
    web: TestClient, runtime: LedgerRuntime
) -> None:
    from datetime import UTC, datetime, timedelta
    from uuid import UUID

    from ledger.disasters.inputs import CHINA as BEIJING
    from ledger.disasters.inputs import InitialReport, ResponseChange

    county = runtime.accounts.get("xs-county").as_actor()
    start = datetime.now(UTC) - timedelta(days=2)
    opened = runtime.disasters.file_initial(county, InitialReport(
        county="320921", hazard="flood", subtype="river_flood", occurred_at=start,
        figures={"320921100": {"affected_population": 30}}))
    runtime.disasters.change_response(county, opened.id, ResponseChange(
        action="start", level=4, plan="响水县自然灾害救助应急预案", plan_version="2021", government_level="county",
        decided_at=start + timedelta(hours=2), reason="达到四级响应条件"))
    sign_in(web, "xs-county")
    page = web.get(f"/reports/{opened.id}?after={runtime.position()}").text
    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page
    data = {"csrf_token": token(page), "idempotency_key": token(page, "idempotency_key"), "township": "320921100",
            "as_of": (datetime.now(UTC) - timedelta(hours=1)).astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M"),
            "f_affected_population": "30"}
    before = runtime.position()
    refused = web.post(f"/reports/{opened.id}/final", data=data, follow_redirects=False)
    assert refused.status_code == 422 and "至少 3 张现场照片" in refused.text
    assert runtime.position() == before
    photos = [("photos", (f"现场{i}.png", b"\x89PNG\r\n\x1a\n" + bytes([i]), "image/png")) for i in range(3)]
    filed = web.post(f"/reports/{opened.id}/final", data=data, files=photos, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    final = list(runtime.app.events.get(UUID(str(opened.id))))[-1]
    assert [a["name"] for a in final.attachments] == ["现场0.png", "现场1.png", "现场2.png"]
    assert all(runtime.blobs.check(a["sha256"]) == "ok" for a in final.attachments)


def test_the_kuaibao_table_lists_every_indicator_with_the_area_total_and_its_townships(
    web: TestClient, runtime: LedgerRuntime
) -> None:
    import io
    from datetime import UTC, datetime, timedelta

    from openpyxl import load_workbook

    from ledger.disasters.inputs import CHINA as BEIJING
    from ledger.disasters.inputs import InitialReport

    county = runtime.accounts.get("xs-county").as_actor()
    occurred = datetime.now(UTC) - timedelta(hours=5)
    runtime.disasters.file_initial(county, InitialReport(
        county="320921", hazard="flood", subtype="river_flood", occurred_at=occurred,
        figures={"320921100": {"affected_population": 30, "collapsed_rooms": 4, "collapsed_dwelling_rooms": 3},
                 "320921101": {"affected_population": 12}}))
    sign_in(web, "xs-county")
    web.get(f"/reports?after={runtime.position()}")  # the read models have caught up
    year = occurred.astimezone(BEIJING).year
    answer = web.get(f"/statistics/kuaibao.xlsx?year={year}")
    assert answer.status_code == 200 and answer.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][0] == "自然灾害损失情况统计快报表" and "未经" in rows[3][0]  # says the layout is unconfirmed
    header = rows[4]
    assert header[:4] == ["指标名称", "计量单位", "代码", "合计"] and any("320921100" in (h or "") for h in header)
    by_name = {r[0]: r for r in rows[5:]}
    assert len(by_name) == len(runtime.indicators.indicators)
    assert by_name["受灾人口"][1:4] == ["人", "02", "42"]
    assert by_name["其中倒塌住房间数"][3] == "3" and by_name["倒塌房屋间数"][3] == "4"
