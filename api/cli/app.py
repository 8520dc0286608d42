"""The `relief-ledger` command line: `serve` and `demo`, and every concept's command group, registered here.

The CLI acts as `local-operator:<os user>` — whoever can run commands on
the server — which is the only way to create the first admin account.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from api.cli.accounts import accounts_cli
from api.cli.audit import audit_cli
from api.cli.backup import backup, restore
from api.cli.common import console, err, open_runtime
from api.cli.housing import housing_cli
from api.cli.projections import projections_cli
from api.cli.reference import areas_cli
from api.cli.relief import relief_cli
from api.cli.targets import targets_cli
from api.cli.upward import upward_cli
from api.settings import Settings

cli = typer.Typer(help="relief-ledger: an event-sourced ledger of disasters and relief.", no_args_is_help=True)
cli.add_typer(accounts_cli, name="accounts")
cli.add_typer(areas_cli, name="areas")
cli.add_typer(relief_cli, name="relief")
cli.add_typer(housing_cli, name="housing")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(projections_cli, name="projections")
cli.command("backup")(backup)
cli.command("restore")(restore)
cli.add_typer(targets_cli, name="targets")
cli.add_typer(upward_cli, name="upward")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Run the HTTP service (REST under /v1, OpenAPI at /docs)."""
    import uvicorn

    from api.app import create_app
    from api.demo import demo_file, demo_loaded, load_demo, read_tokens
    from projections.runner import ProjectionHost
    from projections.worker import WorkerHost

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
    tokens_file = demo_file(runtime, settings.data_dir)
    tokens = read_tokens(tokens_file) if settings.environment != "production" else {}
    if tokens:
        console.print(f"  Demo tokens ({tokens_file}):")
        for username, token in tokens.items():
            console.print(f"    {username:15} {token}")
    elif settings.environment != "production":
        console.print("  Tokens   none printed: load the demo accounts with `relief-ledger demo` (same RELIEF_ "
                      "settings), or make an account and its token with "
                      "`relief-ledger accounts add NAME --role county --scope 320921`")
    console.print(f"  GraphQL  http://{host}:{port}/graphql")
    console.print(f"  Web      http://{host}:{port}/  (sign in; set a password: relief-ledger accounts password NAME)")
    if tokens and read_tokens(demo_file(runtime, settings.data_dir, "passwords")):
        console.print(f"  Demo web passwords: {demo_file(runtime, settings.data_dir, 'passwords')}")
    mode = settings.projections_mode()
    projection_host = {"worker": WorkerHost, "in-process": lambda rt: ProjectionHost(rt, seal=True),
                       "off": lambda rt: ProjectionHost(rt, run=False)}[mode](runtime)
    console.print(f"  Projections and seal: {mode}")
    # Proxy headers (X-Forwarded-For / -Proto) are believed only from RELIEF_TRUSTED_PROXIES (default: none),
    # not from uvicorn's default of 127.0.0.1.
    uvicorn.run(create_app(runtime, settings, projection_host), host=host, port=port, log_level="info",
                forwarded_allow_ips=list(settings.trusted_proxies))


@cli.command()
def demo() -> None:
    """Load the demo accounts and disaster histories (once)."""
    from api.demo import demo_file, demo_loaded, load_demo

    settings = Settings()
    if settings.environment == "production":
        err.print("[red]no demo data in production[/red] (demo accounts have known roles and printed tokens)")
        raise typer.Exit(code=2)
    with open_runtime(settings) as runtime:
        if demo_loaded(runtime, settings.data_dir):
            console.print("Demo data is already loaded.")
            raise typer.Exit()
        tokens = load_demo(runtime, settings.data_dir)
        where = demo_file(runtime, settings.data_dir)
    for username, token in tokens.items():
        console.print(f"{username:15} {token}")
    console.print(f"(kept in {where} for this database)")


def main() -> None:
    # Whatever this process writes (databases, secrets, exports) is its owner's alone.
    os.umask(0o077)
    try:
        cli()
    except ValueError as exc:  # configuration problems
        err.print(f"[red]configuration error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
