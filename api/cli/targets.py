"""`relief-ledger targets …`: load the reference figures the plans' targets need, and list the targets.

    relief-ledger targets import FILE.xlsx --label "2016-2020 统计公报"   all rows or none, with a row report
    relief-ledger targets plans [--area 320921]                           the configured targets
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import console, err, fail, open_runtime
from api.cli.common import operator as local_operator
from api.settings import Settings
from ledger.store.errors import DomainError

targets_cli = typer.Typer(help="The plans' safety targets: load reference figures (GDP, population, employees, "
                               "vehicles, baselines), list the targets.", no_args_is_help=True)


@targets_cli.command("import")
def import_figures(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".xlsx or .csv, one row per place and year")],
    label: Annotated[str, typer.Option(help="what this load is, e.g. 2016-2020 统计公报")],
) -> None:
    """Check every row; load all of them in one transaction, or none and name each bad row."""
    from api.files.targets import load_file

    with open_runtime(Settings()) as runtime:
        try:
            reports = load_file(runtime, local_operator(), file, label)
        except DomainError as exc:
            fail(exc)
            return
    for r in reports:
        console.print(f"row {r.row}: {r.jurisdiction} {r.year} ok")
    console.print(f"[green]{len(reports)} rows loaded[/green] from {file.name} ({label})")


@targets_cli.command("plans")
def plans(area: Annotated[str, typer.Option(help="area-code prefix")] = "") -> None:
    """The configured plans and their targets (the shipped ones are the seed places')."""
    with open_runtime(Settings()) as runtime:
        table = runtime.target_plans
        err.print(f"targets version {table.version}")
        for plan, jurisdiction in table.for_area(area):
            console.print(f"[bold]{plan.name}[/bold] {jurisdiction} {plan.period[0]}–{plan.period[1]}")
            for t in plan.targets:
                stated = "" if t.stated else " (comparison assumed)"
                console.print(f"  {t.indicator.name}: {t.text} ({t.comparison}) {t.binding}{stated}")
