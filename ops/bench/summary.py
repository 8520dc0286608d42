"""One table of the last run per backend: measure | value | raw baseline in the same run | ratio | target.

    .venv/bin/python ops/bench/summary.py [--data DIR] [sqlite] [postgres]

Reads what the scripts left in <DIR>/<backend>/bench-dataset.json (generate, projections, graphql,
filing, known_at, roster_export). The raw baselines are the library's own rates measured in the
same run on the same store: its save (one 续报 event per call) and its read + decode of the log.
Targets are those of the 1,000,000-event data set; sizes and the rebuild time scale with the events.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import benchlib

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from rich.table import Table

LEVELS = ("province", "city", "county", "township")
PERIODS = ("day", "month", "year")
PROJECTION_NAMES = ("board", "statistics", "roster", "funds", "housing", "accidents", "incidents")


def rows_of(info: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    out: list[tuple[str, str, str, str, str]] = []

    def add(measure: str, value: str, baseline: str = "", ratio: str = "", target: str = "") -> None:
        out.append((measure, value, baseline, ratio, target))

    events = int(info.get("events") or 0)
    scale = events / 1_000_000 if events else 1.0
    generation = info.get("generation") or {}
    if info.get("save_seconds"):
        add("raw: library save, batched (generation)",
            f"{info['disaster_events'] / info['save_seconds']:,.0f} ev/s", target="(denominator)")
    if generation:
        add("generation through the domain (all work)", f"{generation['events_per_second']:,} ev/s",
            f"load {generation['load_start']}→{generation['load_end']}")
    decode = (info.get("read_decode") or {}).get("events_per_second")
    if decode:
        add("raw: library read + decode of the log", f"{decode:,} ev/s", target="(denominator)")

    filing = info.get("filing") or {}
    for c in (1, 4):
        raw, http = filing.get(f"raw_c{c}"), filing.get(f"http_c{c}")
        if raw:
            add(f"raw: library save of one 续报 event, {c} in flight",
                f"{raw['per_second']:,.0f}/s, p50 {raw['p50']:.1f} ms", target="(denominator)")
        if raw and http:
            add(f"续报 over HTTP, {c} in flight (rate)", f"{http['per_second']:,.1f}/s",
                f"{raw['per_second']:,.0f}/s", f"{http['per_second'] / raw['per_second']:.2f}", "≥ 0.55")
            add(f"续报 over HTTP, {c} in flight (p50)", f"{http['p50']:.1f} ms", f"{raw['p50']:.1f} ms",
                f"×{http['p50'] / raw['p50']:.1f}", "≤ ×2")

    for name in PROJECTION_NAMES:
        phase = info.get(f"rebuild_{name}")
        if phase and decode:
            add(f"rebuild {name}", f"{phase['events_per_second']:,} ev/s", f"{decode:,} ev/s",
                f"{phase['events_per_second'] / decode:.0%}", "≥ 50 %")
    if info.get("rebuild_all_seconds") is not None:
        floor = events / decode if decode else 0
        add("rebuild of all projections", f"{info['rebuild_all_seconds']:,.1f} s",
            f"{floor:,.1f} s (read + decode once)" if floor else "",
            f"×{info['rebuild_all_seconds'] / floor:.0f}" if floor else "", f"≤ {60 * scale:,.1f} s (60 s at 1 M)")
    for key in sorted(k for k in info if k.startswith("rebuild_all_round")):
        add(f"rebuild of all projections again ({key.removeprefix('rebuild_all_').removesuffix('_seconds')})",
            f"{info[key]:,.1f} s")

    graphql = info.get("graphql_c1") or {}
    groups = graphql.get("groups") or {}
    for level in LEVELS:
        for period in PERIODS:
            p95 = groups.get(f"{level}·{period}")
            if p95 is not None:
                add(f"statistics p95, {level} × {period}", f"{p95:,.1f} ms", target="≤ 50 ms")
    if graphql and not groups and graphql.get("statistics"):
        add("statistics p95 (all levels and periods)", f"{graphql['statistics']['p95']:,.1f} ms", target="≤ 50 ms")

    known = info.get("known_at_process") or {}
    if known:
        add(f"as-known-at of a {known['events']:,}-event process (app)", f"{known['as_known_at_ms']:,.1f} ms",
            f"{known['raw_ms']:,.1f} ms (read + decode)", f"×{known['as_known_at_ms'] / known['raw_ms']:.0f}",
            "≤ 100 ms (10,000 events)")
        add("  repository.get of that process", f"{known['get_ms']:,.1f} ms", f"{known['raw_ms']:,.1f} ms",
            f"×{known['get_ms'] / known['raw_ms']:.0f}")

    roster = info.get("roster_export") or {}
    after, before = roster.get("after"), roster.get("before")
    if after:
        rows = after["rows"]
        add(f"roster export, {rows:,} households (wall)", f"{after['seconds']:,.1f} s (CPU {after['cpu_seconds']:,.1f} s)",
            f"{before['seconds']:,.1f} s before" if before else "",
            f"{after['seconds'] / before['seconds']:.2f}" if before else "", f"≤ {10 * rows / 100_000:,.1f} s")
        add("roster export, peak memory", f"{after['peak_rss_mb']:,.0f} MB",
            f"{before['peak_rss_mb']:,.0f} MB before" if before else "", "", "≤ 500 MB")

    generated = info.get("size_generated")
    if generated:
        limit = 3 * 2**30 * scale
        add("store size after generation", benchlib.human_bytes(generated), target=f"≤ {benchlib.human_bytes(limit)}")
        for key in sorted(k for k in info if k.startswith("size_after_rebuild_")):
            n = key.removeprefix("size_after_rebuild_")
            add(f"store size after rebuild {n}", benchlib.human_bytes(info[key]), benchlib.human_bytes(generated),
                f"×{info[key] / generated:.2f}", f"≤ {benchlib.human_bytes(limit)}, stable")
    return out


def main(argv: list[str]) -> int:
    root = benchlib.DEFAULT_VAR
    if argv[:1] == ["--data"]:
        root, argv = Path(argv[1]), argv[2:]
    backends = argv or ["sqlite", "postgres"]
    table = Table(title="relief-ledger benchmarks: the last run per backend", header_style="bold")
    for col, justify in (("backend", "left"), ("measure", "left"), ("value", "right"),
                         ("raw baseline (same run)", "right"), ("ratio", "right"), ("target", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for backend in backends:
        info = benchlib.read_json(root / backend / benchlib.INFO_FILE)
        if not info:
            continue
        label = info.get("backend", backend)
        table.add_row(label, f"[bold]{info.get('events', 0):,} events[/bold] · {info.get('processes', 0):,} processes",
                      f"code {str(info.get('projections_code') or info.get('generate_code') or '')[:12]}", "", "",
                      f"generated {info.get('generated_at', '')}")
        for row in rows_of(info):
            table.add_row(label, *row)
        table.add_section()
    benchlib.console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
