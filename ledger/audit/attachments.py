"""Attachments against the blob store: every file a stored event names must be there, unaltered.

The seal covers the events, and the events carry each attachment's SHA-256,
so an attachment that is missing from the blob store, or whose bytes no
longer hash to the recorded value, is evidence lost or tampered with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from ledger.disasters.aggregate import Disaster

ATTACHING = (Disaster.InitialReportFiled, Disaster.FollowUpReportFiled, Disaster.FinalReportFiled)


@dataclass(frozen=True)
class BlobProblem:
    status: str  # missing | altered
    ref: str
    position: int
    aggregate_id: str
    version: int

    def line(self) -> str:
        return (f"{self.status.upper()}: {self.ref} (position {self.position}, "
                f"aggregate {self.aggregate_id} version {self.version})")


def attachment_problems(app: Any, blobs: Any, batch: int = 1000) -> Iterator[BlobProblem]:
    """Every attachment named by a stored report whose blob is missing or altered."""
    topics = [get_topic(cls) for cls in ATTACHING]
    start = 1
    while notifications := app.recorder.select_notifications(start, batch, topics=topics):
        for n in notifications:
            event = app.mapper.to_domain_event(n)
            for item in getattr(event, "attachments", None) or []:
                status = blobs.check(item["sha256"])
                if status != "ok":
                    yield BlobProblem(status, item["sha256"], n.id, str(n.originator_id), n.originator_version)
        start = notifications[-1].id + 1
