"""GraphQL latency over the generated data: `statistics` and the board's first page of `disasters`.

    .venv/bin/python ops/bench/graphql.py --backend sqlite
    .venv/bin/python ops/bench/graphql.py --backend postgres -n 400 --concurrency 4

Builds the app as the server does — `create_app(runtime, settings, host)`
with a `ProjectionHost` whose projections are caught up first (and which the
app's lifespan then starts, so its followers poll in the background as in
the server) — and sends requests through httpx's ASGI transport (no socket):
each request runs the bearer-token authentication, the GraphQL layer, the
worker-thread hop and the view's SQL. `-n` statistics queries with varied
areas (the province, its cities, counties and townships) and periods (the
year, a month, a day), sometimes one 一级灾种, then `--board` first pages of
the disaster board (20 rows) for varied areas. Prints p50 / p95 / max per
kind, and the same statistics queries' SQL alone (`view.statistics`) so the
layers' share is visible.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from calendar import monthrange
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

# This folder must not stay on sys.path: graphql.py and projections.py would shadow the
# graphql-core package and the project's projections package.
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import benchlib

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
import httpx
from benchlib import console
from rich.table import Table

from api.app import create_app
from ledger.reference.areas import AreaTable
from ledger.reference.codes import Level
from ledger.runtime import LedgerRuntime
from projections.disasters.statistics import StatisticsQuery
from projections.runner import ProjectionHost

STATISTICS = """
query Stats($area: String!, $period: PeriodInput!, $hazard: String) {
  statistics(area: $area, period: $period, hazard: $hazard) {
    area areaName dateFrom dateTo hazard processes
    totals { indicator name unit value }
    breakdown { code name figures { indicator value } }
    bySubtype { code name figures { indicator value } }
  }
}"""
BOARD = """
query Board($area: String, $first: Int!) {
  disasters(area: $area, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id county countyName hazard hazardName disasterDate stage responseLevel
                          reviewStatus lastReportAt reportCount totals { indicator value } } }
  }
}"""
HAZARDS = ("flood", "wind_hail", "drought", "typhoon")


def draw_queries(rng: random.Random, areas: AreaTable, year: int, n: int) -> list[dict[str, Any]]:
    """Statistics queries: level mix 10 % province, 20 % city, 35 % county, 35 % township; year / month / day."""
    by_level: dict[str, list[str]] = defaultdict(list)
    for area in areas:
        if area.code.value.startswith("32"):
            by_level[area.level.value].append(area.code.prefix)
    levels = [("province", ["32"]), ("city", by_level[Level.CITY.value]), ("county", by_level[Level.COUNTY.value]),
              ("township", by_level[Level.TOWNSHIP.value])]
    out = []
    for _ in range(n):
        level, codes = rng.choices(levels, (10, 20, 35, 35))[0]
        kind = rng.choices(("year", "month", "day"), (30, 40, 30))[0]
        month = rng.choices(range(1, 13), (1, 1, 2, 3, 5, 8, 10, 9, 6, 3, 1, 1))[0]
        if kind == "year":
            period: dict[str, Any] = {"year": year}
        elif kind == "month":
            period = {"month": f"{year}-{month:02d}"}
        else:
            period = {"day": date(year, month, rng.randint(1, monthrange(year, month)[1])).isoformat()}
        hazard = rng.choice(HAZARDS) if rng.random() < 0.2 else None
        out.append({"level": level, "kind": kind, "area": rng.choice(codes), "period": period, "hazard": hazard})
    return out


def period_bounds(period: dict[str, Any]) -> tuple[str, str]:
    if "year" in period:
        return f"{period['year']}-01-01", f"{period['year']}-12-31"
    if "month" in period:
        y, m = (int(x) for x in period["month"].split("-"))
        return date(y, m, 1).isoformat(), date(y, m, monthrange(y, m)[1]).isoformat()
    return period["day"], period["day"]


async def run_requests(client: httpx.AsyncClient, token: str, requests: list[tuple[str, dict[str, Any]]],
                       concurrency: int, label: str) -> tuple[list[float], float, list[dict[str, Any]]]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = [0.0] * len(requests)
    bodies: list[dict[str, Any]] = [{}] * len(requests)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(requests)):
        queue.put_nowait(i)
    ticker = benchlib.Ticker(label, len(requests), every=10)
    done = [0]
    with benchlib.progress_bar(transient=True) as progress:
        task = progress.add_task(label, total=len(requests), note="")

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                query, variables = requests[i]
                start = time.perf_counter()
                response = await client.post("/graphql", json={"query": query, "variables": variables},
                                             headers=headers)
                latencies[i] = time.perf_counter() - start
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(f"request {variables} failed: {response.status_code} {body.get('errors')}")
                bodies[i] = body["data"]
                done[0] += 1
                progress.update(task, advance=1)
                ticker.tick(done[0])

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return latencies, wall, bodies


def vacuum_postgres(settings: Any) -> None:
    """VACUUM (ANALYZE) every table of the bench schema — what autovacuum would have done by now."""
    import psycopg
    from psycopg import sql

    from api.settings import postgres_env

    env = postgres_env(settings.database_url or "")
    schema = env.get("POSTGRES_SCHEMA", "public")
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None, autocommit=True,
    ) as conn:
        autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
        tables = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = %s ORDER BY relname", (schema,))]
        dead = sum(r[0] for r in conn.execute(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = %s", (schema,)))
        start = time.perf_counter()
        for table in tables:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        console.print(f"VACUUM (ANALYZE) of {len(tables)} tables ({dead:,} dead tuples; autovacuum is {autovacuum}"
                      f" on this server): {time.perf_counter() - start:.0f} s")


async def bench(args: argparse.Namespace) -> int:
    settings = benchlib.settings_for(args)
    if args.vacuum and settings.uses_postgres:
        vacuum_postgres(settings)
    label = benchlib.backend_label(settings)
    info = benchlib.read_json(settings.data_dir / benchlib.INFO_FILE)
    tokens = benchlib.read_json(settings.data_dir / benchlib.TOKENS_FILE)
    if "bench-province" not in tokens:
        console.print(f"[red]no bench tokens in {settings.data_dir}: run generate.py first[/red]")
        return 1
    year = int(info.get("year") or args.year or date.today().year - 1)
    runtime = LedgerRuntime(settings.ledger_config(), areas=AreaTable.load(settings.data_dir))
    host = ProjectionHost(runtime)
    stopped = False
    try:
        head = runtime.position()
        console.rule(f"[bold]graphql[/bold] · {label} · {head:,} events · year {year}")
        code = benchlib.CODE_AT_START
        console.print(f"product code measured: {code}")
        for status in host.status():
            if status.lag:
                console.print(f"projection {status.name} is {status.lag:,} events behind: catching up first")
                start = time.perf_counter()
                n = host.followers[status.name].catch_up()
                console.print(f"  caught up {n:,} events in {time.perf_counter() - start:.1f} s")
        rng = random.Random(args.seed)
        stats_queries = draw_queries(rng, runtime.areas, year, args.n)
        counties = [a.code.prefix for a in runtime.areas if a.level is Level.COUNTY and a.code.value.startswith("32")]
        cities = [a.code.prefix for a in runtime.areas if a.level is Level.CITY and a.code.value.startswith("32")]
        board_areas = [rng.choice((["32"], cities, counties, counties)[rng.randrange(4)]) for _ in range(args.board)]
        warm = [(STATISTICS, {"area": "32", "period": {"year": year}, "hazard": None}),
                (BOARD, {"area": "32", "first": 20})] * 3

        app = create_app(runtime, settings, host)
        token = tokens["bench-province"]
        load0 = os.getloadavg()[0]
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
                await run_requests(client, token, warm, 1, "warm-up")
                s_lat, s_wall, s_bodies = await run_requests(
                    client, token,
                    [(STATISTICS, {"area": q["area"], "period": q["period"], "hazard": q["hazard"]})
                     for q in stats_queries],
                    args.concurrency, "statistics")
                b_lat, b_wall, _ = await run_requests(
                    client, token, [(BOARD, {"area": a, "first": 20}) for a in board_areas], args.concurrency,
                    "board")

                # the same statistics queries, SQL only (the view's method: no HTTP, GraphQL or auth);
                # inside the lifespan, whose end closes the views
                view = host.view("statistics")
                sql_lat: list[float] = []
                for q in stats_queries:
                    start_d, end_d = period_bounds(q["period"])
                    sq = StatisticsQuery(area=q["area"], date_from=start_d, date_to=end_d, hazard=q["hazard"])
                    t0 = time.perf_counter()
                    view.statistics(sq)
                    sql_lat.append(time.perf_counter() - t0)
        stopped = True  # the lifespan stopped the host
    finally:
        if not stopped:
            host.stop()
        for follower in host.followers.values():  # older ProjectionHost.stop() left them open
            if not hasattr(follower.projection.view, "close"):
                follower.projection.view.datastore.close()
        runtime.close()

    # figures
    def row(table: Table, name: str, values: list[float], extra: str = "") -> None:
        s = benchlib.summary_ms(values)
        table.add_row(name, f"{s['n']}", f"{s['p50']:.1f}", f"{s['p95']:.1f}", f"{s['max']:.1f}", extra)

    table = Table(title=f"GraphQL latency on {label} ({head:,} events; ms; concurrency {args.concurrency};"
                        f" load {load0:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
                  header_style="bold")
    for col in ("request", "n", "p50", "p95", "max", "note"):
        table.add_column(col, justify="left" if col in ("request", "note") else "right")
    row(table, "[bold]statistics (all)[/bold]", s_lat, f"{len(s_lat) / s_wall:,.0f} req/s")
    row(table, "  SQL only (view.statistics)", sql_lat)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, q in enumerate(stats_queries):
        groups[(q["level"], q["kind"])].append(i)
    for level in ("province", "city", "county", "township"):
        for kind in ("year", "month", "day"):
            idx = groups.get((level, kind), [])
            if idx:
                procs = sorted(s_bodies[i]["statistics"]["processes"] for i in idx)
                row(table, f"  {level} · {kind}", [s_lat[i] for i in idx],
                    f"SQL p50 {benchlib.percentile([sql_lat[i] for i in idx], 50) * 1000:.1f} ms;"
                    f" processes median {procs[len(procs) // 2]:,}")
    row(table, "[bold]board: disasters first page (20)[/bold]", b_lat, f"{len(b_lat) / b_wall:,.0f} req/s")
    console.print(table)
    s = benchlib.summary_ms(s_lat)
    b = benchlib.summary_ms(b_lat)
    info_all = benchlib.read_json(settings.data_dir / benchlib.INFO_FILE)
    info_all[f"graphql_c{args.concurrency}" + ("_vacuumed" if args.vacuum and settings.uses_postgres else "")] = {
        "code": code,
        "statistics": {k: round(v, 1) for k, v in s.items()}, "board": {k: round(v, 1) for k, v in b.items()},
        "sql": {k: round(v, 1) for k, v in benchlib.summary_ms(sql_lat).items()},
        "groups": {f"{level}·{kind}": round(benchlib.summary_ms([s_lat[i] for i in idx])["p95"], 1)
                   for (level, kind), idx in sorted(groups.items()) if idx},
    }
    benchlib.write_json(settings.data_dir / benchlib.INFO_FILE, info_all)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    benchlib.add_storage_args(parser)
    parser.add_argument("-n", type=int, default=200, help="statistics queries (default 200)")
    parser.add_argument("--board", type=int, default=50, help="board first-page queries (default 50)")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight (default 1: pure latency)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vacuum", action="store_true",
                        help="PostgreSQL: VACUUM (ANALYZE) the bench schema first (this server runs autovacuum=off)")
    parser.add_argument("--year", type=int, default=None, help="default: the generated data set's year")
    args = parser.parse_args(argv)
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
