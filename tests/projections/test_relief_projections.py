"""Relief read models: the roster (花名册), fund balances, 冬春 statistics and overdue work.

Relief commands run through `runtime.relief` as the test accounts of 响水县
(320921); the followers then read the log. Every test runs on SQLite and on
PostgreSQL. The story (`relief_story`) is told with civil dates relative to
today in Beijing, so each posting has already ended.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.households.evidence import Evidence
from ledger.personal.identifiers import id_check_digit, mask_card, mask_id, mask_phone
from ledger.relief.applications import Application
from ledger.relief.fund import fund_id
from ledger.relief.service import CHINA
from ledger.runtime import LedgerRuntime
from ledger.store.actors import Actor
from projections.relief.funds import FundsProjection
from projections.relief.roster import RosterProjection
from projections.runner import Follower, open_projection
from tests.projections.builders import an_officer

COUNTY = "320921"  # 响水县
XIANGSHUI = "320921100"  # 响水镇 (the township account's)
CHENJIAGANG = "320921101"  # 陈家港镇
DONGYUAN = "320921100001"  # 东园居委会 (响水镇)
CHENGDONG = "320921100002"  # 城东居委会 (响水镇)
HAIAN = "320921101001"  # 海安居委会 (陈家港镇)
WS = "winter_spring"
PERIOD = f"{datetime.now(CHINA).year}-{datetime.now(CHINA).year + 1}"  # the season of this winter
OTHER_PERIOD = f"{datetime.now(CHINA).year + 1}-{datetime.now(CHINA).year + 2}"


def an_id_number(seq: int) -> str:
    """A valid GB 11643 number of someone registered in 响水县."""
    first17 = f"320921{1950 + seq}0315{100 + seq:03d}"
    return first17 + id_check_digit(first17)


def a_card(seq: int) -> str:
    """A 19-digit 一卡通 card number passing the Luhn check."""
    body = f"6217{seq:014d}"
    for digit in "0123456789":
        total = 0
        for i, d in enumerate(reversed(body + digit)):
            n = int(d) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return body + digit
    raise AssertionError("unreachable")


@dataclass
class Household:
    letter: str
    village: str
    name: str
    size: int
    need: int
    seq: int
    programme: str = WS
    case_id: str = ""

    @property
    def id_number(self) -> str:
        return an_id_number(self.seq)

    @property
    def phone(self) -> str:
        return f"139{self.seq:08d}"

    @property
    def card(self) -> str:
        return a_card(self.seq)


@dataclass
class Story:
    """The cases by letter, the fund, and the log position after each step."""

    households: dict[str, Household]
    today: date  # the clock's day once every posting has run its seven days
    fund: str
    positions: list[int] = field(default_factory=list)
    started: date = date.min  # the day the story began (applications, assessments, postings)

    def __getitem__(self, letter: str) -> Household:
        return self.households[letter]

    @property
    def secrets(self) -> list[str]:
        return [s for h in self.households.values() for s in (h.id_number, h.phone, h.card)]


def households() -> dict[str, Household]:
    """A paid (goods too), B above the cap, paid then returned, C approved and unpaid, D posted with an open
    objection, E rejected, F township-reviewed, G paid, reversed and paid again; H the same head as A
    in another programme of the period (flagged)."""
    rows = [
        Household("A", DONGYUAN, "张三", 3, 2, 1),
        Household("B", CHENGDONG, "李四", 5, 4, 2),
        Household("C", DONGYUAN, "王五", 1, 1, 3),
        Household("D", HAIAN, "赵六", 2, 2, 4),
        Household("E", CHENGDONG, "孙七", 2, 1, 5),
        Household("F", DONGYUAN, "周八", 4, 3, 6),
        Household("G", HAIAN, "吴九", 2, 2, 7),
        Household("H", DONGYUAN, "张三", 3, 1, 1, programme="emergency"),
    ]
    return {h.letter: h for h in rows}


def tell_story(runtime: LedgerRuntime, officers: dict[str, Actor],
               midway: Callable[[], None] | None = None) -> Story:
    """Allocate, apply, assess, post, review, approve, pay, return, reverse, issue goods.

    Fund 响水县 冬春 2025-2026: central 5000.00, provincial 2000.00, city 1000.00, county 500.00 元;
    100.00 given back; paid A 600 + B 400 + G 500 + G 500 = 2000.00; returned B 400 + G 500 = 900.00;
    balance 8500 − 100 − 2000 + 900 = 7300.00 元.
    """
    relief = runtime.relief
    town, county, officer = officers["township"], officers["county"], officers["relief_officer"]
    town_cjg = an_officer(runtime, "township", CHENJIAGANG)
    today = runtime.now().astimezone(CHINA).date()
    story = Story(households(), today, str(fund_id(COUNTY, WS, PERIOD)), started=today)
    log = story.positions.append

    for source, amount in (("central", 500_000), ("provincial", 200_000), ("city", 100_000), ("county", 50_000)):
        log(relief.allocate(officer, COUNTY, WS, PERIOD, source, amount, f"苏财救〔2025〕{source}").position)
    log(relief.give_back(county, fund_id(COUNTY, WS, PERIOD), 10_000, "响财〔2025〕9号", "结余收回").position)
    log(relief.allocate(officer, COUNTY, "emergency", PERIOD, "central", 3_000_000_000, "财建〔2025〕1号").position)

    for h in story.households.values():
        filer = town if h.village.startswith(XIANGSHUI) else county
        result = relief.apply(filer, Application(
            programme=h.programme, period=PERIOD, village=h.village, head_name=h.name, id_number=h.id_number,
            phone=h.phone, card_number=h.card, household_type="一般户", household_size=h.size,
            people_in_need=h.need, address=f"{h.name}家 1 号", causes=["flood"], needs=["food", "clothing"],
            applied_on=today - timedelta(days=30),
        ))
        h.case_id = str(result.id)
        log(result.position)
    if midway is not None:
        midway()

    def through_posting(h: Household) -> None:
        actor = town if h.village.startswith(XIANGSHUI) else town_cjg
        log(relief.assess(actor, _id(h), "村民代表会议纪要 1 号", True, today - timedelta(days=1)).position)
        log(relief.post(actor, _id(h), today - timedelta(days=1), today + timedelta(days=5), "村务公开栏").position)

    for letter in "ABCFGD":
        through_posting(story[letter])
    log(relief.raise_objection(town_cjg, _id(story["D"]), "家庭收入情况有异议", today).position)
    runtime.config.clock.advance(days=8)  # type: ignore[attr-defined]  # the postings have run their course
    story.today = runtime.now().astimezone(CHINA).date()
    for letter in "ABCFG":
        actor = town if story[letter].village.startswith(XIANGSHUI) else town_cjg
        log(relief.township_review(actor, _id(story[letter])).position)
    log(relief.reject(town, _id(story["E"]), "经核实不符合救助条件").position)

    a, b, c, g = story["A"], story["B"], story["C"], story["G"]
    log(relief.approve(county, _id(a), 60_000, None).position)
    log(relief.approve(county, _id(b), 150_000, "重点救助: 因灾倒房户").position)  # above 4 × 300 元
    log(relief.approve(officer, _id(c), 30_000, None).position)
    log(relief.approve(county, _id(g), 50_000, None).position)
    log(relief.pay(officer, _id(a), 60_000, "2025-01", "BANK-A1").position)
    log(relief.issue_goods(county, _id(a), "棉被", 2, 5_000, evidence=[PHOTO]).position)
    log(relief.pay(officer, _id(b), 40_000, "2025-01", "BANK-B1", payment_id="b1").position)
    log(relief.payment_came_back(officer, _id(b), "b1", "账户已销户", reversal=False).position)
    log(relief.pay(officer, _id(g), 50_000, "2025-01", "BANK-G1", payment_id="g1").position)
    log(relief.payment_came_back(officer, _id(g), "g1", "重复发放冲正", reversal=True).position)
    log(relief.pay(officer, _id(g), 50_000, "2025-02", "BANK-G2", payment_id="g2").position)
    return story


PHOTO = Evidence("sha256:" + "cd" * 32, "image/jpeg", "发放照片.jpg")


def _id(h: Household) -> Any:
    from uuid import UUID

    return UUID(h.case_id)


# --- fixtures (`officers`: tests/projections/conftest.py) ----------------------------------------------------------------------------------


@pytest.fixture
def follower_of(runtime: LedgerRuntime) -> Iterator[Callable[..., Follower]]:
    """follower_of(RosterProjection) → a follower whose view has the personal-data key; closed afterwards."""
    opened: list[Follower] = []

    def make(projection_class: type, batch: int = 500, pii: Any = "runtime") -> Follower:
        key = runtime.pii if pii == "runtime" else pii
        projection = open_projection(projection_class, runtime.config.persistence, runtime.config.data_dir, key)
        follower = Follower(runtime.app, projection, batch=batch)
        opened.append(follower)
        return follower

    yield make
    for follower in opened:
        follower.close()


@pytest.fixture
def story(runtime: LedgerRuntime, officers: dict[str, Actor]) -> Story:
    return tell_story(runtime, officers)


@pytest.fixture
def roster(follower_of: Callable[..., Follower], story: Story) -> Any:
    follower = follower_of(RosterProjection)
    follower.catch_up()
    return follower.projection.view


# --- the roster --------------------------------------------------------------------------------


def by_letter(story: Story, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    letters = {h.case_id: letter for letter, h in story.households.items()}
    return {letters[r["case_id"]]: r for r in rows}


def test_the_roster_has_a_row_per_case_with_the_table_10_columns(story: Story, roster: Any) -> None:
    rows = by_letter(story, roster.rows(WS, PERIOD, COUNTY, None, 100))
    assert sorted(rows) == list("ABCDEFG")  # H is in another programme
    assert {k: rows[k]["stage"] for k in rows} == {
        "A": "paid", "B": "approved", "C": "approved", "D": "posted", "E": "rejected", "F": "township_reviewed",
        "G": "paid",
    }
    a = rows["A"]
    assert (a["head_name"], a["household_type"], a["household_size"], a["address"], a["people_in_need"]) == (
        "张*", "一般户", 3, "张三家 1 *", 2)  # names and addresses masked at rest
    assert (a["paid_fen"], a["goods_fen"], a["payment_form"], a["approved_fen"]) == (60_000, 5_000, "一卡通", 60_000)
    assert (a["programme"], a["period"], a["county"], a["township"], a["village"]) == (WS, PERIOD, COUNTY, XIANGSHUI,
                                                                                       DONGYUAN)
    assert a["applied_on"] == (story.started - timedelta(days=30)).isoformat()
    assert a["posting_end"] == (story.started + timedelta(days=5)).isoformat()
    assert a["updated_at"] > a["approved_at"] > a["reviewed_at"]
    b, d, g = rows["B"], rows["D"], rows["G"]
    assert (b["approved_fen"], b["paid_fen"], b["returned_fen"], b["returned_count"], b["payment_count"]) == (
        150_000, 0, 40_000, 1, 1)
    assert json.loads(b["review_flags"]) == ["above_cap"]
    assert (g["paid_fen"], g["returned_fen"], g["payment_count"], g["returned_count"]) == (50_000, 50_000, 2, 1)
    assert d["open_objections"] == 1
    assert rows["F"]["open_objections"] == 0 and rows["C"]["paid_fen"] == 0

    [h] = roster.rows("emergency", PERIOD, COUNTY, None, 10)
    assert json.loads(h["review_flags"]) == ["also_in:winter_spring"] and h["id_hash"] == a["id_hash"]


def test_roster_pages_by_case_id_within_an_area(story: Story, roster: Any) -> None:
    everything = roster.rows(WS, PERIOD, "32", None, 100)
    ids = [r["case_id"] for r in everything]
    assert ids == sorted(ids) and len(ids) == 7
    first = roster.rows(WS, PERIOD, COUNTY, None, 3)
    second = roster.rows(WS, PERIOD, COUNTY, first[-1]["case_id"], 3)
    third = roster.rows(WS, PERIOD, COUNTY, second[-1]["case_id"], 3)
    assert [r["case_id"] for r in first + second + third] == ids and len(third) == 1
    assert [r["case_id"] for r in roster.iter_rows(WS, PERIOD, COUNTY, batch=2)] == ids
    assert roster.count(WS, PERIOD, COUNTY) == 7 and roster.count(WS, PERIOD, "3209") == 7
    assert set(by_letter(story, roster.rows(WS, PERIOD, CHENJIAGANG, None, 10))) == {"D", "G"}
    assert set(by_letter(story, roster.rows(WS, PERIOD, DONGYUAN, None, 10))) == {"A", "C", "F"}
    assert roster.count(WS, PERIOD, XIANGSHUI) == 5
    assert roster.rows(WS, PERIOD, "360202", None, 10) == [] and roster.count(WS, OTHER_PERIOD, COUNTY) == 0
    assert roster.get(story["A"].case_id)["head_name"] == "张*"


def test_personal_data_is_never_in_clear_in_the_views(runtime: LedgerRuntime, story: Story, roster: Any,
                                                      follower_of: Callable[..., Follower], backend: dict[str, str]
                                                      ) -> None:
    funds = follower_of(FundsProjection)
    funds.catch_up()
    seen = []
    for view in (roster, funds.projection.view):
        for table in view.view_tables():
            for row in view.query(f"SELECT * FROM {table}"):
                seen += [str(v) for v in row.values()]
    assert len(seen) > 100
    text = "\n".join(seen)
    for secret in story.secrets:
        assert secret not in text
    if backend["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":  # nor in the file's bytes (WAL included)
        ledger = Path(backend["SQLITE_DBNAME"])
        raw = b"".join(p.read_bytes() for p in ledger.parent.glob(f"{ledger.stem}.roster*"))
        assert raw and not any(s.encode() in raw for s in story.secrets)

    pii = runtime.pii
    for letter, row in by_letter(story, roster.rows(WS, PERIOD, COUNTY, None, 100)).items():
        h = story[letter]
        assert (row["id_masked"], row["phone_masked"], row["card_masked"]) == (
            mask_id(h.id_number), mask_phone(h.phone), mask_card(h.card))
        assert row["id_masked"].startswith(COUNTY) and "*" in row["id_masked"]
        assert (pii.decrypt(row["id_cipher"]), pii.decrypt(row["phone_cipher"]), pii.decrypt(row["card_cipher"])) == (
            h.id_number, h.phone, h.card)
        assert row["id_hash"] == pii.hash("id_number", h.id_number)


def test_the_roster_needs_the_personal_data_key(follower_of: Callable[..., Follower], story: Story) -> None:
    follower = follower_of(RosterProjection, pii=None)
    with pytest.raises(RuntimeError, match="personal-data key"):
        follower.catch_up()
    assert follower.position() < story.positions[-1]
    assert follower.projection.view.query("SELECT COUNT(*) AS n FROM {t}_rows")[0]["n"] == 0


# --- funds ---------------------------------------------------------------------------------------


def test_fund_balances_by_source(runtime: LedgerRuntime, officers: dict[str, Actor], story: Story,
                                 follower_of: Callable[..., Follower], roster: Any) -> None:
    funds = follower_of(FundsProjection, batch=4)
    funds.catch_up()
    view = funds.projection.view
    [fund] = view.funds(COUNTY, WS, PERIOD)
    assert fund["fund_id"] == story.fund
    assert fund["allocated"] == {"central": 500_000, "provincial": 200_000, "city": 100_000, "county": 50_000}
    assert (fund["allocated_total"], fund["given_back"], fund["paid"], fund["returned"], fund["balance"]) == (
        850_000, 10_000, 200_000, 90_000, 730_000)
    assert len(fund["documents"]) == 4
    aggregate = runtime.relief.fund(officers["county"], fund_id(COUNTY, WS, PERIOD))
    assert fund["balance"] == aggregate.balance and fund["version"] == aggregate.version

    [big] = view.funds("3209", "emergency")
    assert big["allocated_central"] == big["balance"] == 3_000_000_000  # beyond 32 bits, exact
    assert [f["programme"] for f in view.funds(XIANGSHUI)] == ["emergency", WS]  # a township sees its county's
    assert view.funds("360202") == [] and view.funds(COUNTY, period="2026") == []

    # the cases' side agrees: paid net of returns = fund paid − returned
    [cases] = roster.funds(COUNTY, WS, PERIOD)
    assert (cases["households"], cases["approved_fen"], cases["paid_fen"], cases["returned_fen"], cases["goods_fen"]) == (
        4, 290_000, 110_000, 90_000, 5_000)
    assert cases["paid_fen"] == fund["paid"] - fund["returned"]


# --- 冬春 statistics -----------------------------------------------------------------------------


NEED_AND_AIDED_XIANGSHUI = {"need_households": 4, "need_people": 10, "aided_households": 1, "aided_people": 2,
                            "paid_fen": 60_000, "goods_fen": 5_000}
NEED_AND_AIDED_CHENJIAGANG = {"need_households": 1, "need_people": 2, "aided_households": 1, "aided_people": 2,
                              "paid_fen": 50_000, "goods_fen": 0}


def test_winter_spring_need_and_aided(story: Story, roster: Any) -> None:
    county = roster.winter_spring_statistics(COUNTY, PERIOD)
    assert county.totals == {"need_households": 5, "need_people": 12, "aided_households": 2, "aided_people": 4,
                             "paid_fen": 110_000, "goods_fen": 5_000}
    assert county.breakdown == {XIANGSHUI: NEED_AND_AIDED_XIANGSHUI, CHENJIAGANG: NEED_AND_AIDED_CHENJIAGANG}

    city = roster.winter_spring_statistics("3209", PERIOD)
    assert city.totals == county.totals and list(city.breakdown) == [COUNTY]
    assert roster.winter_spring_statistics("32", PERIOD).breakdown == {"3209": county.totals}

    township = roster.winter_spring_statistics(XIANGSHUI, PERIOD)
    assert township.totals == NEED_AND_AIDED_XIANGSHUI
    assert township.breakdown == {
        DONGYUAN: {"need_households": 3, "need_people": 6, "aided_households": 1, "aided_people": 2,
                   "paid_fen": 60_000, "goods_fen": 5_000},
        CHENGDONG: {"need_households": 1, "need_people": 4, "aided_households": 0, "aided_people": 0,
                    "paid_fen": 0, "goods_fen": 0},  # B's payment came back; E was rejected
    }
    village = roster.winter_spring_statistics(HAIAN, PERIOD)  # D is only posted: no need yet
    assert village.totals == NEED_AND_AIDED_CHENJIAGANG and list(village.breakdown) == [HAIAN]
    assert roster.winter_spring_statistics(COUNTY, OTHER_PERIOD).totals["need_households"] == 0


# --- overdue work --------------------------------------------------------------------------------


def kinds_of(story: Story, items: list[dict[str, Any]]) -> dict[str, list[str]]:
    letters = {h.case_id: letter for letter, h in story.households.items()}
    out: dict[str, list[str]] = {}
    for item in items:
        out.setdefault(item["kind"], []).append(letters[item["case_id"]])
    return {k: sorted(v) for k, v in out.items()}


def test_overdue_work_of_each_kind(runtime: LedgerRuntime, story: Story, roster: Any) -> None:
    today = story.today
    rules = replace(runtime.relief_rules, spring_festival={PERIOD: today + timedelta(days=20)},
                    spring_festival_warning_days=30)
    items = roster.overdue(COUNTY, today, rules)
    assert kinds_of(story, items) == {
        "posting_ended_not_reviewed": ["D"],
        "approved_unpaid": ["C"],
        "payment_returned_not_reissued": ["B"],
        "unpaid_before_spring_festival": ["B", "C"],
    }
    d = next(i for i in items if i["kind"] == "posting_ended_not_reviewed")
    assert (d["since"], d["days_overdue"], d["open_objections"], d["head_name"]) == (
        story.started + timedelta(days=6), 2, 1, "赵*")
    b = next(i for i in items if i["kind"] == "payment_returned_not_reissued")
    assert (b["approved_fen"], b["paid_fen"], b["returned_fen"], b["since"]) == (150_000, 0, 40_000, story.started)
    c = next(i for i in items if i["kind"] == "approved_unpaid")
    assert c["since"] == story.started and c["days_overdue"] == 8  # recorded today, overdue by the clock
    spring = [i for i in items if i["kind"] == "unpaid_before_spring_festival"]
    assert {i["due"] for i in spring} == {today + timedelta(days=20)}
    assert roster.overdue_counts(COUNTY, today, rules) == {
        "posting_ended_not_reviewed": 1, "approved_unpaid": 1, "payment_returned_not_reissued": 1,
        "unpaid_before_spring_festival": 2, "township_review_late": 0, "county_decision_late": 0,  # 河南 10 days
    }

    # scope, kinds and limit
    assert kinds_of(story, roster.overdue(XIANGSHUI, today, rules)).get("posting_ended_not_reviewed") is None
    assert roster.overdue("360202", today, rules) == []
    assert len(roster.overdue(COUNTY, today, rules, kinds=["unpaid_before_spring_festival"], limit=1)) == 1

    # the posting ends on its last day: reviewable (so overdue) from the next
    assert "posting_ended_not_reviewed" not in kinds_of(story, roster.overdue(COUNTY, today - timedelta(days=10),
                                                                                rules))
    # 春节 warning: from festival − warning days on; never for a period without a known 春节
    boundary = replace(rules, spring_festival={PERIOD: today + timedelta(days=30)})
    assert "unpaid_before_spring_festival" in kinds_of(story, roster.overdue(COUNTY, today, boundary))
    early = replace(rules, spring_festival={PERIOD: today + timedelta(days=31)})
    assert "unpaid_before_spring_festival" not in kinds_of(story, roster.overdue(COUNTY, today, early))
    assert "unpaid_before_spring_festival" not in roster.overdue_counts(COUNTY, today, replace(rules,
                                                                                                spring_festival={}))


# --- rebuild --------------------------------------------------------------------------------------


def test_rebuild_equals_incremental(runtime: LedgerRuntime, officers: dict[str, Actor],
                                    follower_of: Callable[..., Follower]) -> None:
    roster, funds = follower_of(RosterProjection, batch=3), follower_of(FundsProjection, batch=3)

    def catch_up() -> None:
        roster.catch_up()
        funds.catch_up()

    story = tell_story(runtime, officers, midway=catch_up)  # part of the log is processed mid-story
    catch_up()
    assert roster.position() == funds.position() == runtime.position()

    def snapshot() -> dict[str, list[dict[str, Any]]]:
        rows = roster.projection.view.query("SELECT * FROM {t}_rows ORDER BY case_id")
        for r in rows:  # ciphertexts differ (fresh nonces); what they hide must not
            for column in ("id_cipher", "phone_cipher", "card_cipher", "head_name_cipher", "address_cipher"):
                r[column] = runtime.pii.decrypt(r.pop(column))
        view = roster.projection.view
        return {"roster": rows, "funds": funds.projection.view.query("SELECT * FROM {t}_funds ORDER BY fund_id"),
                "persons": view.query("SELECT * FROM {t}_persons ORDER BY case_id, kind, hash"),
                "moments": view.query("SELECT * FROM {t}_relief_moments ORDER BY case_id, ref")}

    incremental = snapshot()
    assert len(incremental["roster"]) == len(story.households) and len(incremental["funds"]) == 2
    roster.rebuild()
    funds.rebuild()
    assert snapshot() == incremental
    assert roster.position() == funds.position() == runtime.position()
