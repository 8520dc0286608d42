"""Outage test: PostgreSQL made unreachable for this service only, while clients keep filing.

A database of its own; the real server on it; clients file 续报 and payments
with Idempotency-Keys. For a few seconds the database refuses and drops every
connection (`ALTER DATABASE … ALLOW_CONNECTIONS false` and
`pg_terminate_backend`) — the cluster itself, shared with others, is never
stopped — then it is allowed again. Required: no 5xx but 503 (with
Retry-After), 503s answered within the configured bound, /health saying the
database is down meanwhile, the service back without a restart, and nothing
acknowledged lost or doubled (the crash test's checks).

    .venv/bin/python ops/faults/outage.py [--seconds 20] [--outage 6]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from functools import partial
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402


def outage_run(seconds: float, outage: float) -> dict[str, object]:
    with harness.own_store("postgres") as store:
        county = harness.account(store, "outage-county", "county", harness.COUNTY)
        cases = harness.approved_households(store, 2, amount_fen=1_000_000)
        relief = harness.account(store, "outage-relief", "relief_officer", harness.COUNTY)
        server = harness.Server(store)
        server.start()
        tally = harness.Tally()
        seen: dict[str, object] = {}

        def cut(stop: threading.Event) -> None:
            time.sleep(seconds * 0.3)
            harness.admin_sql(f'ALTER DATABASE "{store.database}" ALLOW_CONNECTIONS false')
            harness.admin_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                              (store.database,))
            began = time.monotonic()
            while time.monotonic() - began < outage:
                started = time.monotonic()
                health = httpx.get(f"{server.url}/health", timeout=30)
                seen["health_seconds"] = max(float(seen.get("health_seconds", 0.0)), time.monotonic() - started)
                if health.status_code == 503 and health.json().get("database") == "down":
                    seen["health_said_down"] = True
                time.sleep(0.5)
            harness.admin_sql(f'ALTER DATABASE "{store.database}" ALLOW_CONNECTIONS true')
            back = time.monotonic()
            while httpx.get(f"{server.url}/health", timeout=30).status_code != 200:
                time.sleep(0.2)
            seen["recovered_after_s"] = round(time.monotonic() - back, 2)
            time.sleep(max(seconds * 0.7 - outage, 1.0))

        workers = [partial(harness.reporter, server.url, county, hazard, tally) for hazard in ("flood", "drought")]
        workers += [partial(harness.payer, server.url, relief, case, tally) for case in cases]
        try:
            harness.run_clients(workers, seconds, during=cut)
            assert server.proc is not None and server.proc.poll() is None, "the server had to be restarted"
        finally:
            server.stop()
        assert seen.get("health_said_down"), "/health never said the database was down"
        assert tally.statuses.get(503, 0) > 0, "no request met the outage"
        figures = harness.check_store(store, tally)
        figures.update(seen)
        harness.report("outage", figures, tally)
        return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--outage", type=float, default=6.0)
    args = parser.parse_args()
    outage_run(args.seconds, args.outage)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
