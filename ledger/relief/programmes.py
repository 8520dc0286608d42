"""Relief programmes (救助项目) and their Chinese names."""

from __future__ import annotations

from enum import StrEnum


class Programme(StrEnum):
    WINTER_SPRING = "winter_spring"  # 冬春生活困难救助
    EMERGENCY = "emergency"  # 应急期救助
    TRANSITIONAL = "transitional"  # 过渡期生活救助
    BEREAVEMENT = "bereavement"  # 遇难人员家属抚慰
    DROUGHT = "drought"  # 旱灾临时生活救助
    HOUSING = "housing"  # 倒损住房恢复重建


PROGRAMME_NAMES = {
    Programme.WINTER_SPRING: "冬春生活困难救助",
    Programme.EMERGENCY: "应急期救助",
    Programme.TRANSITIONAL: "过渡期生活救助",
    Programme.BEREAVEMENT: "遇难人员家属抚慰",
    Programme.DROUGHT: "旱灾临时生活救助",
    Programme.HOUSING: "倒损住房恢复重建",
}
