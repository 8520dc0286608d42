#!/usr/bin/env python3
"""Load time of one long disaster process (default 10,000 events), beside the raw read + decode of its events.

Builds the process through the domain aggregate (初报, then 续报 on rotating townships, each
accepted (some after newer ones), some returned), saves it in batches into a
store of its own (encrypted as in production; snapshots as configured), then measures, each
the median of --repeat runs:

- raw read + decode of all its events (the library's `app.events.get`), the denominator;
- `repository.get` (from the latest snapshot, then the events after it) — target ≤ 100 ms;
- replay of all its events without a snapshot (state folding only);
- as-known-at at the middle and at the end of its history (`AuditService.as_known_at`);
- one more 续报 on it (load, check, save) beside the same on a 20-event process.

    .venv/bin/python ops/bench/long_process.py --backend sqlite
    .venv/bin/python ops/bench/long_process.py --backend postgres --events 10000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import CODE_AT_START, DEFAULT_VAR, add_storage_args, console, reset_store, settings_for  # noqa: E402

from ledger.accounts.service import local_operator  # noqa: E402
from ledger.disasters.aggregate import Disaster  # noqa: E402
from ledger.disasters.reports import ReportPolicy  # noqa: E402
from ledger.reference.areas import AreaTable  # noqa: E402
from ledger.runtime import LedgerRuntime  # noqa: E402

COUNTY = "320921"
TOWNSHIPS = ("320921100", "320921101", "320921102", "320921103")
ACTOR = {"username": "bench-county", "role": "county", "unit": COUNTY}
REVIEWER = {"username": "bench-city", "role": "city", "unit": "3209"}
OCCURRED = datetime(2024, 7, 1, 0, 0, tzinfo=UTC)


def build(policy: ReportPolicy, events: int, day: int) -> Disaster:
    """A process of about `events` events (its key differs by `day`)."""
    disaster = Disaster.open(
        county=COUNTY, disaster_date=date(2024, 7, day), hazard="flood", subtype="river_flood",
        occurred_at=OCCURRED + timedelta(days=day - 1), figures={TOWNSHIPS[0]: {"affected_population": Decimal(100)}},
        text="long process", explanation=None, phoned_at=None, actor=ACTOR, policy=policy, area_edition="2023",
    )
    step = 0
    waiting: list[int] = [1]
    while disaster.version < events:
        step += 1
        as_of = OCCURRED + timedelta(days=day - 1, minutes=step)
        figures = {TOWNSHIPS[step % 4]: {"affected_population": Decimal(100 + step), "injured": Decimal(step // 9)}}
        number = disaster.file_follow_up(figures=figures, as_of=as_of, explanation="逐日核实", phoned_at=None,
                                         actor=ACTOR, policy=policy)
        if step % 11 == 0:
            disaster.return_report(number, "数据未经核实", REVIEWER)
        elif step % 13 == 0:
            waiting.append(number)  # reviewed later, after newer reports
        else:
            disaster.accept(number, REVIEWER)
            if len(waiting) > 3:
                disaster.accept(waiting.pop(0), REVIEWER)
    return disaster


def median_ms(call: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_storage_args(parser)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if args.data_dir is None:
        args.data_dir = DEFAULT_VAR / f"long-process-{args.backend}"
    if args.backend == "postgres" and args.database_url is None:
        args.database_url = "postgresql://postgres@127.0.0.1:5432/relief_bench_long?schema=bench"
    settings = settings_for(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    reset_store(settings)
    runtime = LedgerRuntime(settings.ledger_config(), areas=AreaTable.load(None))
    app = runtime.app
    rules = runtime.rules.reports
    policy = ReportPolicy(indicators=runtime.indicators, jump_ratio=rules.jump_ratio,
                          jump_min_delta=rules.jump_min_delta, rules_version=runtime.rules.version)

    console.print(f"code {CODE_AT_START}; backend {args.backend}; building a {args.events:,}-event process …")
    long = build(policy, args.events, 1)
    pending = long.collect_events()
    for start in range(0, len(pending), 500):  # saved in batches, as it would have been filed
        app.events.put(pending[start:start + 500])
    for version in range(50, long.version + 1, 50):  # the snapshots the saves would have taken
        if app.snapshotting_intervals.get(Disaster):
            app.take_snapshot(long.id, version)
    short = build(policy, 20, 2)
    app.save(short)
    n = long.version

    raw = median_ms(lambda: list(app.events.get(long.id)), args.repeat)
    load = median_ms(lambda: app.repository.get(long.id), args.repeat)
    events = list(app.events.get(long.id))

    def replay() -> None:
        aggregate = None
        for e in events:
            aggregate = e.mutate(aggregate)

    fold = median_ms(replay, args.repeat)
    operator = local_operator()
    middle = events[n // 2].timestamp
    known_middle = median_ms(lambda: runtime.audit.as_known_at(operator, long.id, middle), args.repeat)
    known_end = median_ms(lambda: runtime.audit.as_known_at(operator, long.id, events[-1].timestamp), args.repeat)

    def follow_up(process_id: Any) -> None:
        d = app.repository.get(process_id)
        d.file_follow_up(figures={TOWNSHIPS[0]: {"affected_population": Decimal(100 + d.version)}},
                         as_of=OCCURRED + timedelta(days=30, seconds=d.version), explanation="逐日核实",
                         phoned_at=None, actor=ACTOR, policy=policy)
        app.save(d)

    on_long = median_ms(lambda: follow_up(long.id), args.repeat)
    on_short = median_ms(lambda: follow_up(short.id), args.repeat)

    console.print(f"\none process of {n:,} events ({args.backend}), median of {args.repeat}:\n")
    console.print("| measure | ms | note |")
    console.print("|---|---|---|")
    console.print(f"| raw read + decode of its events | {raw:.1f} | the library, all {n:,} events |")
    console.print(f"| load (repository.get) | {load:.1f} | target ≤ 100 ms; snapshot + events after it |")
    console.print(f"| replay of all events, no snapshot (fold only) | {fold:.1f} | linear: {fold / n * 1000:.1f} µs/event |")
    console.print(f"| as-known-at, middle of its history | {known_middle:.1f} | lists the {n - n // 2:,} events after |")
    console.print(f"| as-known-at, its end | {known_end:.1f} | |")
    console.print(f"| 续报 on it (load, check, save) | {on_long:.1f} | |")
    console.print(f"| 续报 on a 20-event process | {on_short:.1f} | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
