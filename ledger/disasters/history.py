"""Every report of a process, as filed and reviewed, read from its events (the aggregate keeps only what counts)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledger.disasters.reports import ReportKind, Review, new_report, refiled_kind

KINDS = {
    "InitialReportFiled": ReportKind.INITIAL,
    "FollowUpReportFiled": ReportKind.FOLLOW_UP,
    "FinalReportFiled": ReportKind.FINAL,
}


def report_history(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The reports in filing order: number, kind, figures, as_of, explanation, jumps, refiles, phoned_at,
    filed_by, review, reviewed_by, return_reason, and `recorded_at` (when the report was recorded)."""
    reports: list[dict[str, Any]] = []
    for e in events:
        name = type(e).__name__
        if name in KINDS:
            report = new_report(
                len(reports) + 1, refiled_kind(reports, KINDS[name], getattr(e, "refiles", None)), e.figures, getattr(e, "as_of", None) or e.occurred_at,
                getattr(e, "explanation", None), getattr(e, "jumps", []), getattr(e, "refiles", None),
                getattr(e, "phoned_at", None), e.actor,
            )
            reports.append({**report, "recorded_at": e.timestamp})
        elif name in ("ReportAccepted", "ReportReturned"):
            report = reports[e.number - 1]
            report["review"] = Review.ACCEPTED if name == "ReportAccepted" else Review.RETURNED
            report["reviewed_by"] = e.actor
            report["return_reason"] = getattr(e, "reason", None)
    return reports
