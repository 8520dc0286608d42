"""Helpers for the GraphQL tests: an HTTP client that files through REST and reads through /graphql.

Places are real codes of the seed: 响水县 (320921, 盐城市 3209, 江苏省 32) and
九龙坡区 (500107, 重庆市). The statistics scenario uses fixed dates in 2025
(all in the past), so day, month and year periods are known in advance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from ledger.accounts.service import local_operator
from ledger.runtime import LedgerRuntime
from tests.subtypes import default_subtype

BEIJING = ZoneInfo("Asia/Shanghai")

PROVINCE = "32"  # 江苏省
CITY = "3209"  # 盐城市
COUNTY = "320921"  # 响水县
XIANGSHUI = "320921100"  # 响水镇 (the township account's own township)
CHENJIAGANG = "320921101"  # 陈家港镇
XIAOJIAN = "320921102"  # 小尖镇
HUANGWEI = "320921103"  # 黄圩镇
JIULONGPO = "500107"  # 九龙坡区 (重庆市)
YANGJIAPING = "500107001"  # 杨家坪街道

EXPLANATION = "据乡镇核实后的最新统计，数据变化属实"

FIGURES_QUERY = "indicator name unit value"
DISASTER_FIELDS = f"""
    id county countyName hazard hazardName subtype disasterDate occurredAt stage responseLevel reviewStatus
    lastReportAt reportCount version
    totals {{ {FIGURES_QUERY} }}
    townships {{ code name figures {{ {FIGURES_QUERY} }} }}
    reports {{ number kind review asOf recordedAt filedBy unit townships }}
"""


def beijing(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> str:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING).isoformat()


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def figures_of(items: list[dict[str, Any]]) -> dict[str, str]:
    """[{indicator, value}, …] → {indicator: value (the string as sent)}."""
    return {f["indicator"]: f["value"] for f in items}


def decimals_of(items: list[dict[str, Any]]) -> dict[str, Decimal]:
    """[{indicator, value}, …] → {indicator: exact Decimal}; every value must be a plain decimal string."""
    out = {}
    for f in items:
        value = f["value"]
        assert isinstance(value, str), f
        assert "e" not in value.lower() and value.strip() == value, f"not a plain decimal: {value!r}"
        out[f["indicator"]] = Decimal(value)
    return out


@dataclass
class Api:
    """REST commands and GraphQL reads as the test accounts (role → token)."""

    client: TestClient
    runtime: LedgerRuntime
    tokens: dict[str, str]
    positions: list[int] = field(default_factory=list)

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def add_account(self, name: str, role: str, scope: str) -> str:
        """Registers one more account (as the local operator) and remembers its token under `name`."""
        self.runtime.accounts.register(local_operator(), name, role, scope)
        self.tokens[name], _ = self.runtime.accounts.issue_token(local_operator(), name)
        return name

    # --- REST ------------------------------------------------------------------------------------

    def command(self, role: str, path: str, body: dict[str, Any], status: int | None = None) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=self.headers(role))
        assert response.status_code < 300 if status is None else response.status_code == status, response.text
        out = response.json()
        if response.status_code < 300:
            assert set(out) == {"id", "version", "position"}, out
            self.positions.append(out["position"])
        return out

    def initial(self, role: str, *, occurred_at: str, figures: dict[str, Any], county: str = COUNTY,
                hazard: str = "flood", subtype: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"county": county, "hazard": hazard, "occurred_at": occurred_at, "figures": figures, **extra}
        body["subtype"] = subtype or default_subtype(hazard)
        return self.command(role, "/v1/disasters", body, status=201)

    def follow_up(self, role: str, disaster_id: str, *, as_of: str, figures: dict[str, Any],
                  **extra: Any) -> dict[str, Any]:
        body = {"figures": figures, "as_of": as_of, "explanation": EXPLANATION, **extra}
        return self.command(role, f"/v1/disasters/{disaster_id}/follow-ups", body, status=201)

    def final(self, role: str, disaster_id: str, *, as_of: str, figures: dict[str, Any]) -> dict[str, Any]:
        body = {"figures": figures, "as_of": as_of, "explanation": EXPLANATION}
        return self.command(role, f"/v1/disasters/{disaster_id}/final", body, status=201)

    def accept(self, role: str, disaster_id: str, number: int) -> dict[str, Any]:
        return self.command(role, f"/v1/disasters/{disaster_id}/reports/{number}/accept", {}, status=200)

    def return_report(self, role: str, disaster_id: str, number: int) -> dict[str, Any]:
        body = {"reason": "受灾人口与实际不符，请核实后重报"}
        return self.command(role, f"/v1/disasters/{disaster_id}/reports/{number}/return", body, status=200)

    def retract(self, role: str, disaster_id: str) -> dict[str, Any]:
        body = {"reason": "经核实不属于自然灾害，予以核销"}
        return self.command(role, f"/v1/disasters/{disaster_id}/retraction", body, status=200)

    @property
    def last_position(self) -> int:
        return max(self.positions)

    # --- GraphQL ---------------------------------------------------------------------------------

    def gql(self, query: str, variables: dict[str, Any] | None = None, role: str | None = "county") -> dict[str, Any]:
        """POST /graphql; GraphQL answers 200 — with `errors` for GraphQL-level errors — never a 500."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        response = self.client.post("/graphql", json=payload, headers=self.headers(role))
        assert response.status_code == 200, (response.status_code, response.text)
        body = response.json()
        assert set(body) <= {"data", "errors", "extensions"}, body
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None, role: str | None = "county"
             ) -> dict[str, Any]:
        body = self.gql(query, variables, role)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def error(self, query: str, variables: dict[str, Any] | None = None, role: str | None = "county"
              ) -> dict[str, Any]:
        """The one error of a query that must fail; its `extensions.code` is checked by the caller."""
        body = self.gql(query, variables, role)
        errors = body.get("errors")
        assert errors, body
        assert len(errors) == 1, errors
        return errors[0]


@dataclass
class Scenario:
    """The processes the statistics and list tests read (ids by letter)."""

    ids: dict[str, str]
    position: int


def file_scenario(api: Api) -> Scenario:
    """Five processes, filed and reviewed through REST as the test accounts:

    - A flood / river_flood, 2025-07-08, 初报 by the township (响水镇 1200 people, 850.50 ha, 560.25 万元),
      accepted by the county; 续报 by the county adds 陈家港镇 (300 people, 0.25 ha) → stage follow_up;
    - B wind_hail / hail, 2025-07-20, 初报 by the county (小尖镇 500 people, 10.05 ha); its 续报 (800 people)
      is returned by the city → the 500 count, stage initial;
    - C flood / river_flood, 2025-08-03, 初报 by the county (响水镇 50 people), retracted (核销);
    - F flood / urban_waterlogging, 2025-09-10, 初报 by the county (黄圩镇 40 people, 0.05 万元), 核报 45 people;
    - G flood / river_flood in 九龙坡区 (重庆), 2025-07-08, 杨家坪街道 999 people, by that district's account.
    """
    ids = {}
    a = api.initial("township", occurred_at=beijing(2025, 7, 8, 6, 30), subtype="river_flood", figures={
        XIANGSHUI: {"affected_population": 1200, "crop_affected_ha": "850.50", "direct_loss_10k_yuan": "560.25"},
    })
    ids["A"] = a["id"]
    api.accept("county", ids["A"], 1)
    api.follow_up("county", ids["A"], as_of=beijing(2025, 7, 8, 18), figures={
        CHENJIAGANG: {"affected_population": 300, "crop_affected_ha": "0.25"},
    })

    ids["B"] = api.initial("county", occurred_at=beijing(2025, 7, 20, 10), hazard="wind_hail", subtype="hail",
                           figures={XIAOJIAN: {"affected_population": 500, "crop_affected_ha": "10.05"}})["id"]
    api.follow_up("county", ids["B"], as_of=beijing(2025, 7, 20, 20),
                  figures={XIAOJIAN: {"affected_population": 800}})
    api.return_report("city", ids["B"], 2)

    ids["C"] = api.initial("county", occurred_at=beijing(2025, 8, 3, 9), subtype="river_flood",
                           figures={XIANGSHUI: {"affected_population": 50}})["id"]
    api.retract("county", ids["C"])

    ids["F"] = api.initial("county", occurred_at=beijing(2025, 9, 10, 7), subtype="urban_waterlogging",
                           figures={HUANGWEI: {"affected_population": 40, "direct_loss_10k_yuan": "0.05"}})["id"]
    api.final("county", ids["F"], as_of=beijing(2025, 9, 12, 12),
              figures={HUANGWEI: {"affected_population": 45, "direct_loss_10k_yuan": "0.05"}})

    api.add_account("county-500107", "county", JIULONGPO)
    ids["G"] = api.initial("county-500107", county=JIULONGPO, occurred_at=beijing(2025, 7, 8, 6, 30),
                           subtype="river_flood", figures={YANGJIAPING: {"affected_population": 999}})["id"]
    return Scenario(ids=ids, position=api.last_position)
