"""`relief-ledger upward file …`: a city's or province's report upward (上报: 初报, 日报 零报告, 核报)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from api.cli.common import console, err, open_runtime
from api.settings import Settings
from ledger.disasters.upward import UpwardFiling
from ledger.store.errors import DomainError

upward_cli = typer.Typer(help="Upward reports of the city and the province (上报).", no_args_is_help=True)


@upward_cli.command("file")
def file_report(
    kind: Annotated[str, typer.Argument(help="initial (初报) | daily (日报/零报告) | final (核报)")],
    account: Annotated[str, typer.Option(help="the city or province account that reports")],
    process: Annotated[list[str], typer.Option(help="a disaster process id it covers (repeat the option)")],
    day: Annotated[str | None, typer.Option(help="the day of a daily report, YYYY-MM-DD (Beijing)")] = None,
    text: Annotated[str, typer.Option(help="文字说明")] = "",
) -> None:
    """Files it as that account; the figures are derived from the ledger, never typed in."""
    with open_runtime(Settings()) as runtime:
        try:
            actor = runtime.accounts.get(account).as_actor()
            result = runtime.upward_reports.file(actor, UpwardFiling(
                kind=kind, disaster_ids=list(process), day=date.fromisoformat(day) if day else None, text=text))
        except (DomainError, ValueError) as exc:
            err.print(f"[red]{exc}[/red]")
            for problem in getattr(exc, "fields", []):
                err.print(f"  {problem.field}: {problem.code} — {problem.message}")
            raise typer.Exit(1) from None
        console.print(f"Filed upward report {result.id} ({kind}) as {account} at position {result.position}.")
