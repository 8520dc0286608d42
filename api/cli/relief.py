"""`relief-ledger relief …`: import applications (户报) from a spreadsheet, export the 花名册
(应急统表10) and the 冬春 statistics table.

An import acts AS a named account (its role and scope apply, and the events carry
it), not as the local operator. Exports are masked; `--reveal` shows clear ID, phone
and card numbers only to a county or relief-officer account with a stated purpose,
and records one PersonalDataExported event for the whole export (see `_record_bulk_view`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli.common import console, err, fail, open_runtime
from api.settings import Settings
from ledger.reference.codes import AreaCode
from ledger.relief.programmes import PROGRAMME_NAMES, Programme
from ledger.store.errors import DomainError, FieldProblem, InvalidInput, NotPermitted

if TYPE_CHECKING:
    from ledger.runtime import LedgerRuntime
    from ledger.store.actors import Actor


relief_cli = typer.Typer(help="Relief spreadsheets: import applications, export rosters and statistics.",
                         no_args_is_help=True)


ProgrammeOption = Annotated[str, typer.Option(help=", ".join(p.value for p in Programme))]


PeriodOption = Annotated[str, typer.Option(help="a year (2026) or a season (2025-2026)")]


AreaOption = Annotated[str, typer.Option(help="area-code prefix: 6 digits county, 9 township, 12 village")]


ERRORS_SHOWN = 200


def _files() -> Any:
    """The roster and statistics files (openpyxl and the read side load only when a command needs them)."""
    from api.files import relief

    return relief


def _importer() -> Any:
    from api.files import relief_import

    return relief_import




@relief_cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".xlsx or .csv in the 应急统表10 layout")],
    account: Annotated[str, typer.Option(help="the account the applications are filed as (township, county …)")],
    period: PeriodOption,
    programme: ProgrammeOption = "winter_spring",
) -> None:
    """Import 户报 rows: every row is checked first; one bad row and nothing is imported."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with open_runtime(Settings()) as runtime:
        try:
            actor = runtime.accounts.get(account).as_actor()
            with console.status(f"Reading {file} …"):
                rows = _importer().read_applications(file, programme, period)
            with Progress(TextColumn("checking rows"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=console) as progress:
                task = progress.add_task("check", total=len(rows))
                report = _importer().import_rows(runtime, actor, rows, lambda n: progress.advance(task, n))
        except DomainError as exc:
            _fail_with_rows(exc)
        if not report.ok:
            _fail_with_rows(report.error(limit=ERRORS_SHOWN))
        console.print(f"Imported {report.imported} applications ({programme}, {period}) as {account}; "
                          f"position {runtime.position()}.")


def _fail_with_rows(exc: DomainError) -> None:
    """The refusal, with the row-by-row problems as a table."""
    from rich.table import Table

    rows = [f for f in exc.fields if f.field.startswith("row ")]
    if not rows:
        fail(exc)
    table = Table("行 row", "列 column", "代码 code", "原因 reason", title=exc.message)
    for f in rows:
        row, _, column = f.field.removeprefix("row ").partition(".")
        table.add_row(row, column, f.code, f.message)
    err.print(table)
    shown, total = exc.details.get("shown"), exc.details.get("problems")
    if shown is not None and total is not None and shown < total:
        err.print(f"… {total - shown} more problems not shown")
    raise typer.Exit(code=1)


@relief_cli.command("export-roster")
def export_roster(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="the .xlsx to write")],
    period: PeriodOption,
    area: AreaOption,
    programme: ProgrammeOption = "winter_spring",
    reveal: Annotated[bool, typer.Option(help="clear ID, phone and card numbers (county / relief officer)")] = False,
    account: Annotated[str | None, typer.Option(help="the account exporting (required with --reveal)")] = None,
    purpose: Annotated[str, typer.Option(help="why the clear personal data is needed (recorded)")] = "",
) -> None:
    """The 花名册 (应急统表10) of an area: masked, or with --reveal for those who pay and check."""
    with open_runtime(Settings()) as runtime:
        try:
            code, name = _area(runtime, area)
            actor = _exporter(runtime, account, code.prefix, reveal, purpose)
            _check_programme(programme)
            with _roster(runtime) as view, _counter(console, "writing rows") as advance:
                if reveal:
                    assert actor is not None
                    _record_bulk_view(runtime, actor, programme, period, code.prefix, purpose)
                count = _files().write_roster(
                    view.iter_rows(programme, period, code.prefix), out,
                    reveal=runtime.pii.decrypt if reveal else None, progress=advance, areas=runtime.areas,
                    subtitle=f"填报单位：{name}（{code.prefix}）    救助项目：{PROGRAMME_NAMES[Programme(programme)]}"
                             f"    期间：{period}")
        except DomainError as exc:
            fail(exc)
    console.print(f"{count} households written to {out}" + (" (personal data in clear)" if reveal else " (masked)"))


@relief_cli.command("export-statistics")
def export_statistics(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="the .xlsx to write")],
    period: PeriodOption,
    area: AreaOption,
    programme: ProgrammeOption = "winter_spring",
) -> None:
    """需救助 / 已救助 households, people and money per child area of the area, with a 合计 row."""
    with open_runtime(Settings()) as runtime:
        try:
            code, name = _area(runtime, area)
            _check_programme(programme)
            with _roster(runtime) as view:
                count = _files().write_statistics(
                    view.winter_spring_statistics(code.prefix, period, programme), out, _namer(runtime),
                    subtitle=f"{name}（{code.prefix}）    {PROGRAMME_NAMES[Programme(programme)]}    期间：{period}")
        except DomainError as exc:
            fail(exc)
    console.print(f"{count} areas written to {out}")


def _area(runtime: LedgerRuntime, area: str) -> tuple[AreaCode, str]:
    code = AreaCode.parse(area, "area")
    return code, runtime.areas.require(code, "area").name


def _namer(runtime: LedgerRuntime) -> Any:
    def name_of(prefix: str) -> str:
        try:
            found = runtime.areas.get(prefix)
        except DomainError:
            return ""
        return found.name if found else ""

    return name_of


def _check_programme(programme: str) -> None:
    if programme not in Programme.__members__.values():
        raise InvalidInput("救助项目无效", "unknown programme",
                           fields=[FieldProblem("programme", "bad_programme", ", ".join(p.value for p in Programme))])


def _exporter(runtime: LedgerRuntime, account: str | None, prefix: str, reveal: bool, purpose: str) -> Actor | None:
    """The named account, if any; with --reveal it must be a county or relief officer covering the area."""
    if account is None:
        if reveal:
            raise InvalidInput("--reveal 须指定 --account", "--reveal needs --account",
                               fields=[FieldProblem("account", "required", "the county or relief officer exporting")])
        return None
    actor: Actor = runtime.accounts.get(account).as_actor()
    if not actor.covers(prefix):
        raise NotPermitted(f"{prefix} 不在本账号的管辖范围内", f"{prefix} is outside this account's scope")
    if reveal:
        if not runtime.relief.may_see_full(actor):
            raise NotPermitted("本角色不能查看完整个人信息", "this role may not see unmasked personal data")
        if not purpose.strip():
            raise InvalidInput("须说明查看理由", "state why the personal data is needed",
                               fields=[FieldProblem("purpose", "required", "why the unmasked data is needed")])
    return actor


def _record_bulk_view(runtime: LedgerRuntime, actor: Actor, programme: str, period: str, prefix: str,
                      purpose: str) -> None:
    """One PersonalDataExported event for the whole export, saved before any clear value is written."""
    runtime.relief.record_export(actor, programme, period, prefix, purpose)


@contextmanager
def _roster(runtime: LedgerRuntime) -> Iterator[Any]:
    """The roster view, caught up (a spinner meanwhile)."""
    status = console.status("Bringing the roster up to date …")
    status.start()
    try:
        with _files().roster_view(runtime, None, timeout=120) as view:
            status.stop()
            yield view
    finally:
        status.stop()


@contextmanager
def _counter(console: Any, label: str) -> Iterator[Callable[[int], None]]:
    """Progress of rows written (the total is not known in advance)."""
    from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn(label), MofNCompleteColumn(), console=console, transient=True) as p:
        task = p.add_task("rows", total=None)
        yield lambda n: p.advance(task, n)
