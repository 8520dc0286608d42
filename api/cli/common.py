"""What the command groups share: the consoles, opening the runtime from the settings, failing with a domain error."""

from __future__ import annotations

import typer
from rich.console import Console

from api.settings import Settings, prepare_postgres
from ledger.runtime import LedgerRuntime
from ledger.store.errors import DomainError

console = Console()
err = Console(stderr=True)


def open_runtime(settings: Settings) -> LedgerRuntime:
    config = settings.ledger_config()
    if settings.uses_postgres:
        prepare_postgres(config.persistence)
    return LedgerRuntime(config)


def fail(exc: DomainError) -> None:
    err.print(f"[red]{exc.message}[/red]")
    for f in exc.fields:
        err.print(f"  {f.field}: {f.message}")
    raise typer.Exit(code=1)
