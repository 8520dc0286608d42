"""`relief-ledger audit …`: seal the event store, verify it, export digests for publication.

    relief-ledger audit seal                      chain the new events; print the head checkpoint's line
    relief-ledger audit verify [--digest X]       recompute the chain; exit 1 at the first tampered position
    relief-ledger audit export-digest [OUT]       seal, then write the head digest line (stdout without OUT)

A digest line (`relief-ledger seal v1 position=… digest=… at=…`) published
outside the system (a notice, an e-mail to the upper level, a file kept
elsewhere) lets `verify --digest` catch a rewrite of the events even when
the seal's own tables were rewritten to match. `--digest` takes the line
itself, or a file of such lines (one per publication; `export-digest
--append` keeps one).

Exit codes of verify: 0 intact, 1 tampered, 2 bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli.common import console, err, fail, open_runtime
from api.settings import Settings
from ledger.audit.attachments import attachment_problems
from ledger.audit.seal import LINE_PREFIX, DigestFormatError, parse_digests

if TYPE_CHECKING:
    from projections.audit.seal import Sealer

DEFAULT_BATCH = 1000  # events per transaction (projections.audit.seal.DEFAULT_BATCH; checked by a test)

audit_cli = typer.Typer(help="The seal: hash-chain every stored event, verify it, export digests for publication.",
                        no_args_is_help=True)




IntervalOption = Annotated[int | None, typer.Option(min=1, help="a checkpoint every N sealed events (default: RELIEF_SEAL_INTERVAL, 1000)")]


BatchOption = Annotated[int, typer.Option(min=1, help="events read and written per transaction")]




@contextmanager
def _sealer(interval: int | None = None, batch: int = DEFAULT_BATCH) -> Iterator[tuple[Any, Sealer]]:
    from projections.audit.seal import Sealer

    with open_runtime(Settings()) as runtime, Sealer(runtime, interval=interval, batch=batch) as sealer:
        yield runtime, sealer


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A transient progress bar on stderr (stdout stays clean for the digest line)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def _seal(runtime: Any, sealer: Sealer) -> Any:
    head = sealer.head()
    with _progress("sealing", max(runtime.position() - (head[0] if head else 0), 0)) as advance:
        checkpoint = sealer.seal(advance)
    err.print(f"{sealer.last_sealed} new events sealed; {checkpoint.count} in the chain, "
              f"head at position {checkpoint.position}")
    return checkpoint


@audit_cli.command("seal")
def seal(interval: IntervalOption = None, batch: BatchOption = DEFAULT_BATCH) -> None:
    """Bring the chain up to date (only the new events) and print the head checkpoint's digest line."""
    with _sealer(interval, batch) as (runtime, sealer):
        checkpoint = _seal(runtime, sealer)
    typer.echo(checkpoint.line)


def _read_digests(value: str) -> str:
    """`--digest`: a digest line, a file of digest lines, or - for stdin."""
    if value.strip().startswith(LINE_PREFIX):
        return value
    if value == "-":
        return sys.stdin.read()
    path = Path(value)
    if not path.is_file():
        err.print(f"[red]--digest: {value!r} is neither a digest line ('{LINE_PREFIX} position=…') nor a file[/red]")
        raise typer.Exit(code=2)
    return path.read_text(encoding="utf-8")


@audit_cli.command("verify")
def verify(
    digest: Annotated[str | None, typer.Option(
        "--digest", help="a published digest line, or a file of them (- for stdin)")] = None,
    batch: BatchOption = 5000,
) -> None:
    """Recompute the chain from the event store; report the first position where it no longer matches."""
    text = _read_digests(digest) if digest is not None else None
    if text is not None:
        try:
            parse_digests(text)
        except DigestFormatError as exc:
            err.print(f"[red]--digest: {exc}[/red]")
            raise typer.Exit(code=2) from None
    with _sealer(batch=batch) as (runtime, sealer), _progress("verifying", runtime.position()) as advance:
        result = sealer.verify(text, progress=advance)
        blob_problems = list(attachment_problems(runtime.app, runtime.blobs))
    typer.echo(result.summary())
    for problem in blob_problems:  # attachments the sealed events name but the blob store lost or altered
        typer.echo(problem.line())
    if blob_problems and result.ok:
        typer.echo(f"attachments: {len(blob_problems)} missing or altered")
        raise typer.Exit(code=1)
    if not result.ok:
        fields = [f"kind={result.kind}", f"checked={result.checked}"]
        if result.first_bad_position is not None:
            fields.insert(0, f"position={result.first_bad_position}")
        if result.bounds is not None:
            after, upto = result.bounds
            fields.insert(0, f"after={after if after is not None else 'start'} upto={upto}")
        typer.echo(" ".join(fields))
        raise typer.Exit(code=1)


@audit_cli.command("export-digest")
def export_digest(
    out: Annotated[Path | None, typer.Argument(dir_okay=False, help="file to write (default: stdout)")] = None,
    append: Annotated[bool, typer.Option(help="add the line to OUT instead of replacing it (a publication log)")]
    = False,
    every: Annotated[bool, typer.Option("--all", help="every checkpoint's line, oldest first")] = False,
    seal_first: Annotated[bool, typer.Option("--seal/--no-seal", help="seal the new events first")] = True,
) -> None:
    """Write the head checkpoint's digest line for publication outside the system."""
    with _sealer() as (runtime, sealer):
        if seal_first:
            latest = _seal(runtime, sealer)
        else:
            latest = sealer.latest_checkpoint()
            if latest is None:
                err.print("[red]nothing sealed yet: run `relief-ledger audit seal` first[/red]")
                raise typer.Exit(code=1)
        lines = ([c.line for c in sealer.checkpoints()] if every else []) or [latest.line]
    text = "\n".join(lines) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a" if append else "w", encoding="utf-8") as f:
        f.write(text)
    typer.echo(latest.line)
    err.print(f"{len(lines)} digest line{'s' if len(lines) > 1 else ''} written to {out}")


@audit_cli.command("show")
def show(
    aggregate_id: Annotated[str, typer.Argument(metavar="ID", help="a disaster, relief case, fund or account id")],
    as_known_at: Annotated[str, typer.Option(
        "--as-known-at", help="the moment (recorded time), ISO 8601; without an offset, Beijing time")],
    diff_from: Annotated[int | None, typer.Option(
        "--diff-from", min=0, help="also each field changed after this version (0 = from the start) up to the latest")]
    = None,
) -> None:
    """An aggregate as it had been recorded at a moment, the events recorded afterwards, and optionally the
    field-by-field changes since a version (as the local operator: personal data masked)."""
    import json
    from datetime import datetime
    from uuid import UUID

    from rich.table import Table
    from rich.text import Text

    from api.presenters import OCCURRED_AT
    from ledger.accounts.service import local_operator
    from ledger.disasters.inputs import CHINA
    from ledger.store.errors import DomainError

    try:
        uuid = UUID(aggregate_id)
    except ValueError:
        raise typer.BadParameter(f"{aggregate_id!r} is not an id (a UUID)", param_hint="ID") from None
    try:
        at = datetime.fromisoformat(as_known_at.strip())
    except ValueError:
        raise typer.BadParameter(f"{as_known_at!r} is not an ISO 8601 time", param_hint="--as-known-at") from None
    at = at if at.tzinfo else at.replace(tzinfo=CHINA)

    def when(moment: datetime) -> str:
        return moment.astimezone(CHINA).isoformat(timespec="seconds")

    def shown(value: Any) -> str:
        if value is None:
            return "—"
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

    def who(actor: Any) -> str:
        actor = actor if isinstance(actor, dict) else {}
        return f"{actor.get('username') or '?'} ({actor.get('unit') or '?'})"

    operator = local_operator()
    with open_runtime(Settings()) as runtime:
        try:
            known = runtime.audit.as_known_at(operator, uuid, at)
            changes = runtime.audit.diff(operator, uuid, diff_from, None) if diff_from is not None else None
        except DomainError as exc:
            fail(exc)
    console.print(Text(f"{uuid} as known at {when(at)}: version {known.version}"), soft_wrap=True)
    if known.state:
        table = Table("field", "value")
        for field, value in known.state.items():
            table.add_row(Text(field), Text(shown(value)))
        console.print(table)
    else:
        console.print("nothing had been recorded yet")
    console.print(Text(f"recorded after {when(at)}: {len(known.recorded_after)} "
                       f"event{'' if len(known.recorded_after) == 1 else 's'}"), soft_wrap=True)
    if known.recorded_after:
        events = Table("version", "event", "recorded at", "by", "occurred at")
        for e in known.recorded_after:
            occurred = getattr(e, OCCURRED_AT.get(type(e).__name__, ""), None)
            events.add_row(str(e.originator_version), Text(type(e).__name__), when(e.timestamp),
                           Text(who(getattr(e, "actor", None))), when(occurred) if isinstance(occurred, datetime) else "")
        console.print(events)
    if changes is None:
        return
    console.print(Text(f"changes after version {diff_from}: {len(changes)}"), soft_wrap=True)
    version = None
    for c in changes:
        if c.version != version:
            version = c.version
            console.print(Text(f"  v{c.version} {c.event}  {when(c.recorded_at)}  by {c.actor or '?'} "
                               f"({c.unit or '?'})"), soft_wrap=True)
            if c.reason:
                console.print(Text(f"      reason: {c.reason}"), soft_wrap=True)
        console.print(Text(f"      {c.field}: {shown(c.old)} → {shown(c.new)}"), soft_wrap=True)


@audit_cli.command("report")
def report(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="file to write (.xlsx or .jsonl)")],
    area: Annotated[str, typer.Option("--area", help="a province (2), city (4) or county (6 digits) code")],
    date_from: Annotated[str, typer.Option("--from", help="first recorded date, YYYY-MM-DD (Beijing), inclusive")],
    date_to: Annotated[str, typer.Option("--to", help="last recorded date, YYYY-MM-DD (Beijing), inclusive")],
    fmt: Annotated[str | None, typer.Option(
        "--format", help="xlsx or jsonl (default: from OUT's suffix, else xlsx)")] = None,
) -> None:
    """The accountability report (问责报告) of an area and a period, sealed first; prints the seal's digest line.

    Acts as the local operator (any area). Reads only: the one write is the seal's own tables."""
    from datetime import date

    from api.files import accountability as export
    from ledger.store.errors import DomainError

    kind = fmt or ("jsonl" if out.suffix.lower() in (".jsonl", ".ndjson") else "xlsx")
    if kind not in ("xlsx", "jsonl"):
        err.print(f"[red]--format: {fmt!r} is not xlsx or jsonl[/red]")
        raise typer.Exit(code=2)
    try:
        first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError as exc:
        err.print(f"[red]--from / --to: {exc} (YYYY-MM-DD)[/red]")
        raise typer.Exit(code=2) from None
    with open_runtime(Settings()) as runtime:
        try:
            result = export.sealed_report(runtime, area, first, last)
        except DomainError as exc:
            fail(exc)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        try:
            with partial.open("wb") as f:
                (export.to_xlsx if kind == "xlsx" else export.to_jsonl)(result, f, result.seal)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    counts = ", ".join(f"{key} {n}" for key, n in result.counts().items())
    err.print(f"{result.area_name} ({result.area}) {first} — {last}, position {result.position}: {counts}")
    err.print(f"written to {out}")
    for line in result.seal:
        typer.echo(line)
