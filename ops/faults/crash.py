"""Crash test: the real server, killed with SIGKILL twice while clients file reports and payments.

For each backend: a store of its own; three clients file 续报 on their own
processes and three pay their own households, every command with its own
Idempotency-Key, retrying after a refused connection or a 503; meanwhile the
server (with its projections worker) is killed at two random moments and
started again. Then: every acknowledged command is in the history exactly
once, every projection equals a rebuild from zero, and the seal — kept up
continuously, checkpoints published along the way — verifies.

    .venv/bin/python ops/faults/crash.py [--backend sqlite|postgres|both] [--seconds 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402


def crash_run(backend: str, seconds: float, kills: int = 2, seed: int | None = None) -> dict[str, object]:
    rng = random.Random(seed)
    with harness.own_store(backend) as store:
        county = harness.account(store, "crash-county", "county", harness.COUNTY)
        cases = harness.approved_households(store, 3, amount_fen=1_000_000)
        relief = harness.account(store, "crash-relief", "relief_officer", harness.COUNTY)
        server = harness.Server(store)
        server.start()
        tally = harness.Tally()

        def killer(stop: threading.Event) -> None:
            moments = sorted(rng.uniform(seconds * 0.15, seconds * 0.85) for _ in range(kills))
            started = time.monotonic()
            for moment in moments:
                time.sleep(max(moment - (time.monotonic() - started), 0))
                server.kill()
                server.start()
            time.sleep(max(seconds - (time.monotonic() - started), 0))

        workers = [partial(harness.reporter, server.url, county, hazard, tally)
                   for hazard in ("flood", "drought", "wind_hail")]
        workers += [partial(harness.payer, server.url, relief, case, tally) for case in cases]
        try:
            harness.run_clients(workers, seconds, during=killer)
        finally:
            server.stop()
        figures = harness.check_store(store, tally)
        figures.update({"backend": backend, "kills": kills, "server_starts": server.starts})
        harness.report("crash", figures, tally)
        return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    for backend in (["sqlite", "postgres"] if args.backend == "both" else [args.backend]):
        crash_run(backend, args.seconds, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
