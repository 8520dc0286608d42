"""Response shapes of the reference data (areas)."""

from __future__ import annotations

from pydantic import BaseModel


class AreaOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    longitude: str | None
    latitude: str | None
    source: str
    illustrative: bool


class AreaWithChildrenOut(AreaOut):
    children: list[AreaOut]
