"""Relief spreadsheets out: the 花名册 (应急统表10) and the 冬春 statistics table."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from api.files.sheets import Column, Progress, Sheet, book, write_table, yuan
from ledger.store.errors import Unavailable

if TYPE_CHECKING:
    from ledger.runtime import LedgerRuntime


ROSTER_TITLE = "受灾人员冬春生活政府救助人口一览表（应急统表10）"


ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("序号", width=6),
    Column("户主姓名", "D03001", width=10),
    Column("户主身份证号", "D03002", width=21),
    Column("户主联系方式", "D03003", width=15),
    Column("家庭类型", "D03004", width=10),
    Column("家庭人口", "D03005", "人", 9),
    Column("家庭住址", "D03006", width=30),
    Column("需救助人口", "D03007", "人", 9),
    Column("已发放救助款", "D03008", "元", 13),
    Column("已发放救助物资折款", "D03009", "元", 13),
    Column("救助资金发放形式", "D03010", width=12),
)


EXTRA_COLUMNS: tuple[Column, ...] = (Column("村", width=14), Column("一卡通账号", width=22),
                                     Column("案件状态", width=10))


STAGE_NAMES = {
    "applied": "户报", "assessed": "村评通过", "posted": "公示中", "township_reviewed": "乡审通过",
    "approved": "县定", "paid": "已发放", "rejected": "驳回", "withdrawn": "撤回",
}


PAYMENT_FORM = "一卡通"  # every payment goes to the household's 一卡通 account


def write_roster(
    rows: Iterable[dict[str, Any]], out: IO[bytes] | Path, reveal: Callable[[str], str] | None = None,
    title: str = ROSTER_TITLE, progress: Progress | None = None, *, subtitle: str | None = None,
    extras: bool = True, names: Callable[[str], str] | None = None, areas: Any = None,
) -> int:
    """The 花名册 in the 应急统表10 layout (rows from the roster view); returns the row count.

    Masked ID, phone and card numbers unless `reveal` decrypts the view's ciphers; masked names and
    addresses unless `names` (or `reveal`) decrypts them — officers within their scope see them. With `areas`
    (the area table) the 村 column shows the village's name beside its code (`320921100001 东园居委会`), as an
    import reads it back.
    """
    columns = ROSTER_COLUMNS + (EXTRA_COLUMNS if extras else ())
    count = 0
    with book(out) as wb:
        sheet = Sheet(wb, "应急统表10", columns, title, subtitle)
        for count, row in enumerate(rows, 1):
            values = _roster_values(count, row, reveal, extras, names or reveal)
            if extras and areas is not None and row.get("village"):
                found = areas.get(row["village"])
                values[len(ROSTER_COLUMNS)] = f"{row['village']} {found.name}" if found else row["village"]
            sheet.append(values)
            if progress and count % 1000 == 0:
                progress(1000)
    if progress and count % 1000:
        progress(count % 1000)
    return count


def _roster_values(seq: int, row: dict[str, Any], reveal: Callable[[str], str] | None, extras: bool,
                   names: Callable[[str], str] | None = None) -> list[Any]:
    def personal(kind: str) -> str:
        cipher = row.get(f"{kind}_cipher")
        if reveal is not None and cipher:
            return reveal(cipher)
        return str(row.get(f"{kind}_masked") or "")

    def named(column: str) -> str:
        cipher = row.get(f"{column}_cipher")
        if names is not None and cipher:
            return names(cipher)
        return str(row.get(column) or "")

    card = personal("card")
    values: list[Any] = [
        seq, named("head_name"), personal("id"), personal("phone"), row.get("household_type") or "",
        int(row.get("household_size") or 0), named("address"), int(row.get("people_in_need") or 0),
        yuan(row.get("paid_fen") or 0), yuan(row.get("goods_fen") or 0),
        row.get("payment_form") or (PAYMENT_FORM if card else ""),
    ]
    if extras:
        stage = str(row.get("stage") or "")
        values += [row.get("village") or "", card, STAGE_NAMES.get(stage, stage)]
    return values


STATISTICS_TITLE = "受灾人员冬春生活需救助及已救助情况统计表"


STATISTICS_HEADERS = ("区划代码", "区划名称", "需救助户数（户）", "需救助人口（人）", "已救助户数（户）",
                      "已救助人口（人）", "已发放救助款（元）", "已发放救助物资折款（元）")


def write_statistics(result: Any, out: IO[bytes] | Path, name_of: Callable[[str], str],
                     title: str = STATISTICS_TITLE, subtitle: str | None = None) -> int:
    """The 冬春 需救助 / 已救助 figures (a roster view's `WinterSpringResult`) per child area, with
    a 合计 row; returns the number of areas."""
    rows = [
        [code, name_of(code), f["need_households"], f["need_people"], f["aided_households"], f["aided_people"],
         yuan(f["paid_fen"]), yuan(f["goods_fen"])]
        for code, f in result.breakdown.items()
    ]
    return write_table(title, STATISTICS_HEADERS, rows, out, subtitle=subtitle, totals_from=2,
                       widths=(14, 18, 12, 12, 12, 12, 16, 18))


def roster_view(runtime: LedgerRuntime, host: Any = None, timeout: float = 30.0) -> Any:
    """The roster projection's view, caught up with the ledger's head (`projection_view`)."""
    return projection_view(runtime, "roster", host, timeout)


@contextmanager
def projection_view(runtime: LedgerRuntime, name: str, host: Any = None, timeout: float = 30.0) -> Iterator[Any]:
    """A projection's view, caught up with the ledger's head.

    With a ProjectionHost (the server), its follower is awaited. Without one (CLI, or a server
    whose projections run in a worker) the view is opened here: caught up in this process if no
    other process follows it, else awaited. Unavailable (503) if it does not catch up in time.
    """
    from projections.registry import PROJECTIONS
    from projections.runner import AdvisoryLock, Follower, open_projection

    head = runtime.position()
    if host is not None and name in getattr(host, "followers", {}):
        if not host.wait(head, timeout, [name]):
            raise _behind()
        yield host.view(name)
        return
    if name not in PROJECTIONS:
        raise Unavailable(f"读模型 {name} 未安装", f"the {name} projection is not installed", code="no_roster")
    env = runtime.config.persistence
    follower = Follower(runtime.app, open_projection(PROJECTIONS[name], env, runtime.config.data_dir, runtime.pii))
    lock = AdvisoryLock(env, name)
    try:
        if lock.try_acquire():
            try:
                follower.catch_up()
            finally:
                lock.release()
        deadline = time.monotonic() + timeout
        if not follower.wait(head, max(deadline - time.monotonic(), 0)):
            raise _behind()
        yield follower.projection.view
    finally:
        follower.close()


def _behind() -> Unavailable:
    return Unavailable("花名册正在更新，请稍后重试", "the roster is still catching up; retry shortly", code="roster_behind")
