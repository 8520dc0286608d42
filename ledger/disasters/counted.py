"""What a process keeps of its reports: bounded by what can still change, not by how many were filed.

For each township and indicator the value that counts is the one of the
latest report naming it that was not returned (驳回). An accepted report is
never returned later, so below the latest accepted report naming a value
nothing can come back into view: each (township, indicator) keeps a short
stack — the value of the latest accepted report naming it, then the values
of the reports still awaiting review, in filing order — and the top of the
stack counts. Accepting a report drops what lies below it; returning one
takes its entries out. The same is kept for each township's as-of time and
for the kinds of report (the stage follows the latest report that counts).

Everything here is plain JSON (lists, string keys), so snapshots keep it as is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.disasters.reports import ReportKind, Review, unknown_report

Stack = list[list[Any]]  # [[report number, value], ...] in filing order


def push(stack: Stack, number: int, value: Any) -> None:
    stack.append([number, value])


def settle(stack: Stack, number: int) -> Stack:
    """Report `number` was accepted: what was filed before it can never count again."""
    return [entry for entry in stack if entry[0] >= number]


def withdraw(stack: Stack, number: int) -> Stack:
    """Report `number` was returned: its entry no longer counts."""
    return [entry for entry in stack if entry[0] != number]


class ReportBook:
    """The aggregate's report bookkeeping, over its plain attributes: `report_count`, `pending` and
    `returned` (records by number), `counted` (township → indicator → stack), `as_of` (township → stack)
    and `counted_kinds` (stack of report kinds)."""

    def __init__(self, disaster: Any) -> None:
        self.d = disaster

    @staticmethod
    def open(disaster: Any) -> None:
        disaster.report_count = 0
        disaster.pending = {}  # reports awaiting review, by number (str)
        disaster.returned = {}  # returned reports by number (str): kind, refiled_as, reason until refiled
        disaster.counted = {}  # township → indicator → [[number, value]]
        disaster.as_of = {}  # township → [[number, as_of]]
        disaster.counted_kinds = []  # [[number, kind]] of the reports that may count

    def filed(self, record: dict[str, Any]) -> None:
        number, figures = record["number"], record["figures"]
        self.d.report_count = number
        self.d.pending[str(number)] = {**record, "kind": record["kind"].value, "review": Review.SUBMITTED.value}
        for township, values in figures.items():
            stacks = self.d.counted.setdefault(township, {})
            for indicator, value in values.items():
                push(stacks.setdefault(indicator, []), number, value)
            push(self.d.as_of.setdefault(township, []), number, record["as_of"])
        push(self.d.counted_kinds, number, record["kind"].value)
        refiled = self.d.returned.get(str(record["refiles"]))
        if refiled is not None:  # it can be refiled only once: its reason is in the events
            self.d.returned[str(record["refiles"])] = {"kind": refiled["kind"], "refiled_as": number}

    def accepted(self, number: int) -> None:
        report = self.d.pending.pop(str(number))
        self._rework(number, report["figures"], settle)

    def returned(self, number: int, reason: str, actor: dict[str, Any]) -> None:
        report = self.d.pending.pop(str(number))
        self._rework(number, report["figures"], withdraw)
        self.d.returned[str(number)] = {"kind": report["kind"], "return_reason": reason, "refiled_as": None}

    def _rework(self, number: int, figures: dict[str, dict[str, str]], how: Any) -> None:
        counted, as_of = self.d.counted, self.d.as_of
        for township, values in figures.items():
            stacks = counted.get(township, {})
            for indicator in values:
                if indicator in stacks:
                    stacks[indicator] = how(stacks[indicator], number)
                    if not stacks[indicator]:
                        del stacks[indicator]
            if township in counted and not stacks:
                del counted[township]
            if township in as_of:
                as_of[township] = how(as_of[township], number)
                if not as_of[township]:
                    del as_of[township]
        self.d.counted_kinds = how(self.d.counted_kinds, number)

    def report(self, number: int) -> dict[str, Any]:
        if not 1 <= number <= self.d.report_count:
            raise unknown_report(number, self.d.report_count)
        record = self.d.pending.get(str(number))
        if record is not None:
            return {**record, "kind": ReportKind(record["kind"]), "review": Review.SUBMITTED}
        record = self.d.returned.get(str(number))
        if record is not None:
            return {"number": number, "return_reason": None, **record, "kind": ReportKind(record["kind"]),
                    "review": Review.RETURNED}
        return {"number": number, "review": Review.ACCEPTED}

    def reviews(self) -> dict[str, str]:
        """Each report's review by number: accepted unless awaiting review or returned."""
        reviews = dict.fromkeys(map(str, range(1, self.d.report_count + 1)), Review.ACCEPTED.value)
        reviews.update(dict.fromkeys(self.d.pending, Review.SUBMITTED.value))
        reviews.update(dict.fromkeys(self.d.returned, Review.RETURNED.value))
        return reviews

    def refiled_as(self, number: int) -> int | None:
        record = self.d.returned.get(str(number))
        return record.get("refiled_as") if record else None

    def current(self) -> dict[str, dict[str, str]]:
        """Per township, the values that count (as stored: strings)."""
        return {t: {i: stack[-1][1] for i, stack in stacks.items()} for t, stacks in self.d.counted.items()}

    def latest_as_of(self, township: str) -> datetime | None:
        stack = self.d.as_of.get(township)
        return max(entry[1] for entry in stack) if stack else None

    def counted_kind(self) -> ReportKind | None:
        """The kind of the latest report that counts."""
        return ReportKind(self.d.counted_kinds[-1][1]) if self.d.counted_kinds else None
