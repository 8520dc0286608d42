"""续报 over HTTP against the library's raw save of the same events, at 1 and 4 requests in flight.

    .venv/bin/python ops/bench/filing.py --backend sqlite
    .venv/bin/python ops/bench/filing.py --backend postgres -n 400

On the store written by generate.py, in one run:

(a) raw: `app.save(disaster)` of one 续报 event (FollowUpReportFiled) per call, the domain command run
    before the clock starts — the library's own cost of storing that event; 1 and 4 threads, each on
    processes of its own;
(b) HTTP: the real server (`relief-ledger serve`, projections in their worker process, as deployed)
    on the same store, `POST /v1/disasters/{id}/follow-ups` with a county officer's bearer token and
    an Idempotency-Key, 1 and 4 clients in flight, each on processes of its own.

Prints requests/s and p50 / p95 per side and the ratios; stores them in bench-dataset.json (`filing`).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import benchlib

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
import httpx

from ledger.accounts.service import local_operator
from ledger.disasters.inputs import InitialReport
from ledger.reference.areas import AreaTable
from ledger.runtime import LedgerRuntime
from ledger.store.errors import Conflict, Problems

console = benchlib.console
COUNTY, TOWNSHIP, USER = "320921", "320921100", "bench-filer"


def open_processes(runtime: LedgerRuntime, n: int) -> list[uuid.UUID]:
    """`n` fresh processes of the bench county (this year; keys already taken are skipped)."""
    actor = runtime.accounts.authenticate(token_of(runtime))
    ids: list[uuid.UUID] = []
    now = datetime.now(UTC)
    for day in range(2, 340):
        for hazard in list(runtime.hazards.hazards):
            if len(ids) >= n:
                return ids
            occurred = now - timedelta(days=day, hours=1)
            try:
                result = runtime.disasters.file_initial(actor, InitialReport(
                    county=COUNTY, hazard=hazard, occurred_at=occurred,
                    figures={TOWNSHIP: {"affected_population": 1000}}))
            except Conflict:
                continue
            ids.append(result.id)
    return ids


_TOKEN: dict[str, str] = {}


def token_of(runtime: LedgerRuntime) -> str:
    if USER not in _TOKEN:
        operator = local_operator()
        if not runtime.accounts.exists(USER):
            runtime.accounts.register(operator, USER, "county", COUNTY, "benchmark county filer")
        _TOKEN[USER], _ = runtime.accounts.issue_token(operator, USER, label="bench")
    return _TOKEN[USER]


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


def raw_saves(runtime: LedgerRuntime, ids: list[uuid.UUID], total: int, threads: int) -> tuple[list[float], float]:
    """The library's save of one FollowUpReportFiled per call; the domain command is run untimed."""
    actor = runtime.accounts.authenticate(token_of(runtime)).as_dict()
    policy = runtime.disasters._policy()
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = total // threads

    def work(mine: list[uuid.UUID]) -> None:
        aggregates = [runtime.app.repository.get(i) for i in mine]
        out = []
        for k in range(per_thread):
            d = aggregates[k % len(aggregates)]
            value = 1000 + d.version
            d.file_follow_up(figures={TOWNSHIP: _figures(runtime, value)}, explanation=None, phoned_at=None,
                             as_of=datetime.now(UTC) - timedelta(seconds=1), actor=actor, policy=policy,
                             refiles=None)
            start = time.perf_counter()
            runtime.app.save(d)
            out.append(time.perf_counter() - start)
        with lock:
            latencies.extend(out)

    workers = [threading.Thread(target=work, args=(part,)) for part in split(ids, threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, time.perf_counter() - start


def _figures(runtime: LedgerRuntime, value: int) -> Any:
    problems = Problems()
    found = runtime.disasters.inputs.figures(COUNTY, {TOWNSHIP: {"affected_population": value}}, problems)
    problems.raise_if_any("bench figures", "bench figures")
    return found[TOWNSHIP]


def http_filings(base_url: str, token: str, ids: list[uuid.UUID], total: int, clients: int,
                 versions: dict[uuid.UUID, int]) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = total // clients
    failures: list[str] = []

    def work(mine: list[uuid.UUID]) -> None:
        out = []
        with httpx.Client(base_url=base_url, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            for k in range(per_client):
                d = mine[k % len(mine)]
                versions[d] += 1
                body = {"as_of": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
                        "figures": {TOWNSHIP: {"affected_population": 1000 + versions[d]}}}
                start = time.perf_counter()
                r = http.post(f"/v1/disasters/{d}/follow-ups", json=body,
                              headers={"Idempotency-Key": uuid.uuid4().hex})
                out.append(time.perf_counter() - start)
                if r.status_code != 201:
                    failures.append(f"{r.status_code} {r.text[:300]}")
                    return
        with lock:
            latencies.extend(out)

    workers = [threading.Thread(target=work, args=(part,)) for part in split(ids, clients)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:
        raise RuntimeError(f"a 续报 failed: {failures[0]}")
    return latencies, time.perf_counter() - start


def start_server(settings: Any) -> tuple[subprocess.Popen[bytes], str, Path]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELIEF_")}
    env.update({"RELIEF_DATA_DIR": str(settings.data_dir), "RELIEF_DEMO": "false",
                "RELIEF_ENVIRONMENT": "development", "PYTHONUNBUFFERED": "1"})
    if settings.database_url:
        env["RELIEF_DATABASE_URL"] = settings.database_url
    log = settings.data_dir / "bench-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, cwd=benchlib.ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return proc, base, log
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"the server did not become healthy: {log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    benchlib.add_storage_args(parser)
    parser.add_argument("-n", type=int, default=200, help="续报 per side and concurrency (default 200)")
    parser.add_argument("--processes", type=int, default=8, help="fresh processes per side (default 8)")
    args = parser.parse_args(argv)
    settings = benchlib.settings_for(args)
    label = benchlib.backend_label(settings)
    runtime = LedgerRuntime(settings.ledger_config(), areas=AreaTable.load(settings.data_dir))
    results: dict[str, Any] = {"code": benchlib.CODE_AT_START}
    try:
        console.rule(f"[bold]filing[/bold] · {label} · {runtime.position():,} events in the log")
        token = token_of(runtime)
        raw_ids = open_processes(runtime, args.processes)
        http_ids = open_processes(runtime, args.processes)
        if len(raw_ids) < 4 or len(http_ids) < 4:
            console.print("[red]could not open enough fresh processes[/red]")
            return 1
        for c in (1, 4):
            lat, _wall = raw_saves(runtime, raw_ids, args.n, c)
            # saves per second of saving: the untimed domain commands between the saves are left out
            results[f"raw_c{c}"] = {"per_second": round(len(lat) * c / sum(lat), 1), **benchlib.summary_ms(lat),
                                    "load": round(os.getloadavg()[0], 2)}
    finally:
        runtime.close()
    proc, base, log = start_server(settings)
    try:
        versions = dict.fromkeys(http_ids, 1)
        http_filings(base, token, http_ids, 8, 4, versions)  # warm-up
        for c in (1, 4):
            lat, wall = http_filings(base, token, http_ids, args.n, c, versions)
            results[f"http_c{c}"] = {"per_second": round(len(lat) / wall, 1), **benchlib.summary_ms(lat),
                                     "load": round(os.getloadavg()[0], 2)}
    finally:
        stop_server(proc)
    for c in (1, 4):
        raw, http = results[f"raw_c{c}"], results[f"http_c{c}"]
        console.print(f"  {c} in flight: raw save {raw['per_second']:,.0f}/s p50 {raw['p50']:.1f} ms · "
                      f"HTTP 续报 {http['per_second']:,.0f}/s p50 {http['p50']:.1f} ms p95 {http['p95']:.1f} ms · "
                      f"rate ratio {http['per_second'] / raw['per_second']:.2f} · p50 ×{http['p50'] / raw['p50']:.1f}"
                      f" · load {http['load']}")
    info = benchlib.read_json(settings.data_dir / benchlib.INFO_FILE)
    info["filing"] = results
    benchlib.write_json(settings.data_dir / benchlib.INFO_FILE, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
