"""`relief-ledger backup DEST` and `relief-ledger restore SRC`: the whole store, online, and back.

SQLite: every database file of the data directory (the ledger, the seal, the
read models) is copied with SQLite's online backup API — consistent while
the server keeps writing — together with the blob store and, in development,
the generated secrets (without them nothing in the copy can be read). On
PostgreSQL the configured schema is dumped with `pg_dump --format=custom`.
A manifest records when, the log's head, and the seal's latest digest line:
after a restore, `relief-ledger audit verify --digest "<line>"` proves the
restored log is the one that was sealed, and `relief-ledger projections
rebuild` rebuilds any read model from it.

Restore refuses to overwrite a store that already holds events.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import typer

from api.cli.common import console, err, open_runtime
from api.settings import Settings
from ledger.store.files import private_dir, private_file

CHINA = ZoneInfo("Asia/Shanghai")
MANIFEST = "manifest.json"
PG_DUMP = "ledger.pgdump"
COPIED_DIRS = ("blobs", "areas")


def backup(dest: Annotated[Path, typer.Argument(file_okay=False, help="an empty or new directory")]) -> None:
    """Copy the whole store (online: the server may keep running) into DEST, with a manifest."""
    settings = Settings()
    if dest.exists() and any(dest.iterdir()):
        err.print(f"[red]{dest} is not empty[/red]")
        raise typer.Exit(code=1)
    private_dir(dest)
    with open_runtime(settings) as runtime:
        from projections.audit.seal import seal_status

        status = seal_status(runtime)
    files: list[str] = []
    if settings.uses_postgres:
        files.append(_pg_dump(settings, dest / PG_DUMP))
    else:
        for source in sorted(settings.data_dir.glob("*.sqlite")):
            _sqlite_copy(source, private_file(dest / source.name))
            files.append(source.name)
        secrets = settings.data_dir / "secrets.json"
        if secrets.exists():
            shutil.copy2(secrets, private_file(dest / secrets.name))
            files.append(secrets.name)
    for name in COPIED_DIRS:
        source = _blob_dir(settings) if name == "blobs" else settings.data_dir / name
        if source.is_dir():  # the attachments' blob store (wherever it is configured) and imported areas
            shutil.copytree(source, dest / name)
            files.append(f"{name}/")
    latest = status["latest"]
    manifest = {
        "format": "relief-ledger backup v1", "created_at": datetime.now(UTC).astimezone(CHINA).isoformat(),
        "backend": "postgresql" if settings.uses_postgres else "sqlite", "position": status["position"],
        "seal_line": latest["line"] if latest else None, "files": files,
    }
    (private_file(dest / MANIFEST)).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"backed up {len(files)} item(s) to {dest}: the log up to position {status['position']}",
                  soft_wrap=True)
    if latest:
        typer.echo(f"seal: {latest['line']}")


def restore(src: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="a directory made by backup")]) -> None:
    """Restore a backup into the configured (empty) store; then `audit verify` and `projections rebuild`."""
    settings = Settings()
    manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("backend") != ("postgresql" if settings.uses_postgres else "sqlite"):
        err.print(f"[red]this backup is of {manifest.get('backend')}; the configured store is not[/red]")
        raise typer.Exit(code=1)
    if settings.uses_postgres:
        _refuse_non_empty_postgres(settings)
        _pg_restore(settings, src / PG_DUMP)
    else:
        private_dir(settings.data_dir)
        if (settings.data_dir / "ledger.sqlite").exists():
            err.print(f"[red]{settings.data_dir} already holds a ledger; restore into an empty data directory[/red]")
            raise typer.Exit(code=1)
        for name in manifest["files"]:
            if name.endswith(".sqlite"):
                _sqlite_copy(src / name, private_file(settings.data_dir / name))
            elif name == "secrets.json":
                shutil.copy2(src / name, private_file(settings.data_dir / name))
    for name in COPIED_DIRS:
        if (src / name).is_dir():
            target = _blob_dir(settings) if name == "blobs" else settings.data_dir / name
            shutil.copytree(src / name, target, dirs_exist_ok=True)
    with open_runtime(settings) as runtime:
        position = runtime.position()
    console.print(f"restored the log up to position {position} (the backup's was {manifest['position']})",
                  soft_wrap=True)
    if manifest.get("seal_line"):
        typer.echo(f'check it: relief-ledger audit verify --digest "{manifest["seal_line"]}"')


def _blob_dir(settings: Settings) -> Path:
    return settings.blob_dir or settings.data_dir / "blobs"


def _sqlite_copy(source: Path, target: Path) -> None:
    with sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _pg_args(settings: Settings) -> tuple[list[str], dict[str, Any]]:
    url = urlparse(settings.database_url or "")
    args = ["--host", url.hostname or "127.0.0.1", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--dbname", (url.path or "/").lstrip("/") or "postgres"]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def _schema(settings: Settings) -> str:
    from urllib.parse import parse_qs

    return parse_qs(urlparse(settings.database_url or "").query).get("schema", ["public"])[0]


def _pg_dump(settings: Settings, target: Path) -> str:
    import os

    args, env = _pg_args(settings)
    _run(["pg_dump", "--format=custom", "--schema", _schema(settings), "--file", str(target), *args],
         {**os.environ, **env})
    target.chmod(0o600)
    return target.name


def _pg_restore(settings: Settings, dump: Path) -> None:
    import os

    args, env = _pg_args(settings)
    _run(["pg_restore", "--no-owner", "--exit-on-error", *args, str(dump)], {**os.environ, **env})


def _refuse_non_empty_postgres(settings: Settings) -> None:
    import psycopg

    from api.settings import postgres_env

    pg = postgres_env(settings.database_url or "")
    with psycopg.connect(dbname=pg["POSTGRES_DBNAME"], host=pg["POSTGRES_HOST"], port=int(pg["POSTGRES_PORT"]),
                         user=pg["POSTGRES_USER"], password=pg["POSTGRES_PASSWORD"] or None) as conn:
        found = conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s"
                             " AND table_name = 'ledger_events'", (_schema(settings),)).fetchone()
    if found:
        err.print(f"[red]the schema {_schema(settings)} already holds a ledger; restore into a fresh database[/red]")
        raise typer.Exit(code=1)


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        err.print(f"[red]{command[0]} is not installed (the PostgreSQL client tools)[/red]")
        raise typer.Exit(code=1)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        err.print(f"[red]{command[0]} failed:[/red] {done.stderr.strip()[-2000:]}")
        raise typer.Exit(code=1)
