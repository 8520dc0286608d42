"""As-known-at of one long process (10,000 events) against the raw read + decode of its events.

    .venv/bin/python ops/bench/known_at.py --backend sqlite
    .venv/bin/python ops/bench/known_at.py --backend postgres --events 10000

Builds (once per data set; kept in bench-dataset.json as `known_at_process`) a disaster process of
the bench county with `--events` events — 续报 after 续报 through the domain aggregate, saved in
batches — then measures, each the median of `--repeat` runs:

- raw: `recorder.select_events(id)` + `mapper.to_domain_event` of every event (the floor);
- `repository.get(id)`: the current state;
- as-known-at through the app: `GET /v1/audit/{id}/as-known-at?at=<now>` as the bench auditor
  (ASGI transport in this process: authentication, the replay, masking and JSON, no socket).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import benchlib
import filing

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
import httpx

from api.app import create_app
from ledger.reference.areas import AreaTable
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost

console = benchlib.console


def build(runtime: LedgerRuntime, events: int, batch: int = 500) -> UUID:
    (process,) = filing.open_processes(runtime, 1)
    actor = runtime.accounts.authenticate(filing.token_of(runtime)).as_dict()
    policy = runtime.disasters._policy()
    d: Any = runtime.app.repository.get(process)
    start = time.perf_counter()
    ticker = benchlib.Ticker("building the long process", events, every=10)
    ticker.enabled = True
    first = datetime.now(UTC) - timedelta(seconds=events + 60)
    while d.version < events:
        for _ in range(min(batch, events - d.version)):
            d.file_follow_up(figures={filing.TOWNSHIP: filing._figures(runtime, 1000 + d.version)},
                             as_of=first + timedelta(seconds=d.version), explanation=None, phoned_at=None,
                             actor=actor, policy=policy, refiles=None)
        runtime.app.save(d)
        ticker.tick(d.version)
    console.print(f"built a process of {d.version:,} events in {time.perf_counter() - start:.1f} s")
    return process


def median_time(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def over_app(runtime: LedgerRuntime, settings: Any, token: str, process: UUID, repeat: int) -> float:
    app = create_app(runtime, settings, ProjectionHost(runtime, run=False))
    at = datetime.now(UTC).isoformat().replace("+", "%2B")
    times = []
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                     timeout=600, headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(repeat + 1):
                start = time.perf_counter()
                r = await client.get(f"/v1/audit/{process}/as-known-at?at={at}")
                times.append(time.perf_counter() - start)
                if r.status_code != 200:
                    raise RuntimeError(f"as-known-at answered {r.status_code}: {r.text[:300]}")
    return statistics.median(times[1:])  # the first warms the app up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    benchlib.add_storage_args(parser)
    parser.add_argument("--events", type=int, default=10_000, help="events of the long process (default 10,000)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    settings = benchlib.settings_for(args)
    label = benchlib.backend_label(settings)
    info_path = settings.data_dir / benchlib.INFO_FILE
    tokens = benchlib.read_json(settings.data_dir / benchlib.TOKENS_FILE)
    runtime = LedgerRuntime(settings.ledger_config(), areas=AreaTable.load(settings.data_dir))
    try:
        console.rule(f"[bold]as-known-at[/bold] · {label}")
        info = benchlib.read_json(info_path)
        known = info.get("known_at_process") or {}
        if known.get("events", 0) >= args.events and known.get("generated_at") == info.get("generated_at"):
            process = UUID(known["id"])
        else:
            process = build(runtime, args.events)
        n = len(runtime.app.recorder.select_events(process))
        app = runtime.app
        raw = median_time(lambda: [app.mapper.to_domain_event(s) for s in app.recorder.select_events(process)],
                          args.repeat)
        get = median_time(lambda: app.repository.get(process), args.repeat)
        http = asyncio.run(over_app(runtime, settings, tokens["bench-auditor"], process, args.repeat))
    finally:
        runtime.close()
    result = {"id": str(process), "events": n, "raw_ms": round(raw * 1000, 1), "get_ms": round(get * 1000, 1),
              "as_known_at_ms": round(http * 1000, 1), "load": round(os.getloadavg()[0], 2),
              "generated_at": info.get("generated_at"), "code": benchlib.CODE_AT_START}
    console.print(f"  {n:,} events: raw read + decode {result['raw_ms']:,.1f} ms · repository.get "
                  f"{result['get_ms']:,.1f} ms · as-known-at through the app {result['as_known_at_ms']:,.1f} ms"
                  f" · load {result['load']}")
    info = benchlib.read_json(info_path)
    info["known_at_process"] = result
    benchlib.write_json(info_path, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
