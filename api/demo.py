"""Demo data for the seed county 响水县 (320921): one account per role, two
disaster processes with 初报 → 续报 → 核报 histories (the flood's county Ⅳ response
opens its incident through the response façade), and a small production-safety
accident with its incident: command handed over and a township's call answered.

Loaded on the first start of the SQLite default (or `relief-ledger demo`), told relative to the moment
it is loaded: every stated time lies before the moment it is recorded and every report is within its
time limit, except one deliberately late 初报, labelled 【演示：迟报示例】 in its text.
Tokens are kept per database — `<data_dir>/demo-tokens.json` for the data directory's SQLite database,
`demo-tokens-<database>.json` for any other (mode 0600) — and printed; web sign-in passwords (random)
beside them (`demo-passwords….json`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

from ledger.accidents.inputs import AccidentReport, FollowUp, UpwardReport
from ledger.accounts.service import local_operator
from ledger.disasters.inputs import FiguresReport, InitialReport, ResponseChange
from ledger.incidents.service import Opening, ResponseDecision
from ledger.runtime import LedgerRuntime
from ledger.store.errors import Conflict

CHINA = ZoneInfo("Asia/Shanghai")

DEMO_ACCOUNTS = [
    # username, role, scope, display name
    ("demo-admin", "admin", "32", "演示管理员"),
    ("demo-township", "township", "320921100", "响水镇灾害信息员"),
    ("demo-county", "county", "320921", "响水县应急管理局"),
    ("demo-city", "city", "3209", "盐城市应急管理局"),
    ("demo-province", "province", "32", "江苏省应急管理厅"),
    ("demo-relief", "relief_officer", "320921", "响水县救助科"),
    ("demo-auditor", "auditor", "3209", "盐城市审计局"),
]


def demo_file(runtime: LedgerRuntime, data_dir: Path, kind: str = "tokens") -> Path:
    """Where the demo's tokens (or web passwords) of this database are kept: `demo-tokens.json` for the data
    directory's own SQLite database, `demo-tokens-<database>.json` for any other (a PostgreSQL database and
    schema, another SQLite file), so instances on different databases never overwrite each other's."""
    env = runtime.config.persistence
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        where = (f"postgres:{env.get('POSTGRES_HOST')}:{env.get('POSTGRES_PORT')}/{env.get('POSTGRES_DBNAME')}"
                 f"/{env.get('POSTGRES_SCHEMA', '')}")
        name = f"pg-{env.get('POSTGRES_DBNAME')}-{env.get('POSTGRES_SCHEMA') or 'public'}"
    else:
        where = str(Path(env.get("SQLITE_DBNAME", "")).resolve())
        if where == str((data_dir / "ledger.sqlite").resolve()):
            return data_dir / f"demo-{kind}.json"
        name = "sqlite-" + Path(where).stem
    digest = hashlib.sha256(where.encode()).hexdigest()[:8]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
    return data_dir / f"demo-{kind}-{safe}-{digest}.json"


def demo_loaded(runtime: LedgerRuntime, data_dir: Path) -> bool:
    """Loaded once its tokens were written (the last step)."""
    return runtime.accounts.exists("demo-county") and demo_file(runtime, data_dir).exists()


def load_demo(runtime: LedgerRuntime, data_dir: Path) -> dict[str, str]:
    """Create the demo accounts and histories, told relative to now; returns username → token."""
    operator = local_operator()
    tokens: dict[str, str] = {}
    for username, role, scope, name in DEMO_ACCOUNTS:
        if not runtime.accounts.exists(username):  # a start interrupted half-way left some
            runtime.accounts.register(operator, username, role, scope, name)
        token, _ = runtime.accounts.issue_token(operator, username, label="demo")
        tokens[username] = token
    actors = {u: runtime.accounts.authenticate(t) for u, t in tokens.items()}
    flood = None
    for history in (_flood, _hail, _accident):
        try:
            made = history(runtime, actors)
            flood = made if history is _flood else flood
        except Conflict as exc:
            if exc.code not in ("duplicate_process", "duplicate_accident"):
                raise
    if flood is not None:
        _housing(runtime, actors, flood, str((_now() - timedelta(minutes=100)).year))
    passwords = {username: f"demo-{secrets.token_urlsafe(9)}" for username, *_ in DEMO_ACCOUNTS}
    for username, password in passwords.items():  # web sign-in (the page at /)
        runtime.accounts.passwords.set_password(operator, username, password)
    save_tokens(demo_file(runtime, data_dir, "passwords"), passwords)
    save_tokens(demo_file(runtime, data_dir), tokens)
    return tokens


def save_tokens(path: Path, tokens: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f, ensure_ascii=False, indent=2)
    os.replace(tmp, path)


def read_tokens(path: Path) -> dict[str, str]:
    return json.loads(path.read_text()) if path.exists() else {}


def _now() -> datetime:
    return datetime.now(CHINA).replace(second=0, microsecond=0)


def _flood(runtime: LedgerRuntime, actors: dict) -> UUID:
    """A river flood that began 100 minutes before the demo was loaded: the township's 初报 (on time), handled by
    the county, a county Ⅳ response, a 续报 the city accepted, the response ended and the 核报 filed — every
    stated time before the moment it is recorded, every report within its time limit."""
    start = _now() - timedelta(minutes=100)
    d = runtime.disasters
    first = d.file_initial(actors["demo-township"], InitialReport(
        county="320921", hazard="flood", subtype="river_flood", occurred_at=start,
        figures={"320921100": {"affected_population": 860, "relocated_total": 120,
                               "relocated_centralized_total": 80, "relocated_dispersed_total": 40,
                               "crop_affected_ha": "310.50"}},
        text="强降雨致灌河水位上涨，响水镇沿河村组受淹。",
    ))
    d.accept(actors["demo-county"], first.id, 1)
    d.change_response(actors["demo-county"], first.id, ResponseChange(
        action="start", level=4, plan="响水县自然灾害救助应急预案", plan_version="2021",
        government_level="county", decided_at=start + timedelta(minutes=40),
        reason="紧急转移安置人数达到县级四级响应条件",
    ))
    d.file_follow_up(actors["demo-county"], first.id, FiguresReport(
        figures={
            "320921100": {"affected_population": 1240, "relocated_total": 260,
                          "relocated_centralized_total": 150, "relocated_dispersed_total": 110,
                          "collapsed_rooms": 8, "collapsed_dwelling_rooms": 6, "collapsed_dwelling_households": 3,
                          "crop_affected_ha": "420.00", "crop_damaged_ha": "150.00", "crop_lost_ha": "20.00",
                          "direct_loss_10k_yuan": "380.00"},
            "320921101": {"affected_population": 530, "crop_affected_ha": "96.30",
                          "direct_loss_10k_yuan": "75.50"},
        },
        as_of=start + timedelta(minutes=70),
        explanation="降雨持续，沿河两个村组新增转移安置 140 人，已逐户核实",
        attachments=tuple(_photos(runtime)),  # a response was launched: ≥ 3 photos by the 核报
    ))
    d.accept(actors["demo-city"], first.id, 2)
    d.change_response(actors["demo-county"], first.id, ResponseChange(
        action="end", level=4, plan="响水县自然灾害救助应急预案", plan_version="2021",
        government_level="county", decided_at=start + timedelta(minutes=90), reason="水位回落，险情解除",
    ))
    d.file_final(actors["demo-county"], first.id, FiguresReport(
        figures={"320921100": {"affected_population": 1302, "direct_loss_10k_yuan": "412.80"},
                 "320921101": {"affected_population": 548, "direct_loss_10k_yuan": "81.20"}},
        as_of=start + timedelta(minutes=95),
    ))
    d.accept(actors["demo-city"], first.id, 3)
    return first.id


def _photos(runtime: LedgerRuntime) -> list[dict[str, str]]:
    """Three small scene photos for the demo flood (stored in the blob store like any upload)."""
    out = []
    for i, place in enumerate(("灌河堤段", "沿河村组", "集中安置点"), start=1):
        stored = runtime.blobs.put(b"\x89PNG\r\n\x1a\n" + f"demo photo {i}: {place}".encode(), "image/png")
        out.append({"sha256": stored.ref, "type": stored.type, "name": f"现场照片{i}-{place}.png", "kind": "photo"})
    return out


LATE_LABEL = "【演示：迟报示例】"


def _hail(runtime: LedgerRuntime, actors: dict) -> UUID:
    """A hailstorm five hours before loading whose county 初报 is deliberately late (labelled 【演示：迟报示例】:
    the one 迟报 of the demo), a 续报 returned and refiled with an explanation; still open (no 核报 yet)."""
    start = _now() - timedelta(hours=5)
    d = runtime.disasters
    first = d.file_initial(actors["demo-county"], InitialReport(
        county="320921", hazard="wind_hail", subtype="hail", occurred_at=start,
        figures={"320921102": {"affected_population": 310, "crop_affected_ha": "58.00"}},
        text=LATE_LABEL + "午后冰雹袭击，蔬菜大棚受损；县级初报晚于 2 小时时限，用于演示迟报标记。",
    ))
    d.accept(actors["demo-city"], first.id, 1)
    d.file_follow_up(actors["demo-county"], first.id, FiguresReport(
        figures={"320921102": {"affected_population": 290, "crop_affected_ha": "61.00"}},
        as_of=start + timedelta(hours=3), explanation="重复统计一个村民小组，已剔除",
    ))
    d.return_report(actors["demo-city"], first.id, 2, "受灾人口减少但未附核实材料，请核实后重报")
    d.refile(actors["demo-county"], first.id, 2, FiguresReport(
        figures={"320921102": {"affected_population": 296, "crop_affected_ha": "61.00"}},
        as_of=start + timedelta(hours=4),
        explanation="经逐户核实，原初报重复统计新港村一个村民小组 14 人，已剔除",
    ))
    d.accept(actors["demo-city"], first.id, 3)
    return first.id


def _accident(runtime: LedgerRuntime, actors: dict) -> None:
    """A workshop explosion in 响水镇 22 hours before loading: 1 dead rising to 3 (一般 → 较大), reported up the
    chain in time; an incident with a county Ⅳ response, command handed from the township to the county, and a
    call for support answered."""
    start = _now() - timedelta(hours=22)
    county, township = actors["demo-county"], actors["demo-township"]
    recorded = runtime.accidents.record(county, AccidentReport(
        county="320921", township="320921100", park="响水生态化工园区", unit_name="响水某精细化工有限公司",
        credit_code="91350100M000100Y43", sector="hazardous_chemicals", occurred_at=start, place="合成车间",
        summary="合成车间反应釜超压闪爆", casualties={"deaths": 1, "serious_injuries": 2}, direct_loss_fen=180_000_000,
        measures="已疏散车间人员，园区消防站到场处置", unit_reported_at=start + timedelta(minutes=35),
    ))
    runtime.accidents.report_upward(county, recorded.id, UpwardReport(
        to_level="city", reported_at=start + timedelta(hours=1, minutes=40), channel="phone"))
    runtime.accidents.file_follow_up(county, recorded.id, FollowUp(
        as_of=start + timedelta(hours=20), casualties={"deaths": 3, "serious_injuries": 1},
        text="两名重伤人员抢救无效死亡", explanation="重伤人数减少系两名重伤人员抢救无效死亡，计入死亡"))
    runtime.accidents.report_upward(actors["demo-city"], recorded.id, UpwardReport(
        to_level="province", reported_at=start + timedelta(hours=20, minutes=30), channel="system"))
    incidents = runtime.incidents
    opened = incidents.open(township, Opening(title="响水镇化工企业闪爆", category="accident", area="320921100",
                                              occurred_at=start, links=[{"kind": "accident", "id": str(recorded.id)}]))
    incidents.assume_command(county, opened.id, {"name": "响水镇镇长", "post": "镇长", "unit": "320921100"},
                             start + timedelta(minutes=40))
    incidents.request_support(township, opened.id, "320921100", "请求调派危化品处置专业队和医疗救护", ["rescue", "medical"],
                              start + timedelta(minutes=50))
    incidents.answer_support(county, opened.id, "R1", "dispatched", "县消防救援大队危化品处置队、县人民医院救护车 2 辆",
                             start + timedelta(hours=1, minutes=5))
    incidents.decide_response(county, opened.id, ResponseDecision(
        action="start", government_level="county", plan="响水县生产安全事故应急预案", plan_version="2021", level=4,
        decided_at=start + timedelta(hours=1), reason="死亡 1 人，启动县级四级响应"))
    incidents.assume_command(county, opened.id, {"name": "县现场指挥部指挥长", "post": "副县长", "unit": "320921"},
                             start + timedelta(hours=1, minutes=10), "县级响应启动，指挥权移交县现场指挥部")


DEMO_PHOTO = "sha256:" + "5e" * 32


def _housing(runtime: LedgerRuntime, actors: dict, flood: UUID, year: str) -> None:
    """Three housing files on the flood (响水镇 reported 3 collapsed households): one applied, one deliberated,
    one posted — assessed, applied and posted today; the 7-day posting then runs in real time."""
    from ledger.households.evidence import Evidence
    from ledger.housing.service import HousingApplication
    from ledger.personal.identifiers import id_check_digit

    today = datetime.now(CHINA).date()
    town, county = actors["demo-township"], actors["demo-county"]
    runtime.relief.allocate(county, "320921", "housing", year, "central", 30_000_000,
                            "苏财建〔演示〕1号")
    households = [("陈大", "320921100001", "collapsed", 3, "in_situ"), ("刘二", "320921100001", "collapsed", 2,
                   "relocation"), ("周三", "320921100002", "severe", 2, "repair")]
    for n, (name, village, damage, rooms, mode) in enumerate(households):
        first17 = f"32092119{60 + n}0101{201 + n:03d}"
        case = runtime.housing.apply(town, HousingApplication(
            disaster_id=flood, village=village, head_name=name, id_number=first17 + id_check_digit(first17),
            phone=f"1391234{n:04d}", address=f"响水镇东园居委会 {n + 20} 号", damage=damage, rooms=rooms, mode=mode,
            evidence=[Evidence(DEMO_PHOTO, "image/jpeg", "房屋倒损照片.jpg")], assessed_on=today, applied_on=today)).id
        if n >= 1:
            runtime.housing.deliberate(town, case, "东园居委会四议两公开记录", today)
        if n >= 2:
            runtime.housing.post(town, case, today, today + timedelta(days=6), "东园居委会村务公开栏")
