"""What a filing must carry beyond its figures: the county's 亚灾种 and, after a response, the photos.

自然灾害情况统计调查制度 (reporting-rules.md §1.3, §1.4): the county fills the
亚灾种 where the 一级灾种 has them (a township's filing may leave it out; the
county gives it when it first acts on the process), and when a response was
launched the 快报 carries at least 3 photos (configurable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.store.actors import Actor, Role
from ledger.store.errors import FieldProblem, InvalidInput, Problems

if TYPE_CHECKING:
    from ledger.disasters.aggregate import Disaster
    from ledger.store.context import LedgerContext

SUBTYPE_GIVEN = "县级填报亚灾种 / the county gives the sub-type (亚灾种)"


class SubtypeRequired(InvalidInput):
    code = "subtype_required"


def require_subtype(rt: LedgerContext, actor: Actor, hazard: str, subtype: str | None, problems: Problems) -> None:
    """Above the township, a process of a 一级灾种 with sub-types needs its 亚灾种."""
    known = rt.hazards.hazards.get(hazard)
    if actor.role is not Role.TOWNSHIP and subtype is None and known is not None and known.subtypes:
        problems.add("subtype", "subtype_required",
                     f"the county gives the sub-type (亚灾种) of {hazard}: one of {', '.join(known.subtypes)}")


def give_subtype(rt: LedgerContext, actor: Actor, d: Disaster, subtype: str | None) -> None:
    """The first county action on a process without a 亚灾种 gives it, recorded as a 勘误 of the 亚灾种
    (who and why) in the same save; changing one already given is a 勘误 of its own."""
    problems = Problems()
    if subtype is not None and d.subtype is not None and subtype != d.subtype:
        problems.add("subtype", "subtype_differs",
                     f"the process's sub-type is {d.subtype}; changing it is a correction (勘误)")
    elif subtype is not None and d.subtype is None:
        d.correct(disaster_date=None, hazard=None, subtype=subtype, text=None, reason=SUBTYPE_GIVEN,
                  actor=actor.as_dict())
    require_subtype(rt, actor, d.hazard, d.subtype, problems)
    problems.raise_if_any("须填写亚灾种", "the sub-type (亚灾种) is required", SubtypeRequired)


def require_photos(rt: LedgerContext, d: Disaster, attachments: list[dict[str, str]]) -> None:
    """When a response level was launched, the process's reports carry at least N distinct photos by
    its 核报 (≥ 3 photos with the 快报 when a response was launched; `min_photos_with_response`)."""
    needed = rt.rules.reports.min_photos_with_response
    if d.response is None or needed <= 0:
        return
    earlier: set[Any] = {a["sha256"] for e in rt.app.events.get(d.id)
                         for a in (getattr(e, "attachments", None) or []) if a.get("kind") == "photo"}
    photos = earlier | {a["sha256"] for a in attachments if a["kind"] == "photo"}
    if len(photos) < needed:
        raise InvalidInput(
            f"已启动应急响应，核报前须附至少 {needed} 张照片（现有 {len(photos)} 张）",
            f"a response level was launched: the reports need at least {needed} photos by the final report "
            f"({len(photos)} so far)",
            fields=[FieldProblem("attachments", "photos_required", f"at least {needed} photos (kind photo)")],
            code="photos_required",
        )
