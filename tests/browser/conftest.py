"""Browser tests: the real server in a subprocess, driven by Debian's headless Chromium (Selenium).

One server per test module, on a free port, over a fresh SQLite data
directory with the demo loaded (an account per role, web passwords in
`demo-passwords.json`). The browser is Debian's `/usr/bin/chromium` driven
through `/usr/bin/chromedriver` — nothing is downloaded. When it cannot
start the tests are skipped, except under CI=true, where that is a failure.

Screenshots of every page visited with `shoot()` are kept at phone and
desktop width under `test-artifacts/screenshots/` (ignored by git).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CLI, Server, base_env, free_port

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("RELIEF_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RELIEF_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = (390, 844)
DESKTOP = (1366, 900)


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (under CI the browser tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real server with the demo loaded: its base URL and the demo passwords.

    `web["restart"](**env)` starts it again on the same data directory and port with more environment
    (e.g. RELIEF_CLOCK_OFFSET_SECONDS, to let a 7-day posting run its course); `web["restart"]()` undoes it."""
    tmp = tmp_path_factory.mktemp("web")
    data_dir = tmp / "data"
    port = free_port()
    servers: list[Server] = []

    def start(**overrides: str) -> Server:
        if servers:
            servers[-1].stop()
        n = len(servers)
        out, err = tmp / f"server-{n}.stdout", tmp / f"server-{n}.stderr"
        with out.open("wb") as o, err.open("wb") as e:
            proc = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                    env=base_env(data_dir, **overrides), cwd=tmp, stdout=o, stderr=e,
                                    stdin=subprocess.DEVNULL)
        server = Server(proc, f"http://127.0.0.1:{port}", out, err)
        servers.append(server)
        server.wait_healthy(timeout=60)
        return server

    try:
        server = start()
        passwords = json.loads((data_dir / "demo-passwords.json").read_text())
        yield {"url": server.base_url, "passwords": passwords, "server": server, "data_dir": data_dir,
               "restart": start}
    finally:
        servers[-1].stop()


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        _unavailable(f"selenium is not installed: {exc}")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        _unavailable(f"Chromium not found ({CHROMIUM}, {CHROMEDRIVER}); ops/test installs it as root")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=zh-CN"):
        options.add_argument(arg)
    try:
        browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    except Exception as exc:  # noqa: BLE001 — whatever stops the browser, say it
        _unavailable(f"headless Chromium did not start: {exc}")
    browser.implicitly_wait(0)
    yield browser
    browser.quit()


def shoot(driver: Any, name: str) -> None:
    """Keep the current page at phone and desktop width (full height)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        driver.set_window_size(width, height)
        full = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        driver.set_window_size(width, min(max(int(full) + 140, height), 6000))
        driver.save_screenshot(str(SHOTS / f"{name}-{label}.png"))
    driver.set_window_size(*DESKTOP)


def clear_shots() -> None:
    shutil.rmtree(SHOTS, ignore_errors=True)
