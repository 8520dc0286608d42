"""Reading forms into the use cases' inputs, and laying out the 快报 indicator form.

The indicator form follows the 快报表: the groups of `indicators.csv` in
order, units shown, 累计值 and 实时值 side by side where an indicator has
both. Which groups are open at first depends on the 一级灾种 (a layout
choice: every group stays available); drought-only indicators appear for
drought processes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.reference.indicators import IndicatorSet
from ledger.store.errors import FieldProblem, InvalidInput

CORE_GROUPS = ("受灾", "转移安置", "房屋", "生活救助", "经济损失")
OPEN_GROUPS = {
    "flood": ("农业", "工商基础设施公共服务"),
    "typhoon": ("农业", "工商基础设施公共服务"),
    "drought": ("农业",),
    "wind_hail": ("农业",),
    "low_temperature": ("农业",),
    "snow": ("农业", "工商基础设施公共服务"),
    "earthquake": ("工商基础设施公共服务",),
    "geological": ("工商基础设施公共服务",),
    "marine": ("农业", "工商基础设施公共服务"),
    "biological": ("农业",),
    "forest_grassland_fire": ("农业",),
}


@dataclass
class Row:
    """One line of the form: an indicator, or a 累计值/实时值 pair."""

    label: str
    unit: str
    keys: list[tuple[str, str]]  # (indicator key, 累计值 | 实时值 | "")
    child: bool = False  # a 其中 item
    scale: int = 0


@dataclass
class Group:
    name: str
    rows: list[Row] = field(default_factory=list)
    open: bool = False


def _stem(name: str) -> tuple[str, str]:
    for tag, label in (("(累计值)", "累计值"), ("(实时值)", "实时值")):
        if name.endswith(tag):
            return name[: -len(tag)], label
    return name, ""


def figure_groups(indicators: IndicatorSet, hazard: str | None, drought: bool) -> list[Group]:
    groups: dict[str, Group] = {}
    pairs: dict[tuple[str, str], Row] = {}
    opened = set(CORE_GROUPS) | set(OPEN_GROUPS.get(hazard or "", ()))
    for ind in indicators.indicators.values():
        if ind.key.startswith("drought_") and not drought:
            continue
        group = groups.setdefault(ind.group, Group(ind.group, open=ind.group in opened))
        stem, series = _stem(ind.name_zh)
        if series and (ind.group, stem) in pairs:
            pairs[(ind.group, stem)].keys.append((ind.key, series))
            continue
        row = Row(stem, ind.unit, [(ind.key, series)], child=ind.parent is not None, scale=ind.scale)
        if series:
            pairs[(ind.group, stem)] = row
        group.rows.append(row)
    return list(groups.values())


def opened_groups_by_hazard() -> dict[str, list[str]]:
    """For the page script: which groups to open when the 灾种 changes."""
    return {h: [*CORE_GROUPS, *extra] for h, extra in OPEN_GROUPS.items()}


def figures_from(values: dict[str, str], indicators: IndicatorSet) -> dict[str, str]:
    """The filled-in figures (`f_<key>` fields); blank fields are left out (they keep their values)."""
    out = {}
    for key in indicators.keys:
        raw = values.get(f"f_{key}", "").strip().replace(",", "").replace("，", "")
        if raw:
            out[key] = raw
    return out


def beijing_time(values: dict[str, str], name: str, required: bool = True) -> datetime | None:
    """A datetime-local input (Beijing time, no offset): the domain reads a naive time as Beijing time."""
    raw = values.get(name, "").strip()
    if not raw:
        if required:
            raise InvalidInput("请填写时间", "a time is required", fields=[FieldProblem(name, "required", "required")])
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("时间格式有误", "invalid time",
                           fields=[FieldProblem(name, "bad_time", "YYYY-MM-DDTHH:MM")]) from None


def text(values: dict[str, str], name: str) -> str:
    return values.get(name, "").strip()


def optional(values: dict[str, str], name: str) -> str | None:
    return values.get(name, "").strip() or None


def posted(values: dict[str, str]) -> dict[str, Any]:
    """What to draw again in a refused form (everything but the tokens)."""
    return {k: v for k, v in values.items() if k not in ("csrf_token",)}


def fen_from_yuan(values: dict[str, str], name: str) -> int:
    """An amount typed in 元 (at most two decimals) as integer fen; the API itself takes only fen."""
    from decimal import Decimal, InvalidOperation

    raw = values.get(name, "").strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e10"):
        raise InvalidInput("金额有误", "invalid amount",
                           fields=[FieldProblem(name, "bad_amount", "请填写以元为单位、最多两位小数的正数")])
    return int(amount * 100)


def civil_date(values: dict[str, str], name: str) -> Any:
    from datetime import date

    raw = values.get(name, "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("日期有误", "invalid date", fields=[FieldProblem(name, "bad_date", "YYYY-MM-DD")]) from None


async def evidence_files(request: Any, field_name: str = "evidence_files") -> list[dict[str, str]]:
    """Evidence files chosen in a form, referenced as the events reference evidence: `sha256:<hex>` of the
    content with its media type and file name (the file itself is not kept by the ledger)."""
    import hashlib

    found = []
    for item in (await request.form()).getlist(field_name):
        if isinstance(item, str) or not item.filename:
            continue
        digest = hashlib.sha256()
        while chunk := await item.read(256 * 1024):
            digest.update(chunk)
        found.append({"ref": "sha256:" + digest.hexdigest(), "type": item.content_type or "application/octet-stream",
                      "name": item.filename[:200]})
    return found
