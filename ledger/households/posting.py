"""公示: the public posting every relief and housing case goes through, and its objections.

自然灾害救助条例 Art 20 and the 冬春 procedure: after the village's democratic
assessment the list is posted publicly for at least a week (河南 实施办法: ≥ 7
日, C39); objections are heard; only then may the township review (乡审).

The rules that keep the posting from being gamed:
- it starts no earlier than the step it follows (村评 / 评议) and not in the future;
- a stated start more than `backdate_days` before the day it is recorded is
  refused — or accepted only with a written reason, and then listed in the
  accountability report as a backdated posting;
- it lasts at least `min_days` days (start and end included);
- 乡审 waits until the posting has ended on the stated dates **and** until
  `min_days` have passed since the posting was recorded, so a backdated
  posting never shortens the real time the public had to object;
- an objection is dated within the posting and not in the future; every
  objection is resolved before 乡审.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ledger.store.errors import Conflict, FieldProblem, InvalidInput


@dataclass(frozen=True)
class PostingRules:
    min_days: int = 7
    backdate_days: int = 2
    """A stated start up to this many days before the recording day needs no reason."""


@dataclass(frozen=True)
class PostingFacts:
    """What a valid posting records (the event's payload)."""

    start: date
    end: date
    place: str
    reason: str | None
    backdated_days: int  # days the stated start lies before the recording day beyond what needs no reason


def check_posting(start: date, end: date, place: str, follows: date | None, today: date, rules: PostingRules,
                  reason: str | None) -> PostingFacts:
    """The posting as it may be recorded today, or InvalidInput naming each problem."""
    problems: list[FieldProblem] = []
    if follows is not None and start < follows:
        problems.append(FieldProblem("start", "before_previous_step",
                                     f"the posting cannot start before the assessment it follows ({follows})"))
    if start > today:
        problems.append(FieldProblem("start", "in_future", "record the posting once it is up"))
    if end < start:
        problems.append(FieldProblem("end", "before_start", "the posting ends after it starts"))
    elif (end - start).days + 1 < rules.min_days:
        problems.append(FieldProblem("end", "posting_too_short", f"at least {rules.min_days} days from the start"))
    if not place.strip():
        problems.append(FieldProblem("place", "required", "where the list was posted"))
    late = (today - start).days
    reason = reason.strip() if reason and reason.strip() else None
    if late > rules.backdate_days and reason is None:
        problems.append(FieldProblem(
            "start", "posting_backdated",
            f"the start lies {late} days before today; more than {rules.backdate_days} needs a written reason"))
    if problems:
        short = any(p.code == "posting_too_short" for p in problems)
        raise InvalidInput(
            f"公示期不少于 {rules.min_days} 天" if short else "公示日期有误",
            f"the posting must last at least {rules.min_days} days" if short else "the posting dates are invalid",
            fields=problems, code="posting_backdated" if _only(problems, "posting_backdated") else "invalid",
        )
    return PostingFacts(start=start, end=end, place=place.strip(), reason=reason,
                        backdated_days=late if late > rules.backdate_days else 0)


def _only(problems: list[FieldProblem], code: str) -> bool:
    return all(p.code == code for p in problems)


def posting_state(start: date, end: date, place: str, recorded_at: datetime, reason: str | None = None,
                  backdated_days: int = 0) -> dict[str, Any]:
    return {"start": start, "end": end, "place": place, "recorded_at": recorded_at, "reason": reason,
            "backdated_days": backdated_days}


def check_objection(posting: dict[str, Any] | None, raised_on: date, today: date) -> None:
    """An objection is dated within the posting (start … end) and not after today."""
    if posting is None:
        raise Conflict("尚未公示", "there is no posting to object to", code="wrong_stage")
    problem = None
    if raised_on > today:
        problem = FieldProblem("raised_on", "in_future", "an objection cannot be dated after today")
    elif not posting["start"] <= raised_on <= posting["end"]:
        problem = FieldProblem("raised_on", "outside_posting",
                               f"within the posting, {posting['start']} … {posting['end']}")
    if problem:
        raise InvalidInput("异议日期须在公示期内", "the objection must be dated within the posting", fields=[problem])


def require_posting_done(posting: dict[str, Any], objections: dict[str, dict[str, Any]], now: datetime,
                         today: date, rules: PostingRules) -> None:
    """乡审 (and every later step) only after the posting ended on its stated dates, `min_days`
    after it was recorded, and with every objection resolved."""
    if today <= posting["end"]:
        raise Conflict(
            f"公示期至 {posting['end']} 结束后才能审核", f"the posting runs until {posting['end']}",
            code="posting_not_ended",
        )
    recorded_at = posting.get("recorded_at")
    if recorded_at is not None and now < recorded_at + timedelta(days=rules.min_days):
        ready = recorded_at + timedelta(days=rules.min_days)
        raise Conflict(
            f"公示记录于 {recorded_at:%Y-%m-%d %H:%M} UTC，须满 {rules.min_days} 天后才能审核",
            f"the posting was recorded at {recorded_at.isoformat()}; review from {ready.isoformat()}",
            details={"recorded_at": recorded_at.isoformat(), "review_from": ready.isoformat()},
            code="posting_recorded_too_recently",
        )
    open_ = [k for k, o in objections.items() if o["resolution"] is None]
    if open_:
        raise Conflict("尚有未处理的异议", "objections are still open", details={"objections": open_},
                       code="objections_open")
