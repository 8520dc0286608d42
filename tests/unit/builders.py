"""Small builders for the unit tests: places, clocks, actors, figures, disasters, runtimes.

Places are real codes of the seed county 响水县 (320921, 盐城市 3209, 江苏省 32);
times are fixed, timezone-aware and in the past, so no test depends on today.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from ledger.accounts.service import local_operator
from ledger.disasters.aggregate import Disaster
from ledger.disasters.inputs import FiguresReport, InitialReport
from ledger.disasters.reports import ReportPolicy
from ledger.disasters.rules import Rules
from ledger.reference.areas import AreaTable
from ledger.reference.indicators import Figures, IndicatorSet
from ledger.runtime import LedgerConfig, LedgerRuntime
from ledger.store.actors import Actor, Role
from ledger.store.commands import IdempotencyKey

# --- places ---------------------------------------------------------------------------------------

PROVINCE = "32"  # 江苏省
CITY = "3209"  # 盐城市
COUNTY = "320921"  # 响水县
OTHER_COUNTY = "320922"  # 滨海县, also in 盐城
XIANGSHUI = "320921100"  # 响水镇
CHENJIAGANG = "320921101"  # 陈家港镇
XIAOJIAN = "320921102"  # 小尖镇
HUANGWEI = "320921103"  # 黄圩镇
OTHER_PROVINCE_TOWNSHIP = "360202001"  # 景德镇 西郊街道 (in the seed, not in 响水县)

# --- time -----------------------------------------------------------------------------------------

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2024, 7, 20, 12, 0, tzinfo=BEIJING)
"""The fixed 'now' of every runtime built here."""


def july(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Beijing time in July 2024 (before NOW unless day > 20)."""
    return datetime(2024, 7, day, hour, minute, tzinfo=BEIJING)


OCCURRED = july(1, 8)
FOLLOW_UP_AS_OF = july(1, 12)
FINAL_AS_OF = july(3, 12)
DISASTER_DATE = date(2024, 7, 1)


def fixed_clock(now: datetime = NOW) -> Callable[[], datetime]:
    return lambda: now


# --- actors ---------------------------------------------------------------------------------------


def actor(role: str, scope: str, username: str | None = None) -> Actor:
    name = username or f"{role}-{scope or 'all'}"
    return Actor(
        account_id=uuid5(NAMESPACE_URL, f"/test-actors/{name}"), username=name, role=Role(role), scope=scope
    )


county_officer = actor("county", COUNTY)
city_officer = actor("city", CITY)
province_officer = actor("province", PROVINCE)
township_officer = actor("township", XIANGSHUI)


# --- figures --------------------------------------------------------------------------------------


def figures(**values: Any) -> Figures:
    """One township's figures as exact decimals: figures(deaths=1, crop_affected_ha="12.5")."""
    return {key: Decimal(str(value)) for key, value in values.items()}


def township(code: str = XIANGSHUI, **values: Any) -> dict[str, Figures]:
    """A report naming one township: township(affected_population=1200)."""
    return {code: figures(**values)}


def townships(*reports: dict[str, Figures]) -> dict[str, Figures]:
    """A report naming several townships: townships(township(...), township(CHENJIAGANG, ...))."""
    merged: dict[str, Figures] = {}
    for report in reports:
        merged.update(report)
    return merged


def raw(code: str = XIANGSHUI, **values: Any) -> dict[str, dict[str, Any]]:
    """Figures as a command carries them (numbers or strings, not yet parsed)."""
    return {code: dict(values)}


# --- the aggregate --------------------------------------------------------------------------------


@functools.cache
def indicator_set() -> IndicatorSet:
    return IndicatorSet.load()


@functools.cache
def rules() -> Rules:
    return Rules.load()


def policy() -> ReportPolicy:
    r = rules()
    return ReportPolicy(
        indicators=indicator_set(),
        jump_ratio=r.reports.jump_ratio,
        jump_min_delta=r.reports.jump_min_delta,
        rules_version=r.version,
    )


def a_disaster(
    figures: dict[str, Figures] | None = None,
    *,
    county: str = COUNTY,
    disaster_date: date = DISASTER_DATE,
    hazard: str = "flood",
    subtype: str | None = "river_flood",
    occurred_at: datetime = OCCURRED,
    text: str = "7月1日凌晨起持续强降雨，响水镇部分村组受淹。",
    filed_by: Actor = county_officer,
) -> Disaster:
    """A process opened by its 初报 (by default 响水镇 with 1200 affected)."""
    return Disaster.open(
        county=county,
        disaster_date=disaster_date,
        hazard=hazard,
        subtype=subtype,
        occurred_at=occurred_at,
        figures=township(affected_population=1200) if figures is None else figures,
        text=text,
        explanation=None,
        phoned_at=None,
        actor=filed_by.as_dict(),
        policy=policy(),
        area_edition="2023",
    )


def follow_up(
    disaster: Disaster,
    figures: dict[str, Figures],
    *,
    as_of: datetime = FOLLOW_UP_AS_OF,
    explanation: str | None = None,
    filed_by: Actor = county_officer,
    refiles: int | None = None,
) -> int:
    return disaster.file_follow_up(
        figures=figures,
        as_of=as_of,
        explanation=explanation,
        phoned_at=None,
        actor=filed_by.as_dict(),
        policy=policy(),
        refiles=refiles,
    )


def final(
    disaster: Disaster,
    figures: dict[str, Figures],
    *,
    as_of: datetime = FINAL_AS_OF,
    explanation: str | None = None,
    filed_by: Actor = county_officer,
    refiles: int | None = None,
) -> int:
    return disaster.file_final(
        figures=figures,
        as_of=as_of,
        explanation=explanation,
        actor=filed_by.as_dict(),
        policy=policy(),
        refiles=refiles,
    )


def event_names(disaster: Any) -> list[str]:
    return [type(e).__name__ for e in disaster.collect_events()]


# --- the runtime (in-memory event store) ----------------------------------------------------------


@functools.cache
def area_table() -> AreaTable:
    return AreaTable.load(None)


def a_runtime(now: datetime = NOW, clock: Callable[[], datetime] | None = None) -> LedgerRuntime:
    """The whole application on the library's in-memory store (empty persistence env)."""
    config = LedgerConfig(persistence={}, token_pepper=b"test", clock=clock or fixed_clock(now))
    return LedgerRuntime(config, areas=area_table())


def an_account(rt: LedgerRuntime, role: str, scope: str, username: str | None = None) -> Actor:
    """Registers an account through the service (as the local operator) and returns it as an Actor."""
    name = username or f"{role}_{scope}"
    rt.accounts.register(local_operator(), name, role, scope)
    return rt.accounts.get(name).as_actor()


def an_initial_report(
    figures: dict[str, dict[str, Any]] | None = None,
    *,
    county: str = COUNTY,
    hazard: str = "flood",
    subtype: str | None = "river_flood",
    occurred_at: datetime = OCCURRED,
    text: str = "持续强降雨",
    phoned_at: datetime | None = None,
) -> InitialReport:
    return InitialReport(
        county=county,
        hazard=hazard,
        occurred_at=occurred_at,
        figures=raw(affected_population=1200) if figures is None else figures,
        subtype=subtype,
        text=text,
        phoned_at=phoned_at,
    )


def a_figures_report(
    figures: dict[str, dict[str, Any]] | None = None,
    *,
    as_of: datetime = FOLLOW_UP_AS_OF,
    explanation: str | None = None,
) -> FiguresReport:
    return FiguresReport(
        figures=raw(affected_population=1300) if figures is None else figures,
        as_of=as_of,
        explanation=explanation,
    )


def a_key(
    by: Actor, key: str = "k-1", body: str = "body-1", method: str = "POST", path: str = "/disasters"
) -> IdempotencyKey:
    return IdempotencyKey(account_id=by.account_id, method=method, path=path, key=key, request_hash=body)
