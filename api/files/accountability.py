"""The accountability report as files: an .xlsx workbook and a JSON-lines bundle, under a seal.

`sealed_report` first brings the seal up to date (`Sealer(runtime).seal()`),
then builds the report over the log exactly up to the sealed head, so the
digest line it carries (`relief-ledger seal v1 position=P digest=… at=…`)
covers every event the report read — anyone can check it against the store
with `relief-ledger audit verify --digest '<line>'`.

The JSON-lines bundle (`to_jsonl`), one JSON object per line, UTF-8:

    {"type": "header", "area", "area_name", "period": {"from", "to"}, "generated_at", "position",
     "rules_versions", "counts", "seal": [digest lines], "sections": [names in order], "format"}
    {"type": "<section>", ...row}                       one line per row, sections in order
    {"type": "footer", "rows": N, "sha256": "<hex>"}

The footer's `sha256` is the SHA-256 of every preceding line's bytes, each
with its "\n" — `check_jsonl` recomputes it — so the bundle itself can be
checked after it has left the system.

The workbook (`to_xlsx`) has a cover sheet (封面: the metadata and the seal's
digest lines) and one sheet per section, written row by row (write-only).
Money is exact (Decimal 元 cells, never floats); text never becomes a formula.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from api.files.accountability_sources import projection_sections
from api.files.sheets import Column, Sheet, book
from ledger.audit.accountability import AccountabilityReport, build_report, check_period, report_area
from ledger.audit.accountability_sections import SECTIONS
from ledger.store.errors import Unavailable
from projections.accidents.accountability import AccidentSections
from projections.audit.seal import Sealer
from projections.runner import ProjectionHost, caught_up

if TYPE_CHECKING:
    from ledger.runtime import LedgerRuntime


FORMAT = "relief-ledger accountability v1"


TITLE = "问责报告 accountability report"


COVER = "封面"


SUMMARY = {
    "late_and_missing": "迟报 / 未报 late and missing reports",
    "corrections": "勘误 corrections",
    "retractions": "核销 retractions",
    "returns": "驳回 returned reports",
    "jumps": "激增激减 large jumps and their explanations",
    "above_standard": "超标准核定 relief approved above the standard",
    "returned_or_reversed": "退回 / 冲正 returned or reversed payments",
    "access_log": "个人信息访问 reads and exports of unmasked personal data",
    "backdated_postings": "公示补录 postings recorded after their stated start, with the reason",
    "household_matches": "重复人员账号电话 a person, card or phone in two open households",
    "relief_late_steps": "审核审批超时 township review or county decision past the configured days",
    "season_deadlines": "冬春时限 the 冬春 survey and upward filings, late or missing",
    "relief_timeliness": "救助时效 households relieved later than the target after the disaster",
    "equal_amounts": "平均分配 villages where every household got the same amount",
    "housing_above_standard": "重建补助超标准 housing subsidies above the standard table, with the reason",
    "housing_reconciliation": "倒损住房核对 housing files against the reported 住房 figures",
    "actions_per_account": "账号操作 actions per account",
    "account_rights": "账号权限 who held which role and scope in the period (and from when)",
    "accident_clocks": "事故迟报 / 未报 accidents' late and missing reports",
    "accident_regradings": "事故等级调整 accident regradings",
    "accident_findings": "迟报漏报谎报瞒报认定 findings on accident reports",
    "accident_late_supplements": "逾期补报 casualty changes after the 补报 window",
}


def sealed_report(runtime: LedgerRuntime, area: str, date_from: date, date_to: date,
                  host: ProjectionHost | None = None) -> AccountabilityReport:
    """Seal the new events, then build the report over the log up to the sealed head, carrying its digest.
    The accident sections come from the accident register once it has reached the sealed head; the relief
    and housing sections from their read models."""
    report_area(runtime, area)  # refuse bad input before writing to the seal's tables
    check_period(date_from, date_to)
    with Sealer(runtime) as sealer:
        checkpoint = sealer.seal()
    try:
        with caught_up(runtime, "accidents", checkpoint.position, host) as view:
            report = build_report(runtime, area, date_from, date_to, upto=checkpoint.position,
                                  sources=[AccidentSections(view, runtime), ReadModelSections(runtime, host)])
    except TimeoutError:
        raise Unavailable("事故读模型尚未就绪，请稍后重试", "the accident register is catching up; retry shortly") from None
    report.seal = [checkpoint.line]
    return report


class ReadModelSections:
    """The relief and housing sections, from their read models (a `SectionSource`)."""

    def __init__(self, runtime: Any, host: Any) -> None:
        self.runtime, self.host = runtime, host

    def rows(self, prefix: str, date_from: date, date_to: date, start: datetime, end: datetime, upto: int,
             now: datetime) -> dict[str, list[dict[str, Any]]]:
        return projection_sections(self.runtime, self.host, prefix, start, end)


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def to_jsonl(report: AccountabilityReport, out: IO[bytes] | Path, digests: Sequence[str] | None = None) -> int:
    """Write the bundle; returns the number of row lines. `digests` default to the report's own seal."""
    seal = list(digests) if digests is not None else list(report.seal)
    header = {"type": "header", **report.metadata(), "seal": seal,
              "sections": [s.key for s in SECTIONS], "format": FORMAT}
    if isinstance(out, Path):
        with out.open("wb") as f:
            return _write_jsonl(report, header, f)
    return _write_jsonl(report, header, out)


def _write_jsonl(report: AccountabilityReport, header: dict[str, Any], f: IO[bytes]) -> int:
    digest = hashlib.sha256()

    def put(obj: dict[str, Any]) -> None:
        data = _line(obj)
        digest.update(data)
        f.write(data)

    put(header)
    rows = 0
    for section in SECTIONS:
        for row in report.sections.get(section.key, []):
            put({"type": section.key, **row})
            rows += 1
    f.write(_line({"type": "footer", "rows": rows, "sha256": digest.hexdigest()}))
    return rows


def check_jsonl(data: bytes) -> bool:
    """True when the bundle's last line is a footer whose sha256 matches every line before it."""
    lines = data.splitlines(keepends=True)
    if not lines or not lines[-1].endswith(b"\n"):
        return False
    try:
        footer = json.loads(lines[-1])
    except ValueError:
        return False
    if not isinstance(footer, dict) or footer.get("type") != "footer":
        return False
    body = b"".join(lines[:-1])
    return (hashlib.sha256(body).hexdigest() == footer.get("sha256")
            and footer.get("rows") == max(len(lines) - 2, 0))


def _cell(key: str, value: Any) -> Any:
    if key.endswith("_yuan") and isinstance(value, str):
        return Decimal(value)  # written as exact 0.00 text by the sheet, never through a float
    return value


def to_xlsx(report: AccountabilityReport, out: IO[bytes] | Path, digests: Sequence[str] | None = None) -> int:
    """A cover sheet and one sheet per section; returns the number of rows written (cover excluded)."""
    seal = list(digests) if digests is not None else list(report.seal)
    with book(out) as wb:
        meta = report.metadata()
        cover = Sheet(wb, COVER, (Column("项目 item", width=28), Column("内容 value", width=110)), TITLE, None)
        cover.append(["区域 area", f"{report.area_name}（{report.area}）"])
        cover.append(["期间 period", f"{meta['period']['from']} — {meta['period']['to']}（北京时间，含首尾）"])
        cover.append(["生成时间 generated_at", meta["generated_at"]])
        cover.append(["账本位置 position", report.position])
        for name, version in report.rules_versions.items():
            cover.append([f"规则版本 rules_versions.{name}", version])
        for section in SECTIONS:
            cover.append([f"{section.title} {section.key}", len(report.sections.get(section.key, []))])
        for line in seal or ["（未封存 not sealed）"]:
            cover.append(["封存摘要 seal", line])
        cover.append(["校验 verify", "relief-ledger audit verify --digest '<封存摘要 seal line>'"])
        total = 0
        for section in SECTIONS:
            columns = [Column(label, key, width=max(12.0, min(40.0, len(label) * 2.5 + 4))) for key, label in
                       section.columns]
            sheet = Sheet(wb, section.title, columns, f"{section.title} — {SUMMARY[section.key]}",
                           f"{report.area_name}（{report.area}） {meta['period']['from']} — {meta['period']['to']}")
            for row in report.sections.get(section.key, []):
                sheet.append([_cell(key, row.get(key)) for key, _ in section.columns])
                total += 1
    return total
