"""What a report is and how it is checked: kinds, reviews, stages, and the checks every 续报 and 核报 passes.

自然灾害情况统计调查制度: a process is one 初报, several 续报 and one 核报;
the upper level reviews each (accept / 驳回). Figures are checked against the
definitions (其中 ≤ parent, 受灾 ⊇ 成灾 ⊇ 绝收, 户 ≤ 间 …) and against what
the process already holds: a report older than a township's figures is
refused, and a large jump up or any decrease of a figure that only grows
needs a written explanation (激增激减须书面说明).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ledger.reference.indicators import Figures, IndicatorSet, Jump
from ledger.store.errors import Conflict, FieldProblem, InvalidInput


class Stage(StrEnum):
    INITIAL = "initial"  # 初报
    FOLLOW_UP = "follow_up"  # 续报
    FINAL = "final"  # 核报
    RETRACTED = "retracted"  # 核销


class ReportKind(StrEnum):
    INITIAL = "initial"
    FOLLOW_UP = "follow_up"
    FINAL = "final"


class Review(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"  # 驳回


@dataclass(frozen=True)
class ReportPolicy:
    """What a report is checked against: the indicators and the jump rules in force."""

    indicators: IndicatorSet
    jump_ratio: Decimal
    jump_min_delta: Decimal
    rules_version: str


class ReportClosed(Conflict):
    """The process has its 核报: no more 续报."""

    code = "report_closed"


class ProcessRetracted(Conflict):
    """The process was retracted (核销): nothing more can be filed or decided on it."""

    code = "retracted"


class ExplanationRequired(InvalidInput):
    code = "explanation_required"


class InconsistentFigures(InvalidInput):
    code = "inconsistent_figures"


def check_report(
disaster: Any,
    figures: dict[str, Figures],
    as_of: datetime,
    explanation: str | None,
    policy: ReportPolicy,
    refiles: int | None,
) -> list[Jump]:
    """A 续报 or 核报 against the process so far: refiling, times, consistency, jumps (激增激减须书面说明)."""
    if refiles is not None and disaster.report(refiles)["review"] is not Review.RETURNED:
        raise Conflict(
            f"第 {refiles} 号报告未被驳回，无需重报", f"report {refiles} was not returned; nothing to refile",
            code="not_returned",
        )
    if refiles is not None and any(r["refiles"] == refiles for r in disaster.reports):
        earlier = next(r["number"] for r in disaster.reports if r["refiles"] == refiles)
        raise Conflict(
            f"第 {refiles} 号报告已由第 {earlier} 号报告重报", f"report {refiles} was already refiled as report {earlier}",
            code="already_refiled", details={"refiled_as": earlier},
        )
    if as_of < disaster.occurred_at:
        raise InvalidInput(
            "统计时间早于灾害发生时间", "the report's as_of time is before the disaster occurred",
            fields=[FieldProblem("as_of", "before_occurrence", "must not precede the disaster's occurred_at")],
        )
    stale = [
        FieldProblem(f"figures.{t}", "older_than_reported", f"{t} already has figures as of {latest.isoformat()}")
        for t in figures
        if (latest := latest_as_of(disaster, t)) is not None and as_of < latest
    ]
    if stale:
        raise InvalidInput(
            "报告的统计时间早于该乡镇已报送的数据", "the report is older than figures already reported for a township",
            fields=stale, code="older_than_reported",
        )
    current = disaster.township_figures()
    merged = {t: {**current.get(t, {}), **f} for t, f in figures.items()}
    check_consistency(policy.indicators, merged)
    jumps = [
        jump
        for township, reported in figures.items()
        for jump in policy.indicators.jumps(
            township, current.get(township, {}), reported, policy.jump_ratio, policy.jump_min_delta
        )
    ]
    if jumps and not (explanation and explanation.strip()):
        raise ExplanationRequired(
            "数据激增或减少，须附书面说明", "large increases or any decrease need a written explanation",
            fields=[
                FieldProblem(
                    f"figures.{j.township}.{j.indicator}", j.kind,
                    f"{j.indicator}: {j.previous} → {j.reported} ({j.kind}) needs an explanation",
                )
                for j in jumps
            ],
        )
    return jumps

def latest_as_of(disaster: Any, township: str) -> datetime | None:
    """When the figures that count for a township were as of."""
    dates = [r["as_of"] for r in disaster.reports if r["review"] is not Review.RETURNED and township in r["figures"]]
    return max(dates) if dates else None


def check_consistency(indicators: IndicatorSet, figures: dict[str, Figures]) -> None:
    problems = [p for t, f in figures.items() for p in indicators.check(f, f"figures.{t}")]
    if problems:
        raise InconsistentFigures("报表数据不一致", "the figures are inconsistent", fields=problems)


def require_text(value: str, field_name: str) -> None:
    if not value or not value.strip():
        raise InvalidInput(
            f"{field_name} 不能为空", f"{field_name} must not be empty",
            fields=[FieldProblem(field_name, "required", "a written reason is required")],
        )


def refiled_kind(reports: list[dict[str, Any]], kind: ReportKind, refiles: int | None) -> ReportKind:
    """A refiled 初报 is a 初报 again (recorded with a 续报's event naming the report it refiles)."""
    if refiles is not None and kind is ReportKind.FOLLOW_UP and reports[refiles - 1]["kind"] is ReportKind.INITIAL:
        return ReportKind.INITIAL
    return kind


def new_report(number: int, kind: ReportKind, figures: dict[str, dict[str, str]], as_of: datetime,
               explanation: str | None, jumps: list[dict[str, str]], refiles: int | None,
               phoned_at: datetime | None, actor: dict[str, Any]) -> dict[str, Any]:
    """A report as the process keeps it: submitted, not yet reviewed."""
    return {
        "number": number, "kind": kind, "figures": figures, "as_of": as_of, "explanation": explanation,
        "jumps": jumps, "refiles": refiles, "phoned_at": phoned_at, "filed_by": actor,
        "review": Review.SUBMITTED, "reviewed_by": None, "return_reason": None,
    }


def find_report(reports: list[dict[str, Any]], number: int) -> dict[str, Any]:
    if not 1 <= number <= len(reports):
        raise InvalidInput(
            f"没有第 {number} 号报告", f"there is no report number {number}",
            fields=[FieldProblem("number", "unknown_report", f"reports are numbered 1..{len(reports)}")],
            code="unknown_report",
        )
    return reports[number - 1]


def require_unreviewed(report: dict[str, Any], number: int) -> None:
    if report["review"] is not Review.SUBMITTED:
        raise Conflict(
            f"第 {number} 号报告已审核（{report['review'].value}）",
            f"report {number} has already been reviewed ({report['review'].value})",
            code="already_reviewed",
        )


STAGE_OF_KIND = {ReportKind.INITIAL: Stage.INITIAL, ReportKind.FOLLOW_UP: Stage.FOLLOW_UP,
                 ReportKind.FINAL: Stage.FINAL}


def stage_of(reports: list[dict[str, Any]]) -> Stage:
    """The stage the latest report that still counts gives the process (初报 if none counts)."""
    counted = [r for r in reports if r["review"] is not Review.RETURNED]
    return STAGE_OF_KIND[counted[-1]["kind"]] if counted else Stage.INITIAL
