"""What the command groups share: the consoles, opening the runtime from the settings, failing with a domain error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from api.settings import Settings
    from ledger.runtime import LedgerRuntime
    from ledger.store.actors import Actor
    from ledger.store.errors import DomainError

console = Console()
err = Console(stderr=True)


def open_runtime(settings: Settings) -> LedgerRuntime:
    """The ledger (imported here, not at start-up, so `--help` and light commands answer at once)."""
    from api.settings import prepare_postgres
    from ledger.runtime import LedgerRuntime

    config = settings.ledger_config()
    if settings.uses_postgres:
        prepare_postgres(config.persistence)
    return LedgerRuntime(config)


class StoreOnly:
    """The event store without the rules and use cases, for commands that only read positions and views."""

    def __init__(self, settings: Settings) -> None:
        from api.settings import prepare_postgres
        from ledger.store.application import Ledger

        self.config = settings.ledger_config()
        if settings.uses_postgres:
            prepare_postgres(self.config.persistence)
        self.app = Ledger(env=dict(self.config.persistence))
        self.pii = None

    def position(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def __enter__(self) -> StoreOnly:
        return self

    def __exit__(self, *exc: object) -> None:
        self.app.close()


def open_store(settings: Settings) -> StoreOnly:
    return StoreOnly(settings)


def operator() -> Actor:
    """The local operator (`local-operator:<os user>`), as whom the CLI acts."""
    from ledger.accounts.service import local_operator

    return local_operator()


def fail(exc: DomainError) -> None:
    err.print(f"[red]{exc.message}[/red]")
    for f in exc.fields:
        err.print(f"  {f.field}: {f.message}")
    raise typer.Exit(code=1)
