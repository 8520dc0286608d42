"""`relief-ledger accounts`: add accounts, issue and revoke tokens, show an account's history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import console, fail, open_runtime
from api.cli.common import operator as local_operator
from api.settings import Settings
from ledger.store.errors import DomainError

accounts_cli = typer.Typer(help="Accounts, roles, scopes and tokens.", no_args_is_help=True)


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
            fail(exc)


@accounts_cli.command("token")
def accounts_token(username: str, label: Annotated[str, typer.Option()] = "cli") -> None:
    """Issue a new bearer token (printed once; only its hash is stored)."""
    with open_runtime(Settings()) as runtime:
        try:
            clear, _ = runtime.accounts.issue_token(local_operator(), username, label=label)
        except DomainError as exc:
            fail(exc)
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
            fail(exc)
    console.print(f"Revoked {'token ' + token_id + ' of ' if token_id else ''}{username}.")


@accounts_cli.command("show")
def accounts_show(username: str) -> None:
    """Show an account, its tokens (ids only) and its history."""
    from rich.table import Table

    from api.times import beijing

    with open_runtime(Settings()) as runtime:
        try:
            account = runtime.accounts.get(username)
        except DomainError as exc:
            fail(exc)
        console.print(f"{account.username}  role={account.role}  scope={account.scope}  "
                      f"status={account.status}  version={account.version}")
        table = Table("token id", "label", "revoked")
        for token_id, token in account.tokens.items():
            table.add_row(token_id, token["label"], str(token["revoked"]))
        console.print(table)
        for event in runtime.app.events.get(account.id):
            actor = getattr(event, "actor", {}) or {}
            console.print(f"  v{event.originator_version} {type(event).__name__:14} {beijing(event.timestamp):%Y-%m-%d %H:%M:%S}+08:00"
                          f"  by {actor.get('username', '?')}")


@accounts_cli.command("password")
def accounts_password(
    username: str,
    stdin: Annotated[bool, typer.Option("--stdin", help="read the password from standard input (scripts)")] = False,
) -> None:
    """Set an account's web sign-in password (asked twice, not echoed); its sign-in sessions end."""
    import sys

    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with open_runtime(Settings()) as runtime:
        try:
            runtime.accounts.passwords.set_password(local_operator(), username, password)
        except DomainError as exc:
            fail(exc)
    console.print(f"Password of {username} set; its sign-in sessions have ended.")


@accounts_cli.command("access")
def accounts_access(
    username: str,
    role: Annotated[str, typer.Option(help="township, county, city, province, relief_officer, auditor, admin")],
    scope: Annotated[str, typer.Option(help="area-code prefix")],
    reason: Annotated[str, typer.Option(help="why the role or scope changes")],
) -> None:
    """Change an account's role or scope (recorded with the reason); its sign-in sessions end."""
    with open_runtime(Settings()) as runtime:
        try:
            runtime.accounts.passwords.change_access(local_operator(), username, role, scope, reason)
        except DomainError as exc:
            fail(exc)
    console.print(f"{username} is now {role} for {scope}; its sign-in sessions have ended.")


@accounts_cli.command("suspend")
def accounts_suspend(username: str, reason: Annotated[str, typer.Option(help="why (recorded)")]) -> None:
    """暂停: the account's tokens and sign-in sessions stop working at once (recorded with the reason)."""
    with open_runtime(Settings()) as runtime:
        try:
            runtime.accounts.passwords.suspend(local_operator(), username, reason)
        except DomainError as exc:
            fail(exc)
    console.print(f"{username} is suspended: its tokens fail and its sign-in sessions have ended.")


@accounts_cli.command("restore")
def accounts_restore(username: str, reason: Annotated[str, typer.Option(help="why (recorded)")]) -> None:
    """恢复 a suspended account: its tokens work again (recorded with the reason)."""
    with open_runtime(Settings()) as runtime:
        try:
            runtime.accounts.passwords.restore(local_operator(), username, reason)
        except DomainError as exc:
            fail(exc)
    console.print(f"{username} is restored.")


@accounts_cli.command("import")
def accounts_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help=".xlsx or .csv: 用户名, 角色, 管辖范围[, 名称, 状态, 理由]")],
    reason: Annotated[str, typer.Option(help="the reason recorded for changes whose row gives none")] = "",
    tokens: Annotated[Path | None, typer.Option(help="write a first token of each new account to this file "
                                                     "(CSV, readable by its owner only)")] = None,
) -> None:
    """Create or update many accounts in one all-or-nothing run, with a row report."""
    import csv

    from api.files.accounts_import import import_file
    from ledger.store.files import private_file

    if tokens is not None and tokens.exists():
        console.print(f"[red]{tokens} exists; name a new file for the tokens[/red]")
        raise typer.Exit(code=2)
    with open_runtime(Settings()) as runtime:
        try:
            result = import_file(runtime, local_operator(), file, reason, issue_tokens=tokens is not None)
        except DomainError as exc:
            fail(exc)
    for o in result.outcomes:
        console.print(f"row {o.row}: {o.username} {o.action}{': ' + '; '.join(o.changes) if o.changes else ''}")
    counts = {a: sum(1 for o in result.outcomes if o.action == a) for a in ("created", "updated", "unchanged")}
    console.print(f"{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged "
                  f"(position {result.position}).")
    if tokens is not None and result.tokens:
        with open(private_file(tokens), "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["username", "token"])
            writer.writerows(result.tokens.items())
        console.print(f"Tokens of the {len(result.tokens)} new accounts: {tokens} (shown nowhere else)")
