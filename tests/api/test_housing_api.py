"""Housing reconstruction (倒损住房恢复重建) over HTTP, on SQLite and PostgreSQL: the whole chain of one
household's file, every refused skip, exclusions, the subsidy table's version, tranches from the fund
(concurrent payments, a fund that cannot cover), the disaster's 核销 waiting for open files.

The runtime's clock starts at real time; `later` moves it on past the posting (recorded times stay real).
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from ledger.store.errors import Conflict
from tests.unit.test_personal import gb11643, luhn_complete

CHINA = ZoneInfo("Asia/Shanghai")
COUNTY, VILLAGE = "320921", "320921100001"
ZHANG, LI = gb11643("32092119800101123"), gb11643("32092119751212246")
CARD = luhn_complete("621700001001234567")
PHOTO = {"ref": "sha256:" + "cd" * 32, "type": "image/jpeg", "name": "倒塌房屋.jpg"}


def today(client: Any) -> date:
    return client.app.state.runtime.now().astimezone(CHINA).date()


def later(client: Any, days: float = 8) -> None:
    client.app.state.runtime.config.clock.advance(days=days)


def call(client: Any, token: str, path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
    return response.json()


def read(client: Any, token: str, case_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/housing/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def a_disaster(client: Any, tokens: dict[str, str]) -> str:
    occurred = datetime.now(CHINA).replace(microsecond=0) - timedelta(hours=3)
    return call(client, tokens["county"], "/v1/disasters", {
        "county": COUNTY, "hazard": "flood", "subtype": "river_flood", "occurred_at": occurred.isoformat(),
        "figures": {"320921100": {"affected_population": 500, "collapsed_rooms": 6, "collapsed_dwelling_rooms": 6,
                                  "collapsed_dwelling_households": 2}}}, 201)["id"]


def a_fund(client: Any, tokens: dict[str, str], amount: int = 10_000_000) -> str:
    return call(client, tokens["county"], "/v1/relief/funds", {
        "county": COUNTY, "programme": "housing", "period": str(datetime.now(CHINA).year), "source": "central",
        "amount_fen": amount, "document": f"财建〔{amount}〕号"}, 201)["id"]


def application(client: Any, disaster: str, **overrides: Any) -> dict[str, Any]:
    body = {"disaster_id": disaster, "village": VILLAGE, "head_name": "张三", "id_number": ZHANG,
            "phone": "13800138000", "card_number": CARD, "address": "响水镇东园居委会 12 号", "damage": "collapsed",
            "rooms": 3, "mode": "in_situ", "evidence": [PHOTO], "assessed_on": str(today(client))}
    body.update(overrides)
    return body


def approved(client: Any, tokens: dict[str, str], disaster: str, **overrides: Any) -> str:
    t = today(client)
    case = call(client, tokens["township"], "/v1/housing/cases", application(client, disaster, **overrides), 201)["id"]
    call(client, tokens["township"], f"/v1/housing/cases/{case}/deliberation",
         {"minutes_ref": "东园居委会四议两公开记录", "held_on": str(t)})
    call(client, tokens["township"], f"/v1/housing/cases/{case}/posting",
         {"start": str(t), "end": str(t + timedelta(days=6)), "place": "村务公开栏"})
    later(client)
    call(client, tokens["township"], f"/v1/housing/cases/{case}/township-review", {})
    call(client, tokens["county"], f"/v1/housing/cases/{case}/approval", {})
    return case


def test_the_whole_chain_from_damage_to_moving_in_pays_both_tranches_from_the_fund(client, tokens, runtime):
    disaster = a_disaster(client, tokens)
    fund = a_fund(client, tokens)
    case = approved(client, tokens, disaster)
    shown = read(client, tokens["county"], case)
    assert (shown["subsidy_fen"], shown["approval"]["standard_fen"]) == (1_500_000, 1_500_000)  # 3 间 × 5000 元
    assert shown["approval"]["table_version"] == runtime.housing_rules.version
    assert shown["approval"]["row"]["id"] == "national/collapsed"
    t = today(client)
    call(client, tokens["county"], f"/v1/housing/cases/{case}/agreement",
         {"signed_on": str(t), "planned_start": str(t), "planned_completion": str(t)})
    early = call(client, tokens["county"], f"/v1/housing/cases/{case}/tranches", {"tranche": 1, "bank_ref": "B1"}, 409)
    assert early["error"]["code"] == "tranche_not_due"
    later(client, days=2)
    call(client, tokens["township"], f"/v1/housing/cases/{case}/steps", {"step": "started", "stated_on": str(t + timedelta(days=1))})
    first = call(client, tokens["relief_officer"], f"/v1/housing/cases/{case}/tranches", {"tranche": 1, "bank_ref": "B1"}, 201)
    assert first["created"]["payment_id"]
    call(client, tokens["township"], f"/v1/housing/cases/{case}/steps",
         {"step": "completed", "stated_on": str(t + timedelta(days=2))})
    failed = call(client, tokens["county"], f"/v1/housing/cases/{case}/inspection",
                  {"passed": False, "stated_on": str(t + timedelta(days=2)), "reasons": ""}, 422)
    assert failed["error"]["fields"][0]["field"] == "reasons"
    call(client, tokens["county"], f"/v1/housing/cases/{case}/inspection",
         {"passed": False, "reasons": "屋面防水不合格", "stated_on": str(t + timedelta(days=2))})
    call(client, tokens["county"], f"/v1/housing/cases/{case}/inspection",
         {"passed": True, "stated_on": str(t + timedelta(days=2))})
    call(client, tokens["county"], f"/v1/housing/cases/{case}/tranches", {"tranche": 2, "bank_ref": "B2"}, 201)
    call(client, tokens["county"], f"/v1/housing/cases/{case}/other-money",
         {"kind": "insurance", "amount_fen": 300_000, "stated_on": str(t), "note": "农房保险理赔"})
    call(client, tokens["township"], f"/v1/housing/cases/{case}/steps",
         {"step": "moved_in", "stated_on": str(t + timedelta(days=2))})
    call(client, tokens["county"], f"/v1/housing/cases/{case}/steps", {"step": "closed", "stated_on": str(t + timedelta(days=2))})
    done = read(client, tokens["auditor"], case)
    assert (done["step"], done["paid_fen"], done["unpaid_fen"]) == ("closed", 1_500_000, 0)
    assert done["delays"] == {"started": 1, "completed": 2}  # later than the agreement's dates: flagged, not refused
    assert [i["passed"] for i in done["inspections"]] == [False, True]
    assert done["head_name"] == "张*" and done["id_number"].startswith("320921") and "*" in done["id_number"]
    balance = client.get(f"/v1/relief/funds/{fund}", headers={"Authorization": f"Bearer {tokens['county']}"}).json()
    assert balance["balance_fen"] == 10_000_000 - 1_500_000
    call(client, tokens["city"], f"/v1/disasters/{disaster}/retraction", {"reason": "重复报送"})  # no file open now
    retracted = call(client, tokens["township"], "/v1/housing/cases", application(client, disaster, id_number=LI),
                     422)["error"]
    assert ("disaster_id", "retracted") in [(f["field"], f["code"]) for f in retracted["fields"]]


STEPS = [
    ("deliberation", {"minutes_ref": "记录", "held_on": None}),
    ("posting", {"start": None, "end": "+6", "place": "公开栏"}),
    ("township-review", {}),
    ("approval", {}),
    ("agreement", {"signed_on": None, "planned_start": None, "planned_completion": None}),
    ("steps", {"step": "started", "stated_on": None}),
    ("steps", {"step": "completed", "stated_on": None}),
    ("inspection", {"passed": True, "stated_on": None}),
    ("steps", {"step": "moved_in", "stated_on": None}),
    ("steps", {"step": "closed", "stated_on": None}),
]


def _body(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    t = today(client)
    return {k: (str(t) if v is None and k != "reasons" else str(t + timedelta(days=6)) if v == "+6" else v)
            for k, v in body.items()}


@pytest.mark.parametrize("skip_to", range(1, len(STEPS)))
def test_every_step_recorded_before_the_one_it_follows_is_refused(client, tokens, runtime, skip_to):
    disaster = a_disaster(client, tokens)
    case = call(client, tokens["township"], "/v1/housing/cases", application(client, disaster), 201)["id"]
    path, body = STEPS[skip_to]
    role = "township" if path in ("deliberation", "posting", "township-review") else "county"
    before = runtime.position()
    error = call(client, tokens[role], f"/v1/housing/cases/{case}/{path}", _body(client, body), 409)["error"]
    assert (error["code"], error["details"]["expected"]) == ("step_skipped", "deliberated")
    assert runtime.position() == before


@pytest.mark.parametrize(("mode", "damage", "refused", "expected"), [
    ("purchase", "collapsed", "started", "accepted"),  # 购房安置: no 开工 / 竣工
    ("repair", "general", "moved_in", "closed"),  # 维修加固: no 入住
])
def test_steps_differ_by_mode(client, tokens, mode, damage, refused, expected):
    disaster = a_disaster(client, tokens)
    a_fund(client, tokens)
    case = approved(client, tokens, disaster, mode=mode, damage=damage)
    t = today(client)
    call(client, tokens["county"], f"/v1/housing/cases/{case}/agreement",
         {"signed_on": str(t), "planned_start": str(t + timedelta(days=5)), "planned_completion": str(t + timedelta(days=60))})
    if mode == "repair":
        for step in ("started", "completed"):
            call(client, tokens["township"], f"/v1/housing/cases/{case}/steps", {"step": step, "stated_on": str(t)})
        call(client, tokens["county"], f"/v1/housing/cases/{case}/inspection", {"passed": True, "stated_on": str(t)})
    error = call(client, tokens["county"], f"/v1/housing/cases/{case}/steps", {"step": refused, "stated_on": str(t)},
                 409)["error"]
    assert error["details"]["expected"] == expected
    if mode == "purchase":
        call(client, tokens["county"], f"/v1/housing/cases/{case}/tranches", {"tranche": 1, "bank_ref": "P1"}, 201)


def test_stated_dates_may_not_precede_the_previous_step_nor_lie_in_the_future(client, tokens):
    disaster = a_disaster(client, tokens)
    t = today(client)
    case = call(client, tokens["township"], "/v1/housing/cases",
                application(client, disaster, applied_on=str(t)), 201)["id"]
    for held_on, code in ((t - timedelta(days=1), "before_previous_step"), (t + timedelta(days=1), "in_future")):
        error = call(client, tokens["township"], f"/v1/housing/cases/{case}/deliberation",
                     {"minutes_ref": "记录", "held_on": str(held_on)}, 422)["error"]
        assert [(f["field"], f["code"]) for f in error["fields"]] == [("stated_on", code)]


@pytest.mark.parametrize(("field", "value", "name"), [
    ("building", "kitchen", "独立厨房"), ("building", "livestock_shed", "牲畜棚"),
    ("circumstances", ["second_home"], "第二套住房"), ("circumstances", ["long_unoccupied"], "长期无人居住"),
])
def test_excluded_buildings_and_circumstances_are_refused_with_the_rule_named(client, tokens, field, value, name):
    disaster = a_disaster(client, tokens)
    error = call(client, tokens["township"], "/v1/housing/cases",
                 application(client, disaster, **{field: value}), 422)["error"]
    [problem] = error["fields"]
    assert (problem["field"], problem["code"]) == (field, "excluded") and name in problem["message"]


def test_one_open_file_per_head_and_disaster_and_relief_cases_of_it_are_linked(client, tokens):
    disaster = a_disaster(client, tokens)
    year = today(client).year
    relief = call(client, tokens["township"], "/v1/relief/cases", {
        "programme": "transitional", "period": f"{year}-{year + 1}", "village": VILLAGE, "head_name": "张三",
        "id_number": ZHANG, "phone": "13800138000", "card_number": CARD, "household_type": "一般户",
        "household_size": 1, "people_in_need": 1, "address": "东园 12 号", "causes": ["倒房"], "needs": ["住房"],
        "disaster_id": disaster}, 201)["id"]
    case = call(client, tokens["township"], "/v1/housing/cases", application(client, disaster), 201)["id"]
    assert read(client, tokens["county"], case)["linked_relief_cases"] == [relief]
    again = call(client, tokens["township"], "/v1/housing/cases", application(client, disaster), 409)["error"]
    assert (again["code"], again["details"]["existing_id"]) == ("duplicate_case", case)
    retraction = call(client, tokens["city"], f"/v1/disasters/{disaster}/retraction", {"reason": "重复"}, 409)
    assert retraction["error"]["details"]["open_housing_cases"] == [case]


def test_above_the_standard_needs_a_reason_and_is_recorded(client, tokens):
    disaster = a_disaster(client, tokens)
    t = today(client)
    case = call(client, tokens["township"], "/v1/housing/cases", application(client, disaster), 201)["id"]
    call(client, tokens["township"], f"/v1/housing/cases/{case}/deliberation", {"minutes_ref": "记录", "held_on": str(t)})
    call(client, tokens["township"], f"/v1/housing/cases/{case}/posting",
         {"start": str(t), "end": str(t + timedelta(days=6)), "place": "公开栏"})
    later(client)
    call(client, tokens["township"], f"/v1/housing/cases/{case}/township-review", {})
    error = call(client, tokens["county"], f"/v1/housing/cases/{case}/approval", {"subsidy_fen": 2_000_000}, 422)
    assert error["error"]["code"] == "above_standard"
    call(client, tokens["county"], f"/v1/housing/cases/{case}/approval",
         {"subsidy_fen": 2_000_000, "reason": "五保户，县政府常务会议研究同意"})
    approval = read(client, tokens["county"], case)["approval"]
    assert (approval["above_standard"], approval["standard_fen"]) == (True, 1_500_000)


def _agreed_and_started(client: Any, tokens: dict[str, str], fund_amount: int) -> str:
    disaster = a_disaster(client, tokens)
    a_fund(client, tokens, fund_amount)
    case = approved(client, tokens, disaster)
    t = today(client)
    call(client, tokens["county"], f"/v1/housing/cases/{case}/agreement",
         {"signed_on": str(t), "planned_start": str(t), "planned_completion": str(t + timedelta(days=90))})
    call(client, tokens["township"], f"/v1/housing/cases/{case}/steps", {"step": "started", "stated_on": str(t)})
    return case


def test_a_fund_that_cannot_cover_a_tranche_refuses_it_and_nothing_is_paid(client, tokens, runtime):
    case = _agreed_and_started(client, tokens, fund_amount=700_000)
    before = runtime.position()
    error = call(client, tokens["county"], f"/v1/housing/cases/{case}/tranches", {"tranche": 1, "bank_ref": "B"}, 409)
    assert (error["error"]["code"], error["error"]["details"]) == (
        "insufficient_funds", {"balance_fen": 700_000, "requested_fen": 750_000})
    assert runtime.position() == before and read(client, tokens["county"], case)["paid_fen"] == 0


def test_two_concurrent_payments_of_one_tranche_have_exactly_one_winner(client, tokens, runtime):
    case = UUID(_agreed_and_started(client, tokens, fund_amount=10_000_000))
    officer = runtime.accounts.authenticate(tokens["county"])
    barrier, results = threading.Barrier(2), []

    def pay(n: int) -> None:
        barrier.wait()
        try:
            results.append(runtime.housing.pay_tranche(officer, case, 1, f"B{n}").status)
        except Conflict as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results)) == ["201", "tranche_paid"]
    shown = read(client, tokens["county"], str(case))
    assert shown["paid_fen"] == 750_000 and len(shown["tranches"]) == 1
    fund = runtime.app.repository.get(next(iter(shown["tranches"].values()))["fund_id"] and
                                      UUID(next(iter(shown["tranches"].values()))["fund_id"]))
    assert fund.paid == 750_000


def test_a_returned_tranche_goes_back_to_the_fund_and_may_be_paid_again(client, tokens):
    case = _agreed_and_started(client, tokens, fund_amount=10_000_000)
    paid = call(client, tokens["county"], f"/v1/housing/cases/{case}/tranches", {"tranche": 1, "bank_ref": "B"}, 201)
    payment = paid["created"]["payment_id"]
    call(client, tokens["county"], f"/v1/housing/cases/{case}/tranches/{payment}/return", {"reason": "账户冻结"})
    assert read(client, tokens["county"], case)["paid_fen"] == 0
    call(client, tokens["county"], f"/v1/housing/cases/{case}/tranches", {"tranche": 1, "bank_ref": "B2"}, 201)
