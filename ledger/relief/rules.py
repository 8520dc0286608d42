"""Relief rules that vary by place and year (posting days, amount caps, 春节 dates)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from ledger.relief.programmes import Programme


@dataclass(frozen=True)
class Cap:
    per: str  # "person" | "household"
    fen: int

    def for_household(self, people_in_need: int) -> int:
        return self.fen * people_in_need if self.per == "person" else self.fen


@dataclass(frozen=True)
class ReliefRules:
    version: str
    posting_min_days: int
    caps: dict[str, Cap]
    spring_festival: dict[str, date]
    spring_festival_warning_days: int

    @classmethod
    def load(cls, path: Path | None = None) -> ReliefRules:
        if path is None:
            text = (resources.files("ledger") / "data" / "relief.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        try:
            caps = {
                name: Cap(per=str(c["per"]), fen=int(round(float(c["yuan"]) * 100)))
                for name, c in raw["caps"].items()
            }
            rules = cls(
                version=str(raw["version"]),
                posting_min_days=int(raw["posting_min_days"]),
                caps=caps,
                spring_festival={k: date.fromisoformat(v) for k, v in raw.get("spring_festival", {}).items()},
                spring_festival_warning_days=int(raw.get("spring_festival_warning_days", 30)),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"relief rules {path or 'default'} are incomplete or invalid: {exc!r}") from exc
        missing = [p.value for p in Programme if p.value not in rules.caps]
        if missing or any(c.per not in ("person", "household") for c in rules.caps.values()):
            raise ValueError(f"relief rules: every programme needs a cap per person or household; missing {missing}")
        return rules
