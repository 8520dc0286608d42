"""Who may file, review and act on a disaster process (灾害过程)."""

from __future__ import annotations

from typing import Any

from ledger.store.actors import LEVEL_RANK, REVIEWERS, Actor, Role, refuse, require_writer


def require_filer(actor: Actor, county: str, townships: list[str]) -> None:
    """Township staff file for their own township; county (and above) for any township of the county."""
    require_writer(actor)
    if actor.role is Role.TOWNSHIP:
        outside = [t for t in townships if not actor.covers(t)]
        if outside or not townships:
            raise refuse(
                f"乡镇账号只能报送本乡镇的数据：{', '.join(outside) or '未指明乡镇'}",
                f"a township account may only file figures for its own township: {', '.join(outside) or 'none named'}",
            )
        return
    if actor.role in REVIEWERS:
        if not actor.covers(county):
            raise refuse(f"县 {county} 不在本账号的管辖范围内", f"county {county} is outside this account's scope")
        return
    raise refuse(f"角色 {actor.role.value} 不能报送灾情", f"role {actor.role.value} cannot file disaster reports")


def require_county_filer(actor: Actor, county: str) -> None:
    """Only the county files the 核报."""
    require_writer(actor)
    if actor.role is not Role.COUNTY or not actor.covers(county):
        raise refuse("核报只能由本县应急管理部门报送", "only the county's own account may file the final report (核报)")


def require_upper_level(actor: Actor, county: str) -> None:
    """Return, correct, change response levels, retract: county level and above, within scope."""
    require_writer(actor)
    if actor.role not in REVIEWERS:
        raise refuse(
            "只有县级及以上账号可以审核、勘误、调整响应级别或核销",
            "only county-level and higher accounts may review, correct, change response levels or retract",
        )
    if not actor.covers(county):
        raise refuse(f"县 {county} 不在本账号的管辖范围内", f"county {county} is outside this account's scope")


def require_reviewer_of(actor: Actor, county: str, filer_role: str) -> None:
    """A report is reviewed (accepted or returned) by a level above the one that filed it."""
    require_upper_level(actor, county)
    filer_rank = LEVEL_RANK.get(Role(filer_role), 0) if filer_role in Role.__members__.values() else 0
    if LEVEL_RANK[actor.role] <= filer_rank:
        raise refuse("报告只能由上一级审核", "a report is reviewed by a level above the one that filed it")


def visible_to(actor: Actor, by_township: dict[str, Any]) -> dict[str, Any]:
    """Per-township data an actor may see: a township account sees its own township only."""
    if actor.role is Role.TOWNSHIP:
        return {t: v for t, v in by_township.items() if actor.covers(t)}
    return by_township


def filer_role(disaster: Any, number: int) -> str:
    """Who filed a report still awaiting review (an accepted one is refused as reviewed, whoever asks)."""
    return str((disaster.report(number).get("filed_by") or {}).get("role", ""))
