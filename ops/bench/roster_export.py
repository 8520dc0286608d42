"""The 花名册 (应急统表10) export of N households: time and peak memory, before and after the streaming writer.

    .venv/bin/python ops/bench/roster_export.py                 # 100,000 households
    .venv/bin/python ops/bench/roster_export.py --rows 20000    # a quick look
    .venv/bin/python ops/bench/roster_export.py --only after --backend postgres   # record into that data set

Rows are shaped as the roster view yields them (masked ID / phone / card numbers, names and addresses
encrypted with the product's personal-data cipher); the export is written as an officer within scope
gets it (names and addresses decrypted, numbers masked). Each variant runs in a child process of its
own so its peak resident memory (resource.getrusage) is its alone:

- before: openpyxl's write-only workbook, the cell objects and styles the export used to build;
- after: the product's `api.files.relief.write_roster` (rows streamed into the compressed sheet).

Also printed: tracemalloc's peak of Python allocations while writing a sample (tracemalloc slows
the writer several times, so it runs on --traced rows). Figures go into bench-dataset.json
(`roster_export`) when --backend/--data-dir name a data set.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import benchlib

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from ledger.personal.identifiers import id_check_digit, mask_card, mask_id, mask_phone
from ledger.personal.keys import PersonalDataKey

console = benchlib.console

TARGET_SECONDS, TARGET_MB = 10.0, 500.0


def roster_rows(n: int, key: PersonalDataKey) -> Iterator[dict[str, Any]]:
    """`n` rows as RosterView.iter_rows gives them, made one at a time (ciphers made once, reused)."""
    names = [key.encrypt(f"王{chr(0x4E00 + i)}{chr(0x4E00 + 7 * i)}") for i in range(500)]
    addresses = [key.encrypt(f"响水镇东园居委会 {i} 组 {i * 7} 号") for i in range(500)]
    for seq in range(n):
        first17 = f"3209211980{seq % 12 + 1:02d}{seq % 28 + 1:02d}{seq % 1000:03d}"
        id_number, phone, card = first17 + id_check_digit(first17), f"138{seq:08d}", f"6217000010{seq:09d}"
        yield {
            "case_id": f"case-{seq:07d}", "head_name": f"王*{seq % 10}", "head_name_cipher": names[seq % 500],
            "id_masked": mask_id(id_number), "id_cipher": "", "phone_masked": mask_phone(phone), "phone_cipher": "",
            "card_masked": mask_card(card), "card_cipher": "", "household_type": ("低保户", "特困户", "一般户")[seq % 3],
            "household_size": 1 + seq % 6, "address": "响水镇****", "address_cipher": addresses[seq % 500],
            "people_in_need": 1 + seq % 4, "paid_fen": 90050 + seq, "goods_fen": 12000, "payment_form": "一卡通",
            "stage": ("approved", "paid", "posted")[seq % 3], "village": f"320921100{seq % 200:03d}",
            "township": "320921100", "county": "320921",
        }


# --- before: the export as it was (openpyxl write-only, a cell object per styled or exact cell) -------------


def write_roster_before(rows: Any, out: Path, names: Callable[[str], str]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from api.files.relief import EXTRA_COLUMNS, ROSTER_COLUMNS, ROSTER_TITLE, _roster_values

    columns = ROSTER_COLUMNS + EXTRA_COLUMNS
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("应急统表10")
    for i, c in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A3"
    title = WriteOnlyCell(ws, value=ROSTER_TITLE)
    title.font, title.alignment = Font(bold=True, size=14), Alignment(horizontal="center")
    ws.append([title])
    ws.merged_cells.add(f"A1:{get_column_letter(len(columns))}1")
    box = Border(*(Side(style="thin"),) * 4)
    head = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=c.header)
        cell.font, cell.border, cell.fill = Font(bold=True), box, PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        head.append(cell)
    ws.append(head)

    def value(v: Any) -> Any:
        if isinstance(v, str):
            v = ILLEGAL_CHARACTERS_RE.sub("", v)
            if v.startswith("=") or v in ERROR_CODES:
                cell = WriteOnlyCell(ws, value=" ")
                cell._value, cell.data_type = v, "s"
                return cell
            return v
        if isinstance(v, Decimal):
            cell = WriteOnlyCell(ws, value=0)
            cell._value, cell.number_format = format(v, "f"), "0.00"
            return cell
        return v

    count = 0
    for count, row in enumerate(rows, 1):
        ws.append([value(v) for v in _roster_values(count, row, None, True, names)])
    with open(out, "wb") as f:
        wb.save(f)
    return count


def write_roster_after(rows: Any, out: Path, names: Callable[[str], str]) -> int:
    from api.files.relief import write_roster

    return write_roster(rows, out, names=names)


VARIANTS = {"before": write_roster_before, "after": write_roster_after}


def child(variant: str, n: int, traced: int) -> dict[str, Any]:
    """Runs in its own process: one export of `n` rows, then a traced one of `traced` rows."""
    key = PersonalDataKey(os.urandom(32))
    write = VARIANTS[variant]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "roster.xlsx"
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wall0, cpu0 = time.perf_counter(), time.process_time()
        count = write(roster_rows(n, key), out, key.decrypt)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = out.stat().st_size
        traced_peak = None
        if traced:
            tracemalloc.start()
            write(roster_rows(traced, key), out, key.decrypt)
            traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return {"variant": variant, "rows": count, "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(peak / 1024, 1), "rss_before_mb": round(rss0 / 1024, 1),
            "file_mb": round(size / 2**20, 1), "traced_rows": traced,
            "traced_peak_mb": None if traced_peak is None else round(traced_peak / 2**20, 2),
            "load": round(os.getloadavg()[0], 2)}


def run(variant: str, n: int, traced: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", variant, "--rows", str(n), "--traced", str(traced)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    benchlib.add_storage_args(parser)
    parser.add_argument("--rows", type=int, default=100_000, help="households (default 100,000)")
    parser.add_argument("--traced", type=int, default=5_000, help="rows of the tracemalloc sample (0: none)")
    parser.add_argument("--only", choices=tuple(VARIANTS), default=None)
    parser.add_argument("--record", action="store_true", help="store the figures in the data set's bench-dataset.json")
    parser.add_argument("--child", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.traced)))
        return 0
    console.print(f"roster export of {args.rows:,} households · product code {benchlib.CODE_AT_START} · "
                  f"{os.cpu_count()} cores · load {os.getloadavg()[0]:.2f}")
    results = {}
    for variant in ([args.only] if args.only else list(VARIANTS)):
        r = results[variant] = run(variant, args.rows, args.traced)
        console.print(
            f"  {variant:<6} {r['seconds']:>7.2f} s wall  {r['cpu_seconds']:>7.2f} s CPU  peak RSS {r['peak_rss_mb']:>6.1f} MB"
            f" (before writing {r['rss_before_mb']:.1f})  file {r['file_mb']:.1f} MB  tracemalloc peak "
            f"{r['traced_peak_mb']} MB over {r['traced_rows']:,} rows  load {r['load']}")
    after = results.get("after")
    if after:
        ok = after["seconds"] <= TARGET_SECONDS * args.rows / 100_000 and after["peak_rss_mb"] <= TARGET_MB
        console.print(f"target at 100,000 rows: ≤ {TARGET_SECONDS:.0f} s and ≤ {TARGET_MB:.0f} MB → "
                      f"{'met' if ok else 'NOT met'}")
    if args.record:
        settings = benchlib.settings_for(args)
        info = benchlib.read_json(settings.data_dir / benchlib.INFO_FILE)
        info["roster_export"] = results
        benchlib.write_json(settings.data_dir / benchlib.INFO_FILE, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
