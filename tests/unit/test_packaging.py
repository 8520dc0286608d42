"""The wheel carries every package and the package data the product reads at run time.

The product must run from an installed wheel, without this checkout: every
module of the four layers, the reference data and rules it loads from
`ledger/data` (areas, hazards, indicators, deadlines, relief rules), and the
web interface's templates, its own static files and the front-end assets
fetched by `ops/fetch-assets` (so a wheel built on a connected machine
carries them to an intranet).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_every_module_and_the_package_data(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path),
         str(ROOT)], capture_output=True, text=True, timeout=300, check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("relief_ledger-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for layer in ("ledger", "projections", "api", "schemas")
                for p in (ROOT / layer).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert expected - names == set()
    assert {"ledger/data/areas-seed.csv", "ledger/data/indicators.csv", "ledger/data/hazards.toml",
            "ledger/data/deadlines.toml", "ledger/data/relief.toml", "ledger/data/rules.toml"} <= names
    assert not any(n.startswith(("tests/", "ops/")) for n in names)


def test_the_wheel_carries_the_web_templates_and_every_pinned_front_end_asset(tmp_path: Path) -> None:
    fetched = subprocess.run([sys.executable, str(ROOT / "ops" / "fetch-assets")], capture_output=True, text=True,
                             timeout=300, check=False)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path),
         str(ROOT)], capture_output=True, text=True, timeout=300, check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("relief_ledger-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    manifest = tomllib.loads((ROOT / "api" / "web" / "assets.toml").read_text(encoding="utf-8"))
    vendor = {f"api/web/static/vendor/{p['dir']}/{dest}" for p in manifest["package"] for dest in p["files"].values()}
    assert vendor - names == set()
    assert {"api/web/templates/base.html", "api/web/templates/disasters/initial.html", "api/web/static/app.js",
            "api/web/static/app.css", "api/web/assets.toml", "api/web/static/vendor/MANIFEST-SHA256"} <= names
