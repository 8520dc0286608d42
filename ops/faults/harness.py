"""What the crash and outage tests share: a real server process, a store of its own, clients that retry,
and the checks that nothing acknowledged was lost or doubled.

A store of its own: on SQLite an empty data directory, on PostgreSQL a new
database in the local cluster (dropped afterwards) — never a shared one.

Clients: each thread files commands with an Idempotency-Key per command and
retries the same request (same key, same body) after a 503, a timeout or a
refused connection, until it is acknowledged or the run ends. What was
acknowledged is what the checks hold the store to.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("RELIEF_TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
COUNTY = "320921"
TOWNSHIP = "320921100"
VILLAGE = "320921100001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a store of its own ------------------------------------------------------------------------------


@dataclass
class Store:
    backend: str
    data_dir: Path
    database: str | None = None

    @property
    def url(self) -> str | None:
        return None if self.database is None else PG_SERVER.rsplit("/", 1)[0] + f"/{self.database}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELIEF_")}
        env.update({"RELIEF_DATA_DIR": str(self.data_dir), "RELIEF_DEMO": "false", "PYTHONUNBUFFERED": "1",
                    "RELIEF_CIPHER_KEY": SECRETS["cipher"], "RELIEF_TOKEN_PEPPER": SECRETS["pepper"],
                    "RELIEF_PII_KEY": SECRETS["pii"], "RELIEF_STORAGE_WAIT_SECONDS": "1",
                    "RELIEF_POSTGRES_CONNECT_TIMEOUT": "3", "RELIEF_SEAL_MINUTES": "0.05",
                    "RELIEF_AUTH_FAILURE_BURST": "1000"})
        if self.url:
            env["RELIEF_DATABASE_URL"] = self.url
        return env


SECRETS = {"cipher": base64.b64encode(secrets.token_bytes(32)).decode(), "pepper": secrets.token_urlsafe(24),
           "pii": base64.b64encode(secrets.token_bytes(32)).decode()}


def admin_sql(statement: str, params: tuple[Any, ...] = ()) -> None:
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement, params)  # type: ignore[arg-type]


@contextmanager
def own_store(backend: str) -> Iterator[Store]:
    with tempfile.TemporaryDirectory(prefix=f"relief-{backend}-") as tmp:
        store = Store(backend, Path(tmp) / "data")
        if backend == "postgres":
            store.database = f"relief_faults_{uuid.uuid4().hex[:10]}"
            admin_sql(f'CREATE DATABASE "{store.database}"')
        try:
            yield store
        finally:
            if store.database:
                admin_sql(f'ALTER DATABASE "{store.database}" ALLOW_CONNECTIONS true')
                admin_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                          (store.database,))
                admin_sql(f'DROP DATABASE IF EXISTS "{store.database}"')


# --- the server ---------------------------------------------------------------------------------------


@dataclass
class Server:
    store: Store
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        self.log = self.store.data_dir.parent / f"server-{self.starts}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.store.env(), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not become healthy:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind (its projections worker dies with it)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log and self.log.exists() else ""


def cli(store: Store, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "api.cli", *args], env=store.env(), cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"relief-ledger {' '.join(args)}: {proc.stdout}\n{proc.stderr}")
    return proc.stdout


def account(store: Store, username: str, role: str, scope: str) -> str:
    return cli(store, "accounts", "add", username, "--role", role, "--scope", scope).strip().splitlines()[-1].strip()


# --- clients --------------------------------------------------------------------------------------------


@dataclass
class Acknowledged:
    kind: str  # "follow_up" | "payment"
    aggregate: str
    key: str
    answer: dict[str, Any]
    detail: str = ""


@dataclass
class Tally:
    acknowledged: list[Acknowledged] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    slowest_503: float = 0.0
    slowest: float = 0.0
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: int, seconds: float, text: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            self.slowest = max(self.slowest, seconds)
            if status == 503:
                self.slowest_503 = max(self.slowest_503, seconds)
            if status >= 500 and status != 503:
                self.server_errors.append(f"{status}: {text[:300]}")


def send_until_acknowledged(url: str, path: str, body: dict[str, Any], token: str, key: str, tally: Tally,
                            stop: threading.Event, give_up: float) -> dict[str, Any] | None:
    """POST with the same Idempotency-Key until a 2xx (the answer), a 4xx (refused), or time runs out."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    while time.monotonic() < give_up:
        started = time.monotonic()
        try:
            response = httpx.post(f"{url}{path}", json=body, headers=headers, timeout=30)
        except httpx.HTTPError:
            with tally.lock:
                tally.transport_errors += 1
            time.sleep(0.2)
            continue
        tally.note(response.status_code, time.monotonic() - started, response.text)
        if response.status_code < 300:
            return response.json()
        if response.status_code == 503:
            time.sleep(min(float(response.headers.get("Retry-After", "1")), 1.0))
            continue
        if response.status_code >= 500:
            time.sleep(0.5)
            continue
        raise AssertionError(f"refused: POST {path} → {response.status_code} {response.text[:500]}")
    return None


def _catalogue() -> Any:
    from ledger.reference.hazards import HazardCatalogue

    return HazardCatalogue.load()


CATALOGUE = _catalogue()


def reporter(url: str, token: str, hazard: str, tally: Tally, stop: threading.Event, give_up: float) -> None:
    """Opens its own process (初报), then files 续报 after 续报, each with its own key."""
    occurred = datetime.now(UTC) - timedelta(days=2)
    body = {"county": COUNTY, "hazard": hazard, "occurred_at": occurred.isoformat(),
            "figures": {TOWNSHIP: {"affected_population": 1}}}
    subtypes = CATALOGUE.hazards[hazard].subtypes
    if subtypes:
        body["subtype"] = next(iter(subtypes))  # the county gives the 亚灾种
    opened = send_until_acknowledged(url, "/v1/disasters", body, token, f"open-{hazard}-{uuid.uuid4()}", tally,
                                     stop, give_up)
    if opened is None:
        return
    disaster = opened["id"]
    n = 1
    while not stop.is_set():
        n += 1
        key = f"follow-{disaster}-{n}"
        as_of = occurred + timedelta(minutes=n)
        answer = send_until_acknowledged(
            url, f"/v1/disasters/{disaster}/follow-ups",
            {"as_of": as_of.isoformat(), "figures": {TOWNSHIP: {"affected_population": n}}}, token, key, tally,
            stop, give_up)
        if answer is None:
            return
        with tally.lock:
            tally.acknowledged.append(Acknowledged("follow_up", disaster, key, answer, str(n)))


def payer(url: str, token: str, case: str, tally: Tally, stop: threading.Event, give_up: float) -> None:
    """Pays its household in small sums, each payment with its own id and key."""
    n = 0
    while not stop.is_set():
        n += 1
        payment = f"p{uuid.uuid4().hex[:12]}"
        answer = send_until_acknowledged(
            url, f"/v1/relief/cases/{case}/payments",
            {"amount_fen": 100, "batch_id": "faults", "bank_ref": f"B{n}", "payment_id": payment},
            token, f"pay-{payment}", tally, stop, give_up)
        if answer is None:
            return
        with tally.lock:
            tally.acknowledged.append(Acknowledged("payment", case, payment, answer))


def run_clients(workers: list[Callable[[threading.Event, float], None]], seconds: float,
                during: Callable[[threading.Event], None] | None = None) -> None:
    stop = threading.Event()
    give_up = time.monotonic() + seconds + 120  # in-flight requests keep retrying after the stop
    threads = [threading.Thread(target=w, args=(stop, give_up), daemon=True) for w in workers]
    for t in threads:
        t.start()
    if during is not None:
        during(stop)
    else:
        time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=180)


# --- households with money to pay --------------------------------------------------------------------------


def approved_households(store: Store, count: int, amount_fen: int) -> list[str]:
    """Cases through 户报 → 村评 → 公示 → 乡审 → 县定 and a fund to pay them from, made with the use cases
    directly: applied, assessed and posted today; reviewed and approved on a clock ten days ahead, so the
    7-day posting has ended by its stated dates and by its recorded time (recorded times are the real ones)."""
    from api.settings import Settings, prepare_postgres
    from ledger.accounts.service import local_operator
    from ledger.relief.applications import Application
    from ledger.runtime import LedgerRuntime

    os.environ.update({k: v for k, v in store.env().items() if k.startswith("RELIEF_")})
    settings = Settings()
    if settings.uses_postgres:
        prepare_postgres(settings.ledger_config().persistence)
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    season = f"{today.year}-{today.year + 1}" if today.month >= 6 else f"{today.year - 1}-{today.year}"
    cases = []
    with LedgerRuntime(settings.ledger_config()) as rt:
        op = local_operator()
        for username, role, scope in (("faults-township", "township", TOWNSHIP),
                                      ("faults-relief", "relief_officer", COUNTY)):
            if not rt.accounts.exists(username):
                rt.accounts.register(op, username, role, scope)
        township = rt.accounts.get("faults-township").as_actor()
        officer = rt.accounts.get("faults-relief").as_actor()
        rt.relief.allocate(officer, COUNTY, "winter_spring", season, "central", count * amount_fen * 2,
                           f"faults-{uuid.uuid4().hex[:6]}")
        for i in range(count):
            seventeen = f"320921198001{(i % 28) + 1:02d}{100 + i:03d}"
            application = Application(
                programme="winter_spring", period=season, village=VILLAGE, head_name=f"户主{i}",
                id_number=seventeen + _check(seventeen), phone="13800138000", card_number=_card(i),
                household_type="一般户", household_size=3, people_in_need=2, address="东园", causes=[], needs=[],
                applied_on=today)
            case = rt.relief.apply(township, application).id
            rt.relief.assess(township, case, "会议记录", True, today)
            rt.relief.post(township, case, today, today + timedelta(days=6), "公开栏")
            cases.append(case)
    later = settings.ledger_config()
    later.clock = lambda: datetime.now(UTC) + timedelta(days=10)
    with LedgerRuntime(later) as rt:
        township = rt.accounts.get("faults-township").as_actor()
        officer = rt.accounts.get("faults-relief").as_actor()
        for case in cases:
            rt.relief.township_review(township, case)
            rt.relief.approve(officer, case, amount_fen, "故障测试：超标准")
    return [str(c) for c in cases]


def _check(first17: str) -> str:
    from ledger.personal.identifiers import id_check_digit

    return id_check_digit(first17)


def _card(i: int) -> str:
    """A 19-digit card number whose last digit passes the Luhn check."""
    base = f"62170000{i:010d}"
    total = 0
    for k, c in enumerate(reversed(base)):
        n = int(c) * (2 if k % 2 == 0 else 1)  # doubled from the right, the check digit not yet there
        total += n - 9 if n > 9 else n
    return base + str((10 - total % 10) % 10)


# --- the checks ---------------------------------------------------------------------------------------------


def check_store(store: Store, tally: Tally) -> dict[str, Any]:
    """Every acknowledged command is in the store exactly once; every projection equals a rebuild from
    zero; the seal verifies. Returns figures for the report."""
    from uuid import UUID

    from api.settings import Settings
    from ledger.runtime import LedgerRuntime
    from projections.audit.seal import Sealer
    from projections.registry import PROJECTIONS
    from projections.runner import Follower, open_projection

    os.environ.update({k: v for k, v in store.env().items() if k.startswith("RELIEF_")})
    config = Settings().ledger_config()
    problems: list[str] = []
    with LedgerRuntime(config) as rt:
        follow_ups: dict[str, list[Acknowledged]] = {}
        payments: dict[str, set[str]] = {}
        for ack in tally.acknowledged:
            [event] = rt.app.recorder.select_notifications(start=ack.answer["position"], limit=1)
            if (str(event.originator_id), event.originator_version) != (ack.answer["id"], ack.answer["version"]):
                problems.append(f"{ack.kind} {ack.key}: the answered position holds another event")
            if ack.kind == "follow_up":
                follow_ups.setdefault(ack.aggregate, []).append(ack)
            else:
                payments.setdefault(ack.aggregate, set()).add(ack.key)
        for disaster, acks in follow_ups.items():
            stored = [e for e in rt.app.events.get(UUID(disaster)) if type(e).__name__ == "FollowUpReportFiled"]
            if len(stored) != len(acks):
                problems.append(f"process {disaster}: {len(acks)} 续报 acknowledged, {len(stored)} stored")
        for case_id, paid in payments.items():
            case = rt.app.repository.get(UUID(case_id))
            if set(case.payments) != paid:
                problems.append(f"case {case_id}: {len(paid)} payments acknowledged, {len(case.payments)} stored")
        for name, cls in PROJECTIONS.items():
            follower = Follower(rt.app, open_projection(cls, config.persistence, config.data_dir, rt.pii))
            follower.catch_up()
            live = dump(follower.projection.view, rt.pii)
            follower.rebuild()
            rebuilt = dump(follower.projection.view, rt.pii)
            if live != rebuilt:
                problems.append(f"projection {name} differs from its rebuild from zero")
            follower.close()
        with Sealer(rt) as sealer:
            published = [c.line for c in sealer.checkpoints()]
            sealer.seal()
            verified = sealer.verify("\n".join(published)) if published else sealer.verify()
        if not verified.ok:
            problems.append(f"seal: {verified.summary()}")
        figures = {"events": rt.position(), "acknowledged": len(tally.acknowledged),
                   "checkpoints_published": len(published)}
    if problems or tally.server_errors:
        raise AssertionError("\n".join(problems + tally.server_errors[:10]))
    return figures


def dump(view: Any, pii: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of a view; encrypted columns decrypted (each encryption has its own nonce)."""
    tables = [t for t in view.view_tables() if not t.endswith("_dead_letters")]
    rows = {t: view.query(f"SELECT * FROM {t}") for t in tables}
    for table in rows.values():
        for row in table:
            for column in [c for c in row if c.endswith("_cipher") and row[c]]:
                row[column] = pii.decrypt(row[column])
    # compared as sets of rows: a table's key may span more than its first columns
    return {t: sorted(table, key=lambda r: json.dumps(r, sort_keys=True, default=str)) for t, table in rows.items()}


def report(title: str, figures: dict[str, Any], tally: Tally) -> None:
    print(json.dumps({"run": title, **figures, "statuses": dict(sorted(tally.statuses.items())),
                      "transport_errors": tally.transport_errors, "slowest_s": round(tally.slowest, 2),
                      "slowest_503_s": round(tally.slowest_503, 2)}, ensure_ascii=False))


def today() -> date:
    return datetime.now(UTC).date()
