"""Helpers for the end-to-end tests: run the real `relief-ledger` process.

The server is started as `python -m api.cli serve --port <free port>` with a
prepared environment, its stdout and stderr go to files (so a full pipe can
never block it and they can be read after a failure), and it is always
stopped afterwards: SIGTERM, then SIGKILL after 5 s.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "api.cli"]
START_TIMEOUT = 60.0  # a first start loads the demo: slow on a busy machine
CLI_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(data_dir: Path, **overrides: str | None) -> dict[str, str]:
    """The parent's environment minus every RELIEF_* variable, plus the given ones (None = unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELIEF_")}
    env.update({"COLUMNS": "200", "LINES": "50", "TERM": "dumb", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
                "PYTHONIOENCODING": "utf-8", "RELIEF_DATA_DIR": str(data_dir)})
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one CLI command to completion; fail with its output if it fails."""
    proc = subprocess.run(
        [*CLI, *args], check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )
    assert proc.returncode == 0, (
        f"`relief-ledger {' '.join(args)}` exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    )
    return proc


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base_url: str
    stdout_path: Path
    stderr_path: Path
    started: float = field(default_factory=time.monotonic)

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        return f"--- server stdout ---\n{self.stdout()}\n--- server stderr ---\n{self.stderr()}"

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last: str = "no attempt"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode} before it was healthy\n"
                            f"{self.output()}",
                            pytrace=False)
            try:
                response = httpx.get(f"{self.base_url}/health", timeout=5.0)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:500]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
        pytest.fail(f"GET /health not 200 within {timeout:.0f} s (last: {last})\n{self.output()}",
                    pytrace=False)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Server]]:
    """Start the real server with an environment; every server started is stopped at teardown."""
    servers: list[Server] = []
    cwd = tmp_path / "cwd"  # no stray `.env` of the checkout is read
    cwd.mkdir(exist_ok=True)

    def start(env: dict[str, str]) -> Server:
        port = free_port()
        n = len(servers)
        stdout_path = tmp_path / f"server-{n}.stdout"
        stderr_path = tmp_path / f"server-{n}.stderr"
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            proc = subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )
        server = Server(proc, f"http://127.0.0.1:{port}", stdout_path, stderr_path)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def secrets_env() -> dict[str, str]:
    """Configured secrets, as in production: no generated secrets.json."""
    return {
        "RELIEF_CIPHER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "RELIEF_TOKEN_PEPPER": secrets.token_urlsafe(24),
        "RELIEF_PII_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
