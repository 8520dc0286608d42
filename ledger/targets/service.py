"""Use cases of the targets: load reference figures (all rows or none, with a row report), read them.

Who may load: administrators (the CLI's local operator) and county, city and province accounts for
jurisdictions within their scope. A file with any bad row loads nothing; the report names each row,
column and reason. A good file is saved in one transaction, one event per jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from ledger.reference.codes import AreaCode
from ledger.store.actors import REVIEWERS, Actor, Role, refuse, require_writer
from ledger.store.errors import FieldProblem, InvalidInput
from ledger.targets.reference import MEASURES, ReferenceFigures, reference_id

if TYPE_CHECKING:
    from ledger.store.context import LedgerContext


MAX_VALUE = Decimal("1e15")


@dataclass
class RowReport:
    row: int
    jurisdiction: str
    year: str
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class TargetService:
    def __init__(self, runtime: LedgerContext) -> None:
        self.rt = runtime
        self.app = runtime.app

    def check(self, rows: list[dict[str, Any]]) -> tuple[list[RowReport], dict[str, dict[str, dict[str, str]]]]:
        """Each row checked (row number, 区划代码, 年份, measures); the figures by jurisdiction when all are good."""
        reports, by_place, seen = [], {}, set()  # type: ignore[var-annotated]
        for raw in rows:
            number = int(raw["row"])
            report = RowReport(number, str(raw.get("jurisdiction", "")), str(raw.get("year", "")))
            where = f"rows.{number}"
            jurisdiction = None
            try:
                code = AreaCode.parse(str(raw.get("jurisdiction", "")).strip(), f"{where}.jurisdiction")
                if code not in self.rt.areas:
                    report.problems.append(FieldProblem(f"{where}.jurisdiction", "unknown_area", f"unknown area {code}"))
                else:
                    jurisdiction = code.prefix
            except InvalidInput as exc:
                report.problems.extend(exc.fields)
            year = str(raw.get("year", "")).strip()
            if not (year.isdigit() and 1949 <= int(year) <= 2100):
                report.problems.append(FieldProblem(f"{where}.year", "bad_year", "a year from 1949 to 2100"))
            values = {}
            for measure, value in (raw.get("values") or {}).items():
                if measure not in MEASURES:
                    report.problems.append(FieldProblem(f"{where}.{measure}", "unknown_measure",
                                                        "one of: " + ", ".join(MEASURES)))
                    continue
                try:
                    number_value = Decimal(str(value).strip())
                except InvalidOperation:
                    number_value = Decimal("NaN")
                if not number_value.is_finite() or number_value < 0 or number_value > MAX_VALUE:
                    report.problems.append(FieldProblem(f"{where}.{measure}", "bad_value",
                                                        f"a non-negative number, not {value!r}"))
                    continue
                values[measure] = str(number_value)
            if not values and not report.problems:
                report.problems.append(FieldProblem(where, "empty", "the row gives no figure"))
            if jurisdiction and year and (jurisdiction, year) in seen:
                report.problems.append(FieldProblem(where, "duplicate", f"{jurisdiction} {year} appears twice"))
            seen.add((jurisdiction, year))
            if jurisdiction and report.ok:
                by_place.setdefault(jurisdiction, {})[year] = values
            reports.append(report)
        return reports, by_place

    def load(self, actor: Actor, rows: list[dict[str, Any]], label: str, file_name: str, sha256: str
             ) -> list[RowReport]:
        """All rows or none: 422 naming every bad row, column and reason; else one save."""
        require_writer(actor)
        reports, by_place = self.check(rows)
        problems = [p for r in reports for p in r.problems]
        if not rows:
            problems.append(FieldProblem("rows", "empty", "the file has no rows"))
        if problems:
            raise InvalidInput("参考数据有误，未导入任何数据", f"{sum(not r.ok for r in reports)} bad rows; nothing "
                               "was loaded", fields=problems, code="bad_rows")
        for jurisdiction in by_place:
            if actor.role is not Role.ADMIN and (actor.role not in REVIEWERS or not actor.covers(jurisdiction)):
                raise refuse(f"{jurisdiction} 不在本账号的管辖范围内", f"{jurisdiction} is outside this account's scope")
        aggregates = []
        for jurisdiction, figures in sorted(by_place.items()):
            aggregate = self.reference(jurisdiction) or ReferenceFigures(jurisdiction=jurisdiction)
            aggregate.load(label=label, file_name=file_name, sha256=sha256, figures=figures, actor=actor.as_dict())
            aggregates.append(aggregate)
        self.app.save(*aggregates)
        return reports

    def reference(self, jurisdiction: str) -> ReferenceFigures | None:
        try:
            found: Any = self.app.repository.get(reference_id(jurisdiction))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, ReferenceFigures) else None
