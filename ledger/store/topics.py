"""Topics of stored events whose classes have moved.

Every stored event names its class by topic (`module:QualName`), and the
store keeps the topic it was written with. When the flat modules became
concept packages, the aggregates moved; the events written before stay
readable because their old topics are registered here, with the library's
topic mapping, before anything is read. New events are written with the new
topics. Never remove an entry: the events that carry it are never rewritten.
"""

from __future__ import annotations

import importlib
import threading

from eventsourcing.utils import register_topic

#: old module → (new module, the classes that moved from it to there)
MOVED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ledger.disaster", "ledger.disasters.aggregate", ("Disaster",)),
    ("ledger.disaster", "ledger.disasters.keys", ("KeyClaim",)),
    ("ledger.relief", "ledger.relief.fund", ("ReliefFund",)),
    ("ledger.relief", "ledger.relief.case", ("ReliefCase", "CaseClaim")),
    ("ledger.relief", "ledger.personal.access", ("PersonalDataViewed", "PersonalDataExported")),
    ("ledger.account", "ledger.accounts.aggregate", ("Account", "TokenIndex")),
    ("ledger.commands", "ledger.store.commands", ("IdempotencyRecord",)),
)

_done = False
_lock = threading.Lock()


def register_moved_topics() -> None:
    """Map every old topic to its class (once per process)."""
    global _done
    with _lock:
        if _done:
            return
        for old, new, names in MOVED:
            module = importlib.import_module(new)
            for name in names:
                register_topic(f"{old}:{name}", getattr(module, name))
        _done = True
