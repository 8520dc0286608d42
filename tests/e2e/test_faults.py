"""The crash and outage tests of ops/ (ops/crash-test, ops/outage-test), run short in the suite.

Real server processes on stores of their own; see ops/faults/ for what each
does and checks. Slow (about a minute together); CI runs them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ops" / "faults"))

import crash  # noqa: E402
import outage  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_kills_lose_and_double_nothing(backend: str, postgres_database: str) -> None:
    figures = crash.crash_run(backend, seconds=12, kills=2, seed=20261207)
    assert figures["server_starts"] == 3
    assert int(figures["acknowledged"]) > 0  # type: ignore[call-overload]


def test_an_outage_answers_503_and_recovers_without_a_restart(postgres_database: str) -> None:
    figures = outage.outage_run(seconds=14, outage=4)
    assert figures["health_said_down"] is True
