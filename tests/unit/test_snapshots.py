"""Snapshots are a cache: an aggregate read from its snapshot is the aggregate replayed from its events,
value for value and type for type (enums stay enums, dates stay dates)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from ledger.relief.fund import fund_id
from ledger.store.application import Ledger
from tests.unit.builders import COUNTY, a_disaster, follow_up, july, township
from tests.unit.test_relief import PERIOD, WS, a_fund, approved, pay, rt, staff  # noqa: F401 (fixtures)


def typed(value: Any) -> Any:
    """A value with the type of every part spelled out (so "x" and Stage.X differ)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [typed(v) for v in value]
    return (type(value).__name__ if not isinstance(value, Enum) else type(value).__qualname__, value)


def from_snapshot_and_replayed(app: Any, aggregate_id: Any) -> tuple[Any, Any]:
    app.take_snapshot(aggregate_id)
    [snapshot] = list(app.snapshots.get(aggregate_id, desc=True, limit=1))
    replayed = None
    for e in app.events.get(aggregate_id):
        replayed = e.mutate(replayed)
    return snapshot.mutate(None), replayed


def test_a_relief_case_and_its_fund_read_from_snapshots_are_the_replayed_ones(rt, staff):  # noqa: F811
    a_fund(rt, staff)
    case_id = approved(rt, staff)
    pay(rt, staff.county, case_id, 30000)
    for aggregate_id in (case_id, fund_id(COUNTY, WS, PERIOD)):
        snapshotted, replayed = from_snapshot_and_replayed(rt.app, aggregate_id)
        assert typed(vars(snapshotted)) == typed(vars(replayed))


def test_a_disaster_read_from_a_snapshot_is_the_replayed_one():
    app = Ledger(env={})
    disaster = a_disaster()
    follow_up(disaster, township(affected_population=1300))
    disaster.return_report(2, "数据未经核实", {"username": "city", "role": "city"})
    follow_up(disaster, township(affected_population=1310), as_of=july(2), refiles=2)
    app.save(disaster)
    snapshotted, replayed = from_snapshot_and_replayed(app, disaster.id)
    assert typed(vars(snapshotted)) == typed(vars(replayed))
    assert snapshotted.stage is replayed.stage and snapshotted.report(3) == replayed.report(3)


def test_snapshots_are_taken_every_n_events_as_configured():
    taken = []
    for interval in ("2", "0"):
        app = Ledger(env={"SNAPSHOT_INTERVAL_DISASTERS": interval})
        disaster = a_disaster()
        for n in range(5):
            follow_up(disaster, township(affected_population=1300 + n), as_of=july(2, n))
        app.save(disaster)
        taken.append([s.originator_version for s in app.snapshots.get(disaster.id)])
    assert taken == [[2, 4, 6], []]
