"""One table of the figures the last runs left in ops/bench/var/<backend>/bench-dataset.json.

    .venv/bin/python ops/bench/summary.py [--data DIR] [sqlite] [postgres]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import benchlib

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from rich.table import Table


def main(argv: list[str]) -> int:
    root = benchlib.DEFAULT_VAR
    if argv[:1] == ["--data"]:
        root, argv = Path(argv[1]), argv[2:]
    backends = argv or ["sqlite", "postgres"]
    infos = {b: benchlib.read_json(root / b / benchlib.INFO_FILE) for b in backends}
    table = Table(title="relief-ledger benchmarks (last run per backend)", header_style="bold")
    table.add_column("figure")
    for b in backends:
        table.add_column(infos[b].get("backend", b), justify="right")

    def fmt(value: object, unit: str = "") -> str:
        if value is None or value == "":
            return "-"
        return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"

    def add(label: str, getter, unit: str = "") -> None:  # type: ignore[no-untyped-def]
        table.add_row(label, *(fmt(getter(infos[b]), unit) for b in backends))

    add("events in the log", lambda i: i.get("events"))
    add("disaster processes", lambda i: i.get("processes"))
    add("generated at", lambda i: i.get("generated_at"))
    add("product code (generate)", lambda i: i.get("generate_code"))
    add("product code (projections)", lambda i: i.get("projections_code"))
    def rate(i: dict, key: str) -> str | None:
        phase = i.get(key)
        if not isinstance(phase, dict):
            return None
        return (f"{phase['events_per_second']:,} ev/s ({phase['events_per_cpu_second']:,} per CPU-s;"
                f" load {phase['load_start']}→{phase['load_end']})")

    add("generation (domain + save)", lambda i: rate(i, "generation") or i.get("events_per_second"))
    add("log read only", lambda i: rate(i, "read_only"))
    add("log read + decode", lambda i: rate(i, "read_decode") or i.get("read_events_per_second"))
    names = sorted({k for i in infos.values() for k in i if k.startswith("rebuild_") and not k.endswith("_second")})
    for key in names:
        add(f"catch-up {key.removeprefix('rebuild_')} (rebuild)", lambda i, key=key: rate(i, key))
    runs = sorted({k for i in infos.values() for k in i if k.startswith("graphql_c")})
    for run in runs:
        c = run.removeprefix("graphql_c")
        for part, label in (("statistics", "GraphQL statistics"), ("board", "GraphQL board first page"),
                            ("sql", "statistics SQL only")):
            add(f"{label} p50 / p95 / max (c={c})",
                lambda i, run=run, part=part: (
                    "{p50:.1f} / {p95:.1f} / {max:.1f} ms".format(**i[run][part]) if run in i else None))
    benchlib.console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
