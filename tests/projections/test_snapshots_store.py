"""Snapshots in the real stores (SQLite and PostgreSQL, encrypted): taken every N events, read back as the
replayed state, used by as-known-at only when all their events had been recorded by then, and outside the
seal (`audit verify` still verifies)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.accounts.service import local_operator
from ledger.audit.replay import flatten
from ledger.disasters.aggregate import Disaster
from ledger.runtime import LedgerRuntime
from tests.projections.test_seal import fill, outcome, sealer  # noqa: F401 (fixture)


@pytest.fixture
def store(runtime: LedgerRuntime, tokens: dict[str, str]) -> LedgerRuntime:
    runtime.app.snapshotting_intervals = {Disaster: 2}
    fill(runtime, tokens)
    return runtime


def the_process(rt: LedgerRuntime) -> Any:
    return next(n.originator_id for n in rt.app.recorder.select_notifications(start=1, limit=1000)
                if n.topic.endswith("Disaster.InitialReportFiled"))


def replayed(events: list[Any]) -> Any:
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def test_snapshots_are_stored_and_read_back_as_the_replayed_state(store):
    process = the_process(store)
    events = list(store.app.events.get(process))
    assert [s.originator_version for s in store.app.snapshots.get(process)] == [2, 4, 6]
    assert vars(store.app.repository.get(process)) == vars(replayed(events))
    assert vars(store.app.repository.get(process, version=5)) == vars(replayed(events[:5]))


def test_as_known_at_each_recorded_moment_is_the_replayed_prefix(store):
    process = the_process(store)
    events = list(store.app.events.get(process))
    for version, e in enumerate(events, start=1):
        known = store.audit.as_known_at(local_operator(), process, e.timestamp)
        assert known.version == version
        assert known.state == flatten(replayed(events[:version]))
        assert [a.originator_version for a in known.recorded_after] == list(range(version + 1, len(events) + 1))


def test_snapshots_are_not_sealed_and_the_seal_verifies(store, sealer):  # noqa: F811
    s = sealer()
    checkpoint = s.seal()
    assert outcome(s.verify()) == (True, None, None)
    assert s.verify(checkpoint.line).ok
