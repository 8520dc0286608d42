"""The housing rules as configured: which subsidy row applies, what it pays, working days, a bad file refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger.housing.rules import HousingRules

RULES = HousingRules.load()


def test_the_most_specific_row_applies_and_the_flood_storage_rate_only_to_flood_storage_households():
    assert RULES.subsidy_for("320921100001", 2026, "collapsed", "in_situ", False).id == "national/collapsed"
    assert RULES.subsidy_for("500155001001", 2026, "collapsed", "in_situ", False).id == "chongqing-liangping/collapsed"
    assert RULES.subsidy_for("500155001001", 2021, "collapsed", "in_situ", False).id == "national/collapsed"
    assert RULES.subsidy_for("320921100001", 2026, "collapsed", "in_situ", True).id == "flood-storage/collapsed"
    assert RULES.subsidy_for("320921100001", 2026, "general", "repair", False).amount(5) == 200_000


@pytest.mark.parametrize(("rooms", "fen"), [(1, 500_000), (3, 1_500_000), (4, 2_000_000), (7, 2_000_000)])
def test_per_room_with_a_floor_and_a_cap_per_household(rooms, fen):
    assert RULES.subsidy_for("320921100001", 2026, "collapsed", "purchase", False).amount(rooms) == fen


def test_working_days_skip_weekends_and_holidays_and_count_adjusted_workdays():
    calendar = RULES.calendar
    assert calendar.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)  # 国庆, with 10-10 worked
    assert calendar.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Friday → Monday


def test_tranches_that_do_not_add_up_are_refused_at_start(tmp_path: Path):
    text = (Path(__file__).parents[2] / "ledger" / "data" / "housing.toml").read_text(encoding="utf-8")
    path = tmp_path / "housing.toml"
    path.write_text(text.replace("percent = 50\nwithin_working_days = 5", "percent = 40\nwithin_working_days = 5", 1),
                    encoding="utf-8")
    with pytest.raises(ValueError, match="100"):
        HousingRules.load(path)
