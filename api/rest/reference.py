"""Reference data (areas, disaster types, indicators), the caller's account, and health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, Runtime
from ledger.reference.areas import Area
from schemas.common import ERROR_RESPONSES
from schemas.reference import AreaWithChildrenOut

router = APIRouter(tags=["reference 参考数据"], responses=ERROR_RESPONSES)


def _area(area: Area) -> dict[str, Any]:
    return {
        "code": area.code.value,
        "name": area.name,
        "level": area.level.value,
        "parent": area.parent.value if area.parent else None,
        "longitude": str(area.longitude) if area.longitude is not None else None,
        "latitude": str(area.latitude) if area.latitude is not None else None,
        "source": area.source,
        "illustrative": area.illustrative,
    }


@router.get("/v1", summary="where the API's parts are (no token needed)")
def api_index() -> dict[str, Any]:
    """The REST API's entry points, the OpenAPI document and console, GraphQL, and liveness."""
    return {
        "name": "relief-ledger", "openapi": "/openapi.json", "docs": "/docs", "graphql": "/graphql",
        "health": "/health", "web": "/",
        "resources": ["/v1/disasters", "/v1/relief/funds", "/v1/relief/cases", "/v1/housing/cases", "/v1/accidents",
                      "/v1/incidents", "/v1/audit/report", "/v1/areas/{code}", "/v1/hazards", "/v1/indicators",
                      "/v1/me"],
        "authentication": "Authorization: Bearer <token> (relief-ledger accounts token NAME)",
    }


@router.get("/v1/areas/{code}", response_model=AreaWithChildrenOut, summary="one area and its children")
def get_area(code: str, runtime: Runtime, actor: CurrentActor) -> dict[str, Any]:
    """统计用区划代码 (2, 4, 6, 9 or 12 digits). Unknown codes answer 422 `unknown_area`."""
    area = runtime.areas.require(code, "code")
    return {**_area(area), "children": [_area(c) for c in runtime.areas.children(area.code)]}


@router.get("/v1/hazards", summary="一级灾种 and 亚灾种")
def list_hazards(runtime: Runtime, actor: CurrentActor) -> dict[str, Any]:
    catalogue = runtime.hazards
    return {
        "version": catalogue.version,
        "hazards": [
            {"code": h.code, "name": h.name, "subtypes": [{"code": c, "name": n} for c, n in h.subtypes.items()],
             "unconfirmed": h.unconfirmed}
            for h in catalogue.hazards.values()
        ],
    }


@router.get("/v1/indicators", summary="the 快报 indicators with units and scales")
def list_indicators(runtime: Runtime, actor: CurrentActor) -> list[dict[str, Any]]:
    return [
        {"key": i.key, "name": i.name_zh, "unit": i.unit, "scale": i.scale, "parent": i.parent,
         "series": i.series, "only_grows": i.only_grows, "group": i.group, "rule": i.rule}
        for i in runtime.indicators.indicators.values()
    ]


@router.get("/v1/me", summary="the calling account")
def whoami(actor: CurrentActor) -> dict[str, Any]:
    return {**actor.as_dict(), "scope": actor.scope}


@router.get("/health", tags=["ops"], summary="liveness, the database, and the event store position",
            responses={503: {"description": "the database is unreachable (`database: down`, since when)"}})
def health(request: Request, runtime: Runtime) -> JSONResponse:
    """Answers at once: while the database is known to be down it is not asked (503, `database: down`)."""
    guard = getattr(request.app.state, "storage_guard", None)
    if guard is not None and guard.down:
        return JSONResponse({"status": "degraded", "position": None, **guard.health()}, status_code=503,
                            headers={"Retry-After": "5"})
    return JSONResponse({"status": "ok", "position": runtime.position(), "database": "up"})
