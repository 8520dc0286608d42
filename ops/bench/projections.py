"""Read rate of the notification log and catch-up (rebuild from zero) rate of every projection.

    .venv/bin/python ops/bench/projections.py --backend sqlite
    .venv/bin/python ops/bench/projections.py --backend postgres --profile 50000

On the store written by generate.py, in one run:

(a) the raw rate of the log: `select_notifications` in batches of 500, first
    only reading, then reading + decoding (decrypt, decompress, JSON,
    `app.mapper.to_domain_event`) — the floor of any projection's catch-up;
(b) for each projection in `projections.runner.PROJECTIONS`: empty its view
    (timed apart), then `Follower.rebuild` over the whole log, in events/s.

`--profile N` first runs cProfile over the catch-up of the first N events of
each projection and prints where the time goes (the views are then rebuilt
in full, unprofiled, for the figures). The projections are left caught up,
ready for graphql.py.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import threading
import time
from pathlib import Path
from typing import Any

# This folder must not stay on sys.path: graphql.py and projections.py would shadow the
# graphql-core package and the project's projections package.
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import benchlib

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
from benchlib import console
from rich.table import Table

from ledger.reference.areas import AreaTable
from ledger.runtime import LedgerRuntime
from projections.registry import PROJECTIONS
from projections.runner import Follower, open_projection

READ_BATCH = 500


def read_log(app: Any, head: int, decode: bool, label: str) -> tuple[int, benchlib.Clock]:
    recorder = app.recorder
    to_domain_event = app.mapper.to_domain_event
    last = 0
    count = 0
    ticker = benchlib.Ticker(label, head)
    with benchlib.progress_bar(transient=True) as progress:
        task = progress.add_task(label, total=head, note="")
        clock = benchlib.Clock()
        while True:
            notifications = recorder.select_notifications(start=last, limit=READ_BATCH, inclusive_of_start=False)
            if not notifications:
                break
            if decode:
                for n in notifications:
                    to_domain_event(n)
            last = notifications[-1].id
            count += len(notifications)
            progress.update(task, advance=len(notifications))
            ticker.tick(count)
        clock.stop()
    return count, clock


def view_rows(view: Any) -> str:
    out = []
    for table in view.view_tables():
        n = view.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
        out.append(f"{table.split('.')[-1]} {int(n):,}")
    return ", ".join(out)


def profile_catch_up(app: Any, name: str, env: dict[str, str], data_dir: Path, events: int, batch: int) -> None:
    projection = open_projection(PROJECTIONS[name], env, data_dir)
    follower = Follower(app, projection, batch)
    projection.view.reset(app.name)
    stop = threading.Event()
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] >= events:
            stop.set()

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    follower.catch_up(progress, stop)
    profiler.disable()
    elapsed = time.perf_counter() - start
    console.rule(f"[bold]profile[/bold] · {name} · first {done[0]:,} events · {done[0] / elapsed:,.0f} events/s"
                 " under cProfile")
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative")):
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.sort_stats(key).print_stats(22)
        text = buffer.getvalue()
        body = text[text.find("   ncalls"):]
        console.print(f"[bold]{title}[/bold]")
        console.print(body.rstrip(), soft_wrap=True)
    benchlib.close_view(projection.view)


def verify(runtime: Any, env: dict[str, str], data_dir: Path, sample: int, seed: int = 1) -> list[str]:
    """Compare the views with the aggregates (replayed from the store) for a sample of processes."""
    import random
    from decimal import Decimal

    from ledger.disasters.reports import Stage

    board = open_projection(PROJECTIONS["board"], env, data_dir).view if "board" in PROJECTIONS else None
    stats = open_projection(PROJECTIONS["statistics"], env, data_dir).view if "statistics" in PROJECTIONS else None
    problems: list[str] = []
    try:
        assert board is not None
        ids = [r["disaster_id"] for r in board.query("SELECT disaster_id FROM {t}_rows ORDER BY disaster_id")]
        biggest = [r["disaster_id"] for r in board.query(
            "SELECT disaster_id FROM {t}_rows ORDER BY report_count DESC, disaster_id LIMIT 10")]
        chosen = biggest + random.Random(seed).sample(ids, min(sample, len(ids)))
        rows = board.get(chosen)
        for disaster_id in chosen:
            d = runtime.app.repository.get(__import__("uuid").UUID(disaster_id))
            expected = {} if d.stage is Stage.RETRACTED else {k: v for k, v in d.county_totals().items()}
            row = rows.get(disaster_id)
            if row is None:
                problems.append(f"{disaster_id}: not on the board")
                continue
            got = {k: Decimal(v) for k, v in __import__("json").loads(row["totals"]).items()}
            if got != expected:
                diff = {k: (got.get(k), expected.get(k)) for k in set(got) | set(expected) if got.get(k) != expected.get(k)}
                problems.append(f"{disaster_id}: board totals differ (view, aggregate): {dict(list(diff.items())[:3])}")
            for name, want in (("stage", d.stage.value), ("hazard", d.hazard), ("subtype", d.subtype),
                               ("disaster_date", d.disaster_date.isoformat()), ("version", d.version)):
                if row[name] != want:
                    problems.append(f"{disaster_id}: board {name} {row[name]!r} ≠ aggregate {want!r}")
            if stats is not None:
                sums = {r["indicator"]: Decimal(int(r["total"])) / 100 for r in stats.query(
                    "SELECT indicator, SUM(hundredths) AS total FROM {t}_figures WHERE disaster_id = ? GROUP BY indicator",
                    [disaster_id])}
                if sums != expected:
                    diff = {k: (sums.get(k), expected.get(k)) for k in set(sums) | set(expected)
                            if sums.get(k) != expected.get(k)}
                    problems.append(f"{disaster_id}: statistics sums differ (view, aggregate): {dict(list(diff.items())[:3])}")
                dates = stats.query("SELECT DISTINCT disaster_date, hazard FROM {t}_figures WHERE disaster_id = ?",
                                    [disaster_id])
                if expected and [(r["disaster_date"], r["hazard"]) for r in dates] != [(d.disaster_date.isoformat(), d.hazard)]:
                    problems.append(f"{disaster_id}: statistics rows carry {dates}, aggregate {d.disaster_date} {d.hazard}")
        console.print(f"verify: {len(chosen)} processes (the 10 largest and {len(chosen) - 10} at random) replayed"
                      f" from the store and compared with the board and statistics views:"
                      f" {'[green]all agree[/green]' if not problems else f'[red]{len(problems)} differences[/red]'}")
        for line in problems[:10]:
            console.print(f"  [red]{line}[/red]")
    finally:
        for view in (board, stats):
            if view is not None:
                benchlib.close_view(view)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    benchlib.add_storage_args(parser)
    parser.add_argument("--batch", type=int, default=500, help="notifications per view transaction (Follower.batch)")
    parser.add_argument("--only", nargs="*", choices=list(PROJECTIONS), help="rebuild only these projections")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="cProfile the catch-up of the first N events of each projection first")
    parser.add_argument("--skip-read", action="store_true", help="skip (a), the raw read rate")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rebuild every projection this many times in all; the store's size after each")
    parser.add_argument("--verify", type=int, default=200, metavar="N",
                        help="afterwards compare the views with N replayed aggregates (+ the 10 largest); 0: skip")
    parser.add_argument("--verify-only", action="store_true", help="only verify the views as they are")
    args = parser.parse_args(argv)

    settings = benchlib.settings_for(args)
    label = benchlib.backend_label(settings)
    config = settings.ledger_config()
    runtime = LedgerRuntime(config, areas=AreaTable.load(settings.data_dir))
    env = dict(config.persistence)
    results: dict[str, Any] = benchlib.read_json(settings.data_dir / benchlib.INFO_FILE)
    try:
        head = runtime.position()
        if not head:
            console.print(f"[red]the store at {settings.data_dir} is empty: run generate.py first[/red]")
            return 1
        console.rule(f"[bold]projections[/bold] · {label} · {head:,} events in the log")
        results["projections_code"] = benchlib.CODE_AT_START
        console.print(f"product code measured: {results['projections_code']}")
        if args.verify_only:
            return 1 if verify(runtime, env, settings.data_dir, args.verify) else 0
        rows: list[tuple[str, ...]] = []
        if not args.skip_read:
            n, clock = read_log(runtime.app, head, decode=False, label="read")
            rows.append(("log: read only", f"{n:,}", *clock.cells(n), "", f"load {clock.load0:.1f} → {clock.load1:.1f}"))
            results["read_only"] = clock.as_dict(n)
            n, clock = read_log(runtime.app, head, decode=True, label="read + decode")
            rows.append(("[bold]log: read + decode[/bold]", f"{n:,}", *clock.cells(n), "",
                         f"load {clock.load0:.1f} → {clock.load1:.1f}"))
            results["read_events_per_second"] = round(n / clock.wall)
            results["read_decode"] = clock.as_dict(n)
            decode_rate = n / clock.wall
        else:
            decode_rate = 0.0

        for name in args.only or list(PROJECTIONS):
            if args.profile:
                profile_catch_up(runtime.app, name, env, settings.data_dir, args.profile, args.batch)
        for name in args.only or list(PROJECTIONS):
            projection = open_projection(PROJECTIONS[name], env, settings.data_dir)
            follower = Follower(runtime.app, projection, args.batch)
            with benchlib.timed() as t_reset:
                projection.view.reset(runtime.app.name)
            ticker = benchlib.Ticker(f"rebuild {name}", head)
            done = [0]
            with benchlib.progress_bar() as progress:
                task = progress.add_task(f"rebuild {name}", total=head, note="")

                def advance(k: int, task: Any = task, progress: Any = progress, ticker: Any = ticker,
                            done: list[int] = done) -> None:
                    done[0] += k
                    progress.update(task, advance=k)
                    ticker.tick(done[0])

                clock = benchlib.Clock()
                n = follower.rebuild(advance)
                clock.stop()
            secs = clock.wall
            share = f"{100 * (n / decode_rate) / secs:.0f} %" if decode_rate else ""
            rows.append((f"[bold]rebuild {name}[/bold]", f"{n:,}", *clock.cells(n), share,
                         (f"load {clock.load0:.1f} → {clock.load1:.1f} · reset {t_reset[0]:.1f} s ·"
                         f" {view_rows(projection.view)}")))
            results[f"rebuild_{name}_events_per_second"] = round(n / secs)
            results[f"rebuild_{name}"] = clock.as_dict(n)
            assert follower.position() == head, (follower.position(), head)
            benchlib.close_view(projection.view)

        if not args.only:
            results["rebuild_all_seconds"] = round(sum(results[f"rebuild_{n}"]["seconds"] for n in PROJECTIONS), 1)
            results["size_after_rebuild_1"] = benchlib.store_bytes(settings)
            for round_ in range(2, args.rounds + 1):  # rebuilds as an operator runs them: fresh tables swapped in
                clock = benchlib.Clock()
                for name in PROJECTIONS:
                    projection = open_projection(PROJECTIONS[name], env, settings.data_dir)
                    Follower(runtime.app, projection, args.batch).rebuild()
                    benchlib.close_view(projection.view)
                clock.stop()
                results[f"rebuild_all_round{round_}_seconds"] = round(clock.wall, 1)
                results[f"size_after_rebuild_{round_}"] = benchlib.store_bytes(settings)
                rows.append((f"rebuild all again (round {round_})", f"{head * len(PROJECTIONS):,}",
                             f"{clock.wall:,.1f}", "", "", "", "",
                             f"store {benchlib.human_bytes(results[f'size_after_rebuild_{round_}'])}"))

        table = Table(title=f"log read and projection catch-up on {label} ({head:,} events)", header_style="bold")
        for col, justify in (("what", "left"), ("events", "right"), ("seconds", "right"), ("events/s", "right"),
                             ("CPU", "right"), ("events/CPU-s", "right"), ("read+decode share", "right"),
                             ("notes", "left")):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for row in rows:
            table.add_row(*row)
        console.print(table)
        console.print(f"store: {benchlib.store_size(settings)}")
        benchlib.write_json(settings.data_dir / benchlib.INFO_FILE, results)
        if args.verify and not args.only:
            verify(runtime, env, settings.data_dir, args.verify)
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
