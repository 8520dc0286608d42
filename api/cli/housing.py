"""`relief-ledger housing …`: import assessed households (倒损住房 核查) from a spreadsheet, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from api.cli.common import console, err, open_runtime
from api.settings import Settings
from ledger.store.errors import DomainError

housing_cli = typer.Typer(help="Housing reconstruction: import assessed households.", no_args_is_help=True)


@housing_cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".xlsx or .csv of assessed households")],
    account: Annotated[str, typer.Option(help="the account the files are opened as (township, county …)")],
    disaster: Annotated[str, typer.Option(help="the disaster process id the damage belongs to")],
) -> None:
    """Every row is checked first (row numbers as in the file); one bad row and nothing is imported."""
    from api.files import housing_import

    with open_runtime(Settings()) as runtime:
        try:
            actor = runtime.accounts.get(account).as_actor()
            report = housing_import.import_file(runtime, actor, file, UUID(disaster))
        except (DomainError, ValueError) as exc:
            err.print(f"[red]{exc}[/red]")
            for problem in getattr(exc, "fields", []):
                err.print(f"  {problem.field}: {problem.message}")
            raise typer.Exit(1) from None
        if not report.ok:
            error = report.error()
            err.print(f"[red]{error.message}[/red]")
            for problem in error.fields:
                err.print(f"  {problem.field}: {problem.code} — {problem.message}")
            raise typer.Exit(1)
        console.print(f"Imported {len(report.case_ids)} housing files for {disaster} as {account}.")
