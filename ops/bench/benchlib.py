"""Shared plumbing of the benchmark scripts (not a test, not product code).

Each script takes the same storage options, builds the store exactly as the
service does (`api.settings.Settings.ledger_config()`: encryption on, the key
kept in the data directory, PostgreSQL schema created when missing) and
prints its figures with rich.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from api.settings import Settings, postgres_env, prepare_postgres

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_VAR = BENCH_DIR / "var"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/relief_bench?schema=bench"
SHARED_AREAS = next((p / "shared" / "data" / "areas" for p in ROOT.parents
                     if (p / "shared" / "data" / "areas").is_dir()), ROOT.parent / "shared" / "data" / "areas")
"""The national area tables (beside the checkout, or beside a folder of checkouts)."""
TOKENS_FILE = "bench-tokens.json"
INFO_FILE = "bench-dataset.json"

console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)


# --- options and settings ----------------------------------------------------------------------


def add_storage_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help=f"secrets, imported areas, tokens and (SQLite) the store; default {DEFAULT_VAR}/<backend>",
    )
    parser.add_argument(
        "--database-url", default=None,
        help=f"PostgreSQL only; default {DEFAULT_PG_URL} (the database is created if missing)",
    )


def settings_for(args: argparse.Namespace) -> Settings:
    data_dir = (args.data_dir or DEFAULT_VAR / args.backend).resolve()
    if args.backend == "postgres":
        url = args.database_url or DEFAULT_PG_URL
        ensure_database(url)
    else:
        url = None
    # Explicit values win over RELIEF_* variables and .env; no demo data.
    return Settings(data_dir=data_dir, database_url=url, demo=False, environment="development")


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist (and its schema)."""
    import psycopg
    from psycopg import sql

    env = postgres_env(url)
    dbname = env["POSTGRES_DBNAME"]
    with psycopg.connect(
        dbname="postgres", host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None, autocommit=True, connect_timeout=5,
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            console.print(f"created PostgreSQL database [bold]{dbname}[/bold]")
    prepare_postgres(env)


def reset_store(settings: Settings) -> None:
    """Forget a previous data set: the store, the projections' views and the bench tokens (keys are kept)."""
    data_dir = settings.data_dir
    if settings.uses_postgres:
        import psycopg
        from psycopg import sql

        env = postgres_env(settings.database_url or "")
        schema = env.get("POSTGRES_SCHEMA", "public")
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None, autocommit=True,
        ) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        prepare_postgres(env)
    else:
        for path in data_dir.glob("ledger*.sqlite*"):
            path.unlink()
    for name in (TOKENS_FILE, INFO_FILE):
        (data_dir / name).unlink(missing_ok=True)
    shutil.rmtree(data_dir / "areas", ignore_errors=True)


def store_size(settings: Settings) -> str:
    """Human size of the store (SQLite files, or the PostgreSQL schema's relations)."""
    if settings.uses_postgres:
        import psycopg

        env = postgres_env(settings.database_url or "")
        schema = env.get("POSTGRES_SCHEMA", "public")
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
        ) as conn:
            rows = conn.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'"
                " ORDER BY 2 DESC",
                (schema,),
            ).fetchall()
        return ", ".join(f"{name} {human_bytes(size)}" for name, size in rows if size > 64 * 1024) or "empty"
    files = sorted(settings.data_dir.glob("ledger*.sqlite*"))
    return ", ".join(f"{p.name} {human_bytes(p.stat().st_size)}" for p in files if p.stat().st_size) or "empty"


def store_bytes(settings: Settings) -> int:
    """Bytes of the whole data set: on PostgreSQL every relation of the schema (events, views, indexes,
    TOAST), on SQLite every database file of the data directory (the log and the views' files)."""
    if settings.uses_postgres:
        import psycopg

        env = postgres_env(settings.database_url or "")
        schema = env.get("POSTGRES_SCHEMA", "public")
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
        ) as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                (schema,),
            ).fetchone()
        return int(row[0]) if row else 0
    return sum(p.stat().st_size for p in settings.data_dir.rglob("*.sqlite*") if p.is_file())


def code_fingerprint() -> str:
    """Which product code was measured (a working tree may hold uncommitted changes): a short hash over
    the product's packages (ledger/, projections/, api/, schemas/), and their newest mtime."""
    import hashlib
    from datetime import datetime

    files = sorted(p for layer in ("ledger", "projections", "api", "schemas") for p in (ROOT / layer).rglob("*.py"))
    digest = hashlib.sha256()
    newest = 0.0
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    stamp = datetime.fromtimestamp(newest).astimezone().isoformat(timespec="seconds")
    return f"{digest.hexdigest()[:12]} (newest file {stamp})"


#: The product code as it was when this benchmark started (the scripts import it right after this module).
CODE_AT_START = code_fingerprint()


def close_view(view: Any) -> None:
    """Release a projection view's connections (older views had no close() of their own)."""
    close = getattr(view, "close", None)
    if callable(close):
        close()
    else:
        view.datastore.close()


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, ensure_ascii=False, indent=2, default=str)
    os.replace(tmp, path)


def backend_label(settings: Settings) -> str:
    return "PostgreSQL" if settings.uses_postgres else "SQLite"


# --- progress ------------------------------------------------------------------------------------


class RateColumn(ProgressColumn):
    """Events per second over rich's moving window."""

    def __init__(self, unit: str = "ev/s") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:>9,.0f} {self.unit}" if speed else f"{'?':>9} {self.unit}", style="progress.data.speed")


def progress_bar(transient: bool = False) -> Progress:
    return Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(bar_width=None),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
        transient=transient,
        disable=not console.is_terminal,  # logs get Ticker lines instead
        refresh_per_second=4,
    )


class Ticker:
    """A plain line every `every` seconds when the output is not a terminal (nohup, logs)."""

    def __init__(self, label: str, total: int, every: float = 15.0) -> None:
        self.label = label
        self.total = total
        self.every = every
        self.start = time.perf_counter()
        self.last = self.start
        self.enabled = not console.is_terminal

    def tick(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed else 0.0
        pct = 100.0 * done / self.total if self.total else 0.0
        console.print(f"  {self.label}: {done:,}/{self.total:,} ({pct:.1f} %) {rate:,.0f}/s {elapsed:.0f} s {note}")


class Clock:
    """Wall time and this process's CPU time of one measured phase, and the machine's load meanwhile.

    The machine may be shared: when other work competes for the cores, the
    wall rate falls while events per CPU-second of this process stays put
    (on PostgreSQL the server's own CPU is not in it).
    """

    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.load0 = os.getloadavg()[0]
        self.wall = self.cpu = 0.0

    def stop(self) -> Clock:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0
        self.load1 = os.getloadavg()[0]
        return self

    def cells(self, n: int) -> tuple[str, str, str, str]:
        """seconds, events/s, CPU share, events per CPU-second."""
        return (f"{self.wall:,.1f}", f"{n / self.wall:,.0f}", f"{100 * self.cpu / self.wall:.0f} %",
                f"{n / self.cpu:,.0f}" if self.cpu else "-")

    def as_dict(self, n: int) -> dict[str, float]:
        return {"events": n, "seconds": round(self.wall, 1), "cpu_seconds": round(self.cpu, 1),
                "events_per_second": round(n / self.wall), "events_per_cpu_second": round(n / self.cpu) if self.cpu else 0,
                "load_start": round(self.load0, 2), "load_end": round(self.load1, 2)}


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50) * 1000,
        "p95": percentile(values, 95) * 1000,
        "max": max(values) * 1000 if values else float("nan"),
        "mean": statistics.fmean(values) * 1000 if values else float("nan"),
    }
