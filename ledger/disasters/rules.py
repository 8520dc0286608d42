"""Reporting rules that vary by county or year: loaded once from TOML.

The defaults ship as package data (`data/rules.toml`); a configured file
replaces them whole. The rules' `version` is recorded in each event that
applied them, so an auditor can tell which rule produced a decision.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class ReportRules:
    jump_ratio: Decimal
    jump_min_delta: Decimal
    clock_skew_seconds: int
    max_text_chars: int
    min_photos_with_response: int = 3
    """Photos a process's reports carry by its 核报 when a response level was launched (C11)."""


@dataclass(frozen=True)
class Rules:
    version: str
    reports: ReportRules

    @classmethod
    def load(cls, path: Path | None = None) -> Rules:
        if path is None:
            text = (resources.files("ledger") / "data" / "rules.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        reports = raw.get("reports", {})
        try:
            rules = cls(
                version=str(raw["version"]),
                reports=ReportRules(
                    jump_ratio=Decimal(str(reports["jump_ratio"])),
                    jump_min_delta=Decimal(str(reports["jump_min_delta"])),
                    clock_skew_seconds=int(reports["clock_skew_seconds"]),
                    max_text_chars=int(reports["max_text_chars"]),
                    min_photos_with_response=int(reports.get("min_photos_with_response", 3)),
                ),
            )
        except (KeyError, InvalidOperation, ValueError) as exc:
            raise ValueError(f"rules file {path or 'default'} is incomplete or invalid: {exc!r}") from exc
        if rules.reports.jump_ratio < 0 or rules.reports.jump_min_delta < 0:
            raise ValueError("rules: jump_ratio and jump_min_delta must not be negative")
        return rules
