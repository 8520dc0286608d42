"""`relief-ledger projections`: status, rebuild, run a worker."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import console, err, open_runtime, open_store
from api.settings import Settings

projections_cli = typer.Typer(help="Read models: run, rebuild, status.", no_args_is_help=True)


def _projection_names(names: list[str] | None) -> list[str]:
    from projections.registry import PROJECTIONS

    unknown = [n for n in names or [] if n not in PROJECTIONS]
    if unknown:
        err.print(f"[red]unknown projection(s): {', '.join(unknown)}; known: {', '.join(PROJECTIONS)}[/red]")
        raise typer.Exit(code=2)
    return names or list(PROJECTIONS)


@projections_cli.command("status")
def projections_status() -> None:
    """Each projection's position, its lag behind the event store, and the events it could not apply."""
    from rich.table import Table

    from projections.registry import PROJECTIONS
    from projections.runner import Follower, open_projection

    with open_store(Settings()) as runtime:  # the event store alone: no rules, areas or use cases to load
        head = runtime.position()
        table = Table("projection", "position", "head", "lag", "dead letters")
        letters = Table("projection", "position", "aggregate", "version", "event", "error", title="dead letters")
        for name, cls in PROJECTIONS.items():
            follower = Follower(runtime.app, open_projection(cls, runtime.config.persistence, runtime.config.data_dir,
                                                                runtime.pii))
            position = follower.position()
            view = follower.projection.view
            table.add_row(name, str(position), str(head), str(max(head - position, 0)), str(view.dead_letter_count()))
            for d in view.dead_letters(limit=20):
                letters.add_row(name, str(d["position"]), d["originator_id"], str(d["originator_version"]),
                                d["topic"].rsplit(":", 1)[-1], d["error"])
            follower.close()
        console.print(table)
        if letters.row_count:
            console.print(letters)


@projections_cli.command("rebuild")
def projections_rebuild(name: Annotated[str, typer.Argument(help="projection name")]) -> None:
    """Rebuild one projection from position zero into fresh tables, then swap them in within one transaction:
    readers keep the old view until the swap, no dead rows are left, an interrupted rebuild resumes from where
    it stopped (stop its runner first)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from projections.registry import PROJECTIONS
    from projections.runner import AdvisoryLock, Follower, open_projection

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
def projections_run(
    names: Annotated[list[str] | None, typer.Argument(help="projections (default: all)")] = None,
    seal: Annotated[bool, typer.Option(help="also keep the seal up with the log")] = True,
) -> None:
    """Run projections (and the seal) as a separate worker until interrupted (RELIEF_PROJECTIONS=off on servers)."""
    import signal
    import threading

    from projections.runner import ProjectionHost

    settings = Settings()
    runtime = open_runtime(settings)
    host = ProjectionHost(runtime, _projection_names(names), idle=0.2, seal=seal)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    host.start()
    console.print(f"following: {', '.join(host.followers)}{' and sealing' if seal else ''} (Ctrl-C to stop)")
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
