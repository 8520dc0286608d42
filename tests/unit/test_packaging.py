"""The wheel carries every package and the package data the product reads at run time.

The product must run from an installed wheel, without this checkout: every
module of the four layers, and the reference data and rules it loads from
`ledger/data` (areas, hazards, indicators, deadlines, relief rules).
"""

from __future__ import annotations

import subprocess
import sys
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
