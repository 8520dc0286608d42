"""Concurrent payments on PostgreSQL never overdraw a fund nor overpay a case.

A payment saves the case and the fund in one transaction and re-decides after
losing a race, so with money for exactly N payments and M > N approved cases
paid at once, exactly N succeed and the rest are told insufficient_funds; a
watcher reading the fund meanwhile never sees a negative balance.
PostgreSQL only: SQLite serialises writers, so it proves nothing here.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Self
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from ledger.accounts.service import local_operator
from ledger.relief.applications import Application
from ledger.relief.fund import fund_id
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from ledger.store.commands import IdempotencyKey
from ledger.store.errors import DomainError
from tests.conftest import persistence_env
from tests.unit.test_personal import gb11643, luhn_complete

COUNTY = "320921"  # 响水县
VILLAGES = [f"320921100{n:03d}" for n in range(1, 10)]  # villages of 响水镇
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
PERIOD = f"{TODAY.year}-{TODAY.year + 1}"  # the season of this winter
AMOUNT = 10_000  # 100 元 per case
THREADS = 16


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """PostgreSQL only (overrides the two-backend fixture of tests/conftest.py)."""
    return persistence_env("postgres", tmp_path, request)


@pytest.fixture
def staff(runtime: LedgerRuntime) -> dict[str, Actor]:
    operator = local_operator()
    people = {}
    for role, scope in (("township", "320921100"), ("county", COUNTY), ("relief_officer", COUNTY)):
        runtime.accounts.register(operator, f"pg-{role}", role, scope)
        people[role] = runtime.accounts.get(f"pg-{role}").as_actor()
    return people


def head(n: int) -> str:
    return gb11643(f"32092119800101{n:03d}")


def an_approved_case(rt: LedgerRuntime, staff: dict[str, Actor], n: int, amount: int = AMOUNT) -> UUID:
    township, county = staff["township"], staff["county"]
    case_id = rt.relief.apply(
        township,
        Application(
            programme="winter_spring",
            period=PERIOD,
            village=VILLAGES[n % len(VILLAGES)],
            head_name=f"户主{n}",
            id_number=head(n),
            phone="13800138000",
            card_number=luhn_complete("621700001001234567"),
            household_type="一般户",
            household_size=4,
            people_in_need=3,
            address="响水镇",
            causes=[],
            needs=[],
        ),
    ).id
    today = rt.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    rt.relief.assess(township, case_id, "村民代表会议记录", True, today)
    rt.relief.post(township, case_id, today, today + timedelta(days=6), "村务公开栏")
    rt.config.clock.advance(days=8)  # type: ignore[attr-defined]  # the posting has run its seven days
    rt.relief.township_review(township, case_id)
    rt.relief.approve(county, case_id, amount, None)
    return case_id


def a_fund(rt: LedgerRuntime, staff: dict[str, Actor], amount: int) -> UUID:
    return rt.relief.allocate(
        staff["county"], COUNTY, "winter_spring", PERIOD, "central", amount, "苏财社〔2025〕88号"
    ).id


def outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except DomainError as exc:
        return exc.code
    return "paid"


class BalanceWatcher:
    """Reads the fund over and over while payments run; remembers every balance seen."""

    def __init__(self, rt: LedgerRuntime, fid: UUID) -> None:
        self.rt, self.fid, self.seen = rt, fid, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.stop.is_set():
            self.seen.append(self.rt.app.repository.get(self.fid).balance)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def run_together(calls: list[Callable[[], Any]]) -> list[str]:
    """Run every call at once (a barrier releases them together) and collect outcomes."""
    barrier = threading.Barrier(len(calls))

    def start(call: Callable[[], Any]) -> str:
        barrier.wait(timeout=30)
        return outcome(call)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(start, calls))


def debited(rt: LedgerRuntime, fid: UUID) -> list[int]:
    return [e.amount for e in rt.app.events.get(fid) if type(e).__name__ == "Debited"]


# --- many cases, one fund ----------------------------------------------------------------------


def retry_contended(outcomes: list[str], calls: list[Callable[[], Any]]) -> list[str]:
    """What a client does with a 409 "contention" ("please retry"): send it again, one by one."""
    final = list(outcomes)
    for i, (result, call) in enumerate(zip(outcomes, calls, strict=True)):
        while result == "contention":
            result = outcome(call)
        final[i] = result
    return final


@pytest.mark.parametrize("affordable", [5, 11])
def test_parallel_payments_from_one_fund_never_overdraw_it(runtime, staff, affordable):
    fid = a_fund(runtime, staff, affordable * AMOUNT)
    cases = [an_approved_case(runtime, staff, n) for n in range(THREADS)]
    officers = [staff["county"], staff["relief_officer"]]
    calls = [
        (lambda c=c, i=i: runtime.relief.pay(officers[i % 2], c, AMOUNT, "批次01", f"NX{i:04d}"))
        for i, c in enumerate(cases)
    ]

    with BalanceWatcher(runtime, fid) as watcher:
        outcomes = run_together(calls)

    assert set(outcomes) <= {"paid", "insufficient_funds", "contention"}
    paid_now = outcomes.count("paid")
    assert 0 < paid_now <= affordable
    fund = runtime.app.repository.get(fid)
    assert (
        fund.balance
        == affordable * AMOUNT - paid_now * AMOUNT
        == affordable * AMOUNT - sum(debited(runtime, fid))
    )
    assert min(watcher.seen, default=0) >= 0
    assert len(watcher.seen) > 0

    # once the refused-for-contention ones are retried, exactly the affordable number is paid
    final = retry_contended(outcomes, calls)
    assert Counter(final) == {"paid": affordable, "insufficient_funds": THREADS - affordable}
    fund = runtime.app.repository.get(fid)
    assert (fund.balance, fund.paid) == (0, affordable * AMOUNT)
    assert sum(runtime.app.repository.get(c).paid_total for c in cases) == affordable * AMOUNT
    assert all(
        runtime.app.repository.get(c).paid_total == (AMOUNT if o == "paid" else 0)
        for c, o in zip(cases, final, strict=True)
    )


def test_parallel_payments_are_refused_only_for_lack_of_money(runtime, staff, monkeypatch):
    affordable = 12
    fid = a_fund(runtime, staff, affordable * AMOUNT)
    cases = [an_approved_case(runtime, staff, n) for n in range(THREADS)]
    read = runtime.app.repository.get

    def slow_read(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        found = read(aggregate_id, *args, **kwargs)
        if aggregate_id == fid:
            time.sleep(0.2)  # a database some milliseconds away: every payer reads before anyone writes
        return found

    monkeypatch.setattr(runtime.app.repository, "get", slow_read)

    outcomes = run_together(
        [
            (lambda c=c, i=i: runtime.relief.pay(staff["county"], c, AMOUNT, "批次01", f"NX{i:04d}"))
            for i, c in enumerate(cases)
        ]
    )

    assert Counter(outcomes) == {"paid": affordable, "insufficient_funds": THREADS - affordable}
    assert runtime.app.repository.get(fid).balance == 0


def test_parallel_payments_over_http_never_overdraw_the_fund(runtime, staff, client, as_role):
    affordable = 7
    fid = a_fund(runtime, staff, affordable * AMOUNT)
    cases = [an_approved_case(runtime, staff, n) for n in range(THREADS)]
    roles = ["county", "relief_officer"]

    def post(i: int, case_id: UUID) -> Callable[[], Any]:
        def call() -> None:
            response = client.post(
                f"/v1/relief/cases/{case_id}/payments",
                headers=as_role(roles[i % 2]),
                json={"amount_fen": AMOUNT, "batch_id": "批次01", "bank_ref": f"NX{i:04d}"},
            )
            if response.status_code != 201:
                assert response.status_code == 409, response.text
                raise DomainError("", "", code=response.json()["error"]["code"])

        return call

    calls = [post(i, c) for i, c in enumerate(cases)]
    outcomes = run_together(calls)

    assert set(outcomes) <= {"paid", "insufficient_funds", "contention"}
    shown = client.get(f"/v1/relief/funds/{fid}", headers=as_role("auditor")).json()
    assert shown["balance_fen"] == affordable * AMOUNT - outcomes.count("paid") * AMOUNT >= 0
    assert shown["paid_fen"] == sum(debited(runtime, fid))

    final = retry_contended(outcomes, calls)
    assert Counter(final) == {"paid": affordable, "insufficient_funds": THREADS - affordable}
    shown = client.get(f"/v1/relief/funds/{fid}", headers=as_role("auditor")).json()
    assert (shown["balance_fen"], shown["paid_fen"]) == (0, affordable * AMOUNT)


def test_a_returned_payment_under_load_is_paid_out_again_at_most_once(runtime, staff):
    fid = a_fund(runtime, staff, 2 * AMOUNT)
    cases = [an_approved_case(runtime, staff, n) for n in range(6)]
    runtime.relief.pay(staff["county"], cases[0], AMOUNT, "批次01", "NX0", payment_id="first")
    calls = [lambda: runtime.relief.payment_came_back(staff["county"], cases[0], "first", "银行退回", False)]
    calls += [
        (lambda c=c: runtime.relief.pay(staff["relief_officer"], c, AMOUNT, "批次02", "NX"))
        for c in cases[1:]
    ]

    final = retry_contended(run_together(calls), calls)

    assert final[0] == "paid"  # the return itself went through
    paid_again = final[1:].count("paid")
    assert paid_again in (1, 2)  # two only when the money came back before the balance ran out
    assert set(final[1:]) <= {"paid", "insufficient_funds"}
    fund = runtime.app.repository.get(fid)
    assert (fund.paid, fund.returned) == ((1 + paid_again) * AMOUNT, AMOUNT)
    assert fund.balance == (2 - paid_again) * AMOUNT >= 0
    assert sum(runtime.app.repository.get(c).paid_total for c in cases) == paid_again * AMOUNT


# --- one case, many payments -----------------------------------------------------------------------


def test_parallel_payments_on_one_case_never_exceed_its_approved_amount(runtime, staff):
    fid = a_fund(runtime, staff, 100 * AMOUNT)
    case_id = an_approved_case(runtime, staff, 1, amount=90_000)
    calls = [
        (lambda i=i: runtime.relief.pay(staff["county"], case_id, AMOUNT, "批次01", f"NX{i:04d}"))
        for i in range(THREADS)
    ]

    outcomes = run_together(calls)

    assert set(outcomes) <= {"paid", "above_approved", "contention"}
    assert outcomes.count("paid") <= 9
    assert runtime.app.repository.get(case_id).paid_total == outcomes.count("paid") * AMOUNT <= 90_000

    final = retry_contended(outcomes, calls)
    assert Counter(final) == {"paid": 9, "above_approved": THREADS - 9}
    case = runtime.app.repository.get(case_id)
    assert (case.paid_total, case.stage.value) == (90_000, "paid")
    fund = runtime.app.repository.get(fid)
    assert fund.paid == 90_000 == sum(debited(runtime, fid))
    assert fund.balance == 100 * AMOUNT - 90_000


def test_parallel_retries_of_one_idempotent_payment_pay_once(runtime, staff, client, as_role):
    fid = a_fund(runtime, staff, 100 * AMOUNT)
    case_id = an_approved_case(runtime, staff, 2, amount=90_000)
    body = {"amount_fen": 90_000, "batch_id": "批次01", "bank_ref": "NX0001"}
    headers = as_role("county", **{"Idempotency-Key": f"retry-{uuid4().hex[:8]}"})
    answers: list[Any] = []

    def call() -> None:
        response = client.post(f"/v1/relief/cases/{case_id}/payments", headers=headers, json=body)
        answers.append((response.status_code, response.json().get("id"), response.json().get("version")))

    run_together([call] * 8)

    assert {a for a in answers if a[0] == 201} == {
        (201, str(case_id), 6)
    }  # Applied … CountyApproved, PaymentMade
    assert runtime.app.repository.get(fid).paid == 90_000
    assert runtime.app.repository.get(case_id).paid_total == 90_000
    assert len(runtime.app.repository.get(case_id).payments) == 1
    assert (
        runtime.app.repository.get(fund_id(COUNTY, "winter_spring", PERIOD)).balance == 100 * AMOUNT - 90_000
    )


def test_a_retry_arriving_while_the_first_payment_runs_gets_the_first_answer(runtime, staff, monkeypatch):
    fid = a_fund(runtime, staff, 100 * AMOUNT)
    case_id = an_approved_case(runtime, staff, 3, amount=90_000)
    key = IdempotencyKey(
        staff["county"].account_id,
        "POST",
        f"/v1/relief/cases/{case_id}/payments",
        "batch01-0003",
        "same-body",
    )
    read = runtime.app.repository.get
    late = threading.local()

    def read_late(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if aggregate_id == case_id and getattr(late, "on", False):
            time.sleep(0.5)  # the retry has checked for a first answer, then waits on the database
        return read(aggregate_id, *args, **kwargs)

    monkeypatch.setattr(runtime.app.repository, "get", read_late)

    def send(is_retry: bool) -> Any:
        late.on = is_retry
        return runtime.relief.pay(staff["county"], case_id, 90_000, "批次01", "NX0003", idempotency=key)

    with ThreadPoolExecutor(max_workers=2) as pool:
        retry = pool.submit(send, True)
        time.sleep(0.05)
        first = pool.submit(send, False)
        first_answer = first.result(timeout=30)
        assert retry.result(timeout=30).id == first_answer.id  # raises InvalidInput above_approved today
    assert runtime.app.repository.get(fid).paid == 90_000


def test_parallel_applications_for_one_head_open_one_case(runtime, staff):
    township = staff["township"]

    def apply(village: str) -> Callable[[], Any]:
        return lambda: runtime.relief.apply(
            township,
            Application(
                programme="winter_spring",
                period=PERIOD,
                village=village,
                head_name="张三",
                id_number=head(999),
                phone="13800138000",
                card_number=luhn_complete("621700001001234567"),
                household_type="一般户",
                household_size=2,
                people_in_need=1,
                address="响水镇",
                causes=[],
                needs=[],
            ),
        )

    calls = [apply(VILLAGES[i % len(VILLAGES)]) for i in range(8)]
    outcomes = retry_contended(run_together(calls), calls)

    assert Counter(outcomes) == {"paid": 1, "duplicate_case": 7}  # "paid" = the call succeeded
