"""Property: following the log as it grows gives exactly the rows of a rebuild from zero.

Hypothesis files random sequences of commands — 初报 for a few (county, date,
hazard) keys, 续报 and 核报 naming random townships, 驳回 and 重报, acceptance,
核销, response levels, 勘误 of date, type and text — on a fresh store per
example, ignoring whatever the ledger refuses. The board and the statistics
follow the log in random batch sizes, catching up every few commands; then
each is rebuilt from zero and must hold the same rows. The statistics must
also equal the figures the aggregates themselves say count.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from api.settings import CIPHER_TOPIC, postgres_env, prepare_postgres
from ledger.accounts.service import local_operator
from ledger.disasters.aggregate import Disaster
from ledger.disasters.inputs import Correction, FiguresReport, InitialReport, ResponseChange
from ledger.disasters.reports import Review, Stage
from ledger.runtime import LedgerConfig, LedgerRuntime
from ledger.store.actors import Actor
from ledger.store.errors import DomainError
from projections.disasters.board import BoardProjection
from projections.disasters.statistics import LEVELS, PROCESSES, StatisticsProjection, StatisticsQuery, periods
from projections.runner import Follower, open_projection
from tests.conftest import TEST_CIPHER_KEY, TEST_PEPPER
from tests.projections.builders import (
    CHANGJIANG,
    CHENJIAGANG,
    EXPLANATION,
    HUANGWEI,
    XIANGSHUI,
    XIAOJIAN,
    XIJIAO,
    XINFENG,
    at,
    day,
    totals_of,
)

# (county, days ago, 一级灾种, 亚灾种): the process keys the commands refer to.
KEYS = [
    ("320921", 5, "flood", "river_flood"),
    ("320921", 5, "wind_hail", "hail"),
    ("320921", 3, "flood", "urban_waterlogging"),
    (CHANGJIANG, 4, "flood", "river_flood"),
]
TOWNSHIPS = {"320921": [XIANGSHUI, CHENJIAGANG, XIAOJIAN, HUANGWEI], CHANGJIANG: [XIJIAO, XINFENG]}
CORRECTED_HAZARD = {"flood": ("typhoon", "other"), "typhoon": ("flood", "mountain_flood"),
                    "wind_hail": ("flood", "other")}
AREAS = ["", "32", "3209", "320921", *TOWNSHIPS["320921"], "36", "3602", CHANGJIANG, *TOWNSHIPS[CHANGJIANG]]

# --- commands -------------------------------------------------------------------------------------

key = st.integers(0, len(KEYS) - 1)
pick = st.integers(0, 9)
one_township = st.fixed_dictionaries(
    {"affected_population": st.integers(0, 5000)},
    optional={"crop_affected_ha": st.integers(0, 10**6), "collapsed_rooms": st.integers(0, 40)},
)
figures = st.dictionaries(st.integers(0, 3), one_township, min_size=1, max_size=2)  # township index → values
commands = st.one_of(
    st.tuples(st.just("initial"), key, figures),
    st.tuples(st.just("follow_up"), key, figures),
    st.tuples(st.just("follow_up"), key, figures),
    st.tuples(st.just("final"), key, figures),
    st.tuples(st.just("return"), key, pick),
    st.tuples(st.just("return"), key, pick),
    st.tuples(st.just("refile"), key, pick, figures),
    st.tuples(st.just("refile"), key, pick, figures),
    st.tuples(st.just("accept"), key, pick),
    st.tuples(st.just("retract"), key),
    st.tuples(st.just("response"), key, st.sampled_from(["start", "start", "adjust", "end"]), st.integers(1, 4)),
    st.tuples(st.just("correct"), key, st.sampled_from(["date", "hazard", "text"])),
)


def officer(runtime: LedgerRuntime, role: str, scope: str) -> Actor:
    """An account registered by the local operator (no token: each example is short of time, not of trust)."""
    runtime.accounts.register(local_operator(), f"{role}-{scope}", role, scope)
    return runtime.accounts.get(f"{role}-{scope}").as_actor()


class Chain:
    """The officers of each county's 直报 chain, and the commands as they would file them."""

    def __init__(self, runtime: LedgerRuntime) -> None:
        self.rt = runtime
        self.county = {"320921": officer(runtime, "county", "320921"), CHANGJIANG: officer(runtime, "county", CHANGJIANG)}
        self.city = {"320921": officer(runtime, "city", "3209"), CHANGJIANG: officer(runtime, "city", "3602")}
        self.ids: dict[int, UUID] = {}  # the latest process of each key
        self.opened: list[UUID] = []  # every process opened (a key freed by 核销 or 勘误 opens another)
        self.step = 0
        self.recorded: set[str] = set()  # the kinds of command the ledger accepted (--hypothesis-show-statistics)

    def now(self, k: int) -> datetime:
        """Each command a few minutes after the last, on the key's day (so as_of only moves forward)."""
        return at(KEYS[k][1], 8) + timedelta(minutes=5 * self.step)

    def figures(self, k: int, raw: dict[int, dict[str, int]]) -> dict[str, dict[str, Any]]:
        townships = TOWNSHIPS[KEYS[k][0]]
        out: dict[str, dict[str, Any]] = {}
        for index, values in raw.items():
            out[townships[index % len(townships)]] = {
                name: f"{Decimal(v) / 100:.2f}" if name.endswith("_ha") else v for name, v in values.items()
            }
        return out

    def numbers(self, k: int, review: Review, refiled: bool | None = None) -> list[int]:
        disaster = self.disaster(k)
        if disaster is None:
            return []
        reports = [disaster.report(n) for n in range(1, disaster.report_count + 1)]
        return [r["number"] for r in reports
                if r["review"] is review and (refiled is None or (disaster.refiled_as(r["number"]) is not None) == refiled)]

    def disaster(self, k: int) -> Disaster | None:
        return self.rt.disasters.get(local_operator(), self.ids[k]) if k in self.ids else None

    def run(self, command: tuple[Any, ...]) -> None:
        self.step += 1
        before = self.rt.position()
        try:
            self._run(*command)
        except DomainError:
            return  # the ledger refused it: nothing was recorded
        if self.rt.position() > before:
            self.recorded.add(f"{command[0]}:{command[2] if command[0] == 'correct' else ''}".rstrip(":"))

    def _run(self, kind: str, k: int, *args: Any) -> None:
        if kind == "initial":
            self._open(k, args[0])
            return
        if not self.ids:
            return
        if k not in self.ids:  # commands are about processes that were opened
            k = sorted(self.ids)[k % len(self.ids)]
        if kind in ("follow_up", "final", "refile"):
            self._file(kind, k, *args)
        elif kind in ("return", "accept"):
            self._review(kind, k, args[0])
        elif kind == "retract":
            self.rt.disasters.retract(self.city[KEYS[k][0]], self.ids[k], "经核实不属于自然灾害")
        elif kind == "response":
            action, level = args
            self.rt.disasters.change_response(self.county[KEYS[k][0]], self.ids[k], ResponseChange(
                action=action, level=level, plan="自然灾害救助应急预案", plan_version="2023",
                government_level="county", decided_at=self.now(k), reason="灾情变化",
            ))
        elif kind == "correct":
            self._correct(k, args[0])

    def _open(self, k: int, raw: dict[int, dict[str, int]]) -> None:
        county, days_ago, hazard, subtype = KEYS[k]
        result = self.rt.disasters.file_initial(self.county[county], InitialReport(
            county=county, hazard=hazard, subtype=subtype, occurred_at=at(days_ago, 8),
            figures=self.figures(k, raw), text="灾情初报", explanation=EXPLANATION,
        ))
        self.ids[k] = result.id
        self.opened.append(result.id)

    def _file(self, kind: str, k: int, *args: Any) -> None:
        county, disaster_id = KEYS[k][0], self.ids[k]
        report = FiguresReport(figures=self.figures(k, args[-1]), as_of=self.now(k), explanation=EXPLANATION)
        if kind == "follow_up":
            self.rt.disasters.file_follow_up(self.county[county], disaster_id, report)
        elif kind == "final":
            self.rt.disasters.file_final(self.county[county], disaster_id, report)
        elif returned := self.numbers(k, Review.RETURNED, refiled=False):
            self.rt.disasters.refile(self.county[county], disaster_id, returned[args[0] % len(returned)], report)

    def _review(self, kind: str, k: int, pick: int) -> None:
        submitted = self.numbers(k, Review.SUBMITTED)
        if not submitted:
            return
        number, reviewer = submitted[pick % len(submitted)], self.city[KEYS[k][0]]
        if kind == "return":
            self.rt.disasters.return_report(reviewer, self.ids[k], number, "数字有误，请核实")
        else:
            self.rt.disasters.accept(reviewer, self.ids[k], number)

    def _correct(self, k: int, what: str) -> None:
        disaster = self.disaster(k)
        assert disaster is not None
        if what == "date":
            moved = day(KEYS[k][1] + 1) if disaster.disaster_date == day(KEYS[k][1]) else day(KEYS[k][1])
            correction = Correction(reason="日期填错", disaster_date=moved)
        elif what == "hazard":
            hazard, subtype = CORRECTED_HAZARD[disaster.hazard]
            subtype = subtype if self.step % 2 else None  # a new 一级灾种 with or without its 亚灾种
            correction = Correction(reason="灾种填错", hazard=hazard, subtype=subtype)
        else:
            correction = Correction(reason="文字勘误", text=f"勘误后的灾情描述（第 {self.step} 步）")
        self.rt.disasters.correct(self.city[KEYS[k][0]], self.ids[k], correction)


# --- stores and views -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_store(request: pytest.FixtureRequest, area_table: Any) -> Callable[[], Any]:
    """A context manager giving a runtime over a new, empty store (one per Hypothesis example)."""
    cipher = {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": TEST_CIPHER_KEY}

    @contextmanager
    def sqlite() -> Iterator[LedgerRuntime]:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**cipher, "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{tmp}/ledger.sqlite"}
            with LedgerRuntime(LedgerConfig(env, TEST_PEPPER, data_dir=Path(tmp)), areas=area_table) as rt:
                yield rt

    @contextmanager
    def postgres() -> Iterator[LedgerRuntime]:
        import psycopg

        database = request.getfixturevalue("postgres_database")
        schema = f"p_{uuid.uuid4().hex[:16]}"
        env = {**cipher, **postgres_env(f"{database}?schema={schema}"), "POSTGRES_POOL_SIZE": "2"}
        prepare_postgres(env)
        try:
            with LedgerRuntime(LedgerConfig(env, TEST_PEPPER), areas=area_table) as rt:
                yield rt
        finally:
            with psycopg.connect(database, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return sqlite if request.param == "sqlite" else postgres


@contextmanager
def following(runtime: LedgerRuntime, batch: int) -> Iterator[tuple[Follower, Follower]]:
    with ExitStack() as stack:
        followers = []
        for projection_class in (BoardProjection, StatisticsProjection):
            projection = open_projection(projection_class, runtime.config.persistence, runtime.config.data_dir)
            stack.callback(projection.view.close)
            followers.append(Follower(runtime.app, projection, batch=batch))
        yield followers[0], followers[1]


def snapshot(board: Follower, statistics: Follower) -> dict[str, list[dict[str, Any]]]:
    return {
        "board": board.projection.view.query("SELECT * FROM {t}_rows ORDER BY disaster_id"),
        "state": statistics.projection.view.query("SELECT * FROM {t}_state ORDER BY disaster_id"),
        "figures": statistics.projection.view.query(
            "SELECT * FROM {t}_figures ORDER BY disaster_id, township, indicator"
        ),
        "totals": statistics.projection.view.query(
            "SELECT * FROM {t}_totals ORDER BY level, area, period, hazard, subtype, indicator"
        ),
        "stacks": statistics.projection.view.query("SELECT * FROM {t}_stacks ORDER BY disaster_id, township, indicator"),
        "board stacks": board.projection.view.query("SELECT * FROM {t}_stacks ORDER BY disaster_id, township, indicator"),
        "reports": board.projection.view.query("SELECT * FROM {t}_reports ORDER BY disaster_id, number"),
    }


# --- what the aggregates say ----------------------------------------------------------------------


def counting(chain: Chain) -> list[Disaster]:
    """The processes that count: not retracted."""
    found = [chain.rt.disasters.get(local_operator(), i) for i in chain.opened]
    return [d for d in found if d is not None and d.stage is not Stage.RETRACTED]


def expected_statistics(processes_that_count: list[Disaster], area: str) -> tuple[dict[str, Decimal], int]:
    totals: dict[str, Decimal] = {}
    processes = 0
    for disaster in processes_that_count:
        within = {t: f for t, f in disaster.township_figures().items() if t.startswith(area)}
        processes += bool(within)
        for figures in within.values():
            for name, value in figures.items():
                totals[name] = totals.get(name, Decimal(0)) + value
    return totals, processes


def totals_from_scratch(processes_that_count: list[Disaster]) -> dict[tuple[Any, ...], tuple[int, int]]:
    """The pre-aggregated table summed afresh from the aggregates: (level, area, period — day, month, year —,
    一级灾种, 亚灾种 from the county level down, indicator) → (hundredths, values summed); `#` counts processes."""
    out: dict[tuple[Any, ...], list[int]] = {}
    for d in processes_that_count:
        areas = set()
        for township, figures in d.township_figures().items():
            for level in LEVELS:
                for period in periods(d.disaster_date.isoformat()):
                    place = (level, township[:level], period, d.hazard, (d.subtype or "") if level >= 6 else "")
                    areas.add(place)
                    for name, value in figures.items():
                        total = out.setdefault((*place, name), [0, 0])
                        total[0] += int(value * 100)
                        total[1] += 1
        for place in areas:
            out.setdefault((*place, PROCESSES), [0, 0])[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def totals_table(statistics: Follower) -> dict[tuple[Any, ...], tuple[int, int]]:
    return {(r["level"], r["area"], r["period"], r["hazard"], r["subtype"], r["indicator"]):
            (int(r["hundredths"]), int(r["entries"]))
            for r in statistics.projection.view.query("SELECT * FROM {t}_totals")}


def expected_board_row(disaster: Disaster) -> dict[str, Any]:
    retracted = disaster.stage is Stage.RETRACTED
    return {
        "county": disaster.county, "hazard": disaster.hazard, "subtype": disaster.subtype,
        "disaster_date": disaster.disaster_date.isoformat(), "stage": disaster.stage.value,
        "response_level": disaster.response["level"] if disaster.response else None,
        "review_status": disaster.report(disaster.report_count)["review"].value,
        "report_count": disaster.report_count,
        "totals": {} if retracted else disaster.county_totals(),
    }


# --- the property ---------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    opening=st.lists(key, min_size=1, max_size=len(KEYS), unique=True),
    opening_figures=figures,
    steps=st.lists(commands, min_size=5, max_size=25),
    every=st.integers(1, 4),
    batch=st.integers(1, 6),
)
def test_following_the_log_gives_the_rows_of_a_rebuild_from_zero(fresh_store, opening, opening_figures, steps,
                                                                   every, batch):
    with fresh_store() as runtime, following(runtime, batch) as (board, statistics):
        chain = Chain(runtime)
        for i, command in enumerate([("initial", k, opening_figures) for k in opening] + steps):
            chain.run(command)
            if i % every == 0:
                board.catch_up()
                statistics.catch_up()
        board.catch_up()
        statistics.catch_up()
        incremental = snapshot(board, statistics)
        for kind in sorted(chain.recorded):
            event(f"recorded {kind}")

        board.rebuild()
        statistics.rebuild()

        assert snapshot(board, statistics) == incremental
        assert board.position() == statistics.position() == runtime.position()
        processes_that_count = counting(chain)
        for area in AREAS:
            result = statistics.projection.view.statistics(
                StatisticsQuery(area=area, date_from=day(30).isoformat(), date_to=day(2).isoformat())
            )
            assert (result.totals, result.processes) == expected_statistics(processes_that_count, area), area
        rows = board.projection.view.get([str(i) for i in chain.ids.values()])
        for k, disaster_id in chain.ids.items():
            expected = expected_board_row(chain.disaster(k))
            row = rows[str(disaster_id)]
            assert {**{name: row[name] for name in expected}, "totals": totals_of(row)} == expected


@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    opening=st.lists(key, min_size=1, max_size=len(KEYS), unique=True),
    opening_figures=figures,
    steps=st.lists(commands, min_size=5, max_size=25),
    every=st.integers(1, 4),
    batch=st.integers(1, 6),
)
def test_the_statistics_kept_by_deltas_equal_a_sum_from_scratch(fresh_store, opening, opening_figures, steps,
                                                                 every, batch):
    """Returns, refilings, corrections of date or type and 核销 subtract exactly what they had added: after
    every catch-up the pre-aggregated table is the sum of what the aggregates say counts, row for row."""
    with fresh_store() as runtime, following(runtime, batch) as (_, statistics):
        chain = Chain(runtime)
        for i, command in enumerate([("initial", k, opening_figures) for k in opening] + steps):
            chain.run(command)
            if i % every == 0:
                statistics.catch_up()
                assert totals_table(statistics) == totals_from_scratch(counting(chain))
        statistics.catch_up()
        assert totals_table(statistics) == totals_from_scratch(counting(chain))
