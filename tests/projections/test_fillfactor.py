"""PostgreSQL keeps the views compact: every table a projection updates in place (upserts of a row per
process, case, fund, incident …) leaves room in its pages for HOT updates, also after a rebuild has
swapped in fresh tables. SQLite has no such option and gets the same tables without it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from projections.registry import PROJECTIONS
from projections.runner import Follower, open_projection
from projections.views import FILLFACTOR, SQLiteView

UPDATED_IN_PLACE = {
    "accidents_rows", "board_rows", "funds_funds", "housing_files", "incidents_calls", "incidents_rows",
    "roster_relief_moments", "roster_rows", "statistics_state", "statistics_figures", "statistics_stacks",
    "statistics_totals", "board_stacks", "board_reports",
}


@pytest.fixture
def followers(runtime: Any) -> Iterator[dict[str, Follower]]:
    opened = {name: Follower(runtime.app, open_projection(cls, runtime.config.persistence, runtime.config.data_dir,
                                                           runtime.pii)) for name, cls in PROJECTIONS.items()}
    yield opened
    for follower in opened.values():
        follower.close()


def fill_factors(view: Any) -> dict[str, int | None]:
    """Every view table of the store → its fillfactor (None: the default, pages filled up)."""
    if isinstance(view, SQLiteView):
        names = view.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r["name"]: None for r in names}
    found = view.query("SELECT c.relname AS name, array_to_string(c.reloptions, ',') AS options FROM pg_class c"
                       " JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = ? AND c.relkind = 'r'",
                       [view.datastore.schema])
    out: dict[str, int | None] = {}
    for r in found:
        options = dict(o.split("=", 1) for o in (r["options"] or "").split(",") if "=" in o)
        out[r["name"]] = int(options["fillfactor"]) if "fillfactor" in options else None
    return out


def test_tables_updated_in_place_leave_room_for_hot_updates_also_after_a_rebuild(followers) -> None:
    for _ in range(2):
        tables: dict[str, int | None] = {}
        for follower in followers.values():  # (on SQLite each view has a file of its own)
            tables.update(fill_factors(follower.projection.view))
        assert UPDATED_IN_PLACE <= set(tables), sorted(set(UPDATED_IN_PLACE) - set(tables))
        if isinstance(followers["board"].projection.view, SQLiteView):
            continue
        with_room = {name for name, ff in tables.items() if ff is not None}
        assert with_room == UPDATED_IN_PLACE
        assert {tables[name] for name in with_room} == {FILLFACTOR}
        for follower in followers.values():
            follower.rebuild()


def test_web_sessions_touched_on_every_page_leave_room_for_hot_updates(runtime, followers) -> None:
    runtime.accounts.passwords.store.prepare()
    view = followers["board"].projection.view
    if isinstance(view, SQLiteView):
        assert "account_sessions" in {r["name"] for r in runtime_tables(runtime)}
        return
    assert fill_factors(view)["account_sessions"] == 70


def runtime_tables(runtime: Any) -> list[dict[str, Any]]:
    with runtime.app.recorder.datastore.transaction(commit=False) as c:
        c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [dict(r) for r in c.fetchall()]
