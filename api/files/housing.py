"""The 因灾倒塌损坏住房户 list (应急统表 9, layout UNCONFIRMED: the columns are the facts the 台账 needs) as a
streamed .xlsx: names and addresses in clear for officers within their scope, ID and phone numbers masked
unless revealed with a recorded purpose."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from api.files.sheets import Column, Sheet, book, yuan
from ledger.housing.rules import DAMAGE, MODES

TITLE = "因灾倒塌损坏住房户一览表"


COLUMNS: tuple[Column, ...] = (
    Column("序号", width=6), Column("户主姓名", width=10), Column("户主身份证号", width=21),
    Column("联系电话", width=15), Column("家庭住址", width=30), Column("村", width=14), Column("损坏程度", width=10),
    Column("间数", unit="间", width=8), Column("重建方式", width=10), Column("环节", width=12),
    Column("核定补助", unit="元", width=12), Column("已拨付", unit="元", width=12), Column("计划开工", width=12),
    Column("计划竣工", width=12), Column("开工", width=12), Column("竣工", width=12), Column("验收", width=12),
    Column("入住", width=12), Column("灾害过程", width=38),
)


STEP_NAMES = {"applied": "申请", "deliberated": "评议", "posted": "公示", "township_reviewed": "乡审",
              "approved": "县批", "agreed": "协议", "started": "开工", "completed": "竣工", "accepted": "验收",
              "moved_in": "入住", "closed": "销号", "rejected": "驳回", "withdrawn": "撤回"}


def write_housing_list(rows: Iterable[dict[str, Any]], out: IO[bytes] | Path, subtitle: str | None = None,
                       names: Callable[[str], str] | None = None, reveal: Callable[[str], str] | None = None) -> int:
    count = 0
    with book(out) as wb:
        sheet = Sheet(wb, "倒损住房户", COLUMNS, TITLE, subtitle)
        for count, r in enumerate(rows, 1):
            def shown(column: str, cipher: str, decrypt: Callable[[str], str] | None) -> str:
                return decrypt(r[cipher]) if decrypt is not None and r.get(cipher) else str(r.get(column) or "")

            sheet.append([
                count, shown("head_name", "head_name_cipher", names or reveal), shown("id_masked", "id_cipher", reveal),
                shown("phone_masked", "phone_cipher", reveal), shown("address", "address_cipher", names or reveal),
                r["village"], DAMAGE.get(r["damage"], r["damage"]), int(r["rooms"]), MODES.get(r["mode"], r["mode"]),
                STEP_NAMES.get(r["step"], r["step"]), yuan(int(r["subsidy_fen"] or 0)), yuan(int(r["paid_fen"] or 0)),
                r["planned_start"] or "", r["planned_completion"] or "", r["started_on"] or "", r["completed_on"] or "",
                r["accepted_on"] or "", r["moved_in_on"] or "", r["disaster_id"],
            ])
    return count
