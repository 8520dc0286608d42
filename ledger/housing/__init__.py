"""倒损住房恢复重建: one file per household (一户一档) from damage to moving in.

- `case`: `HousingCase` — damage assessed → 评议 (四议两公开) → 公示 → 乡审 → 县批 → 协议 → 开工 →
  竣工 → 验收 → 入住 → 销号, steps by mode, subsidy tranches, other money;
- `claims`: one open case per household head and disaster process; the process's register of open
  cases (a 核销 waits until they are closed);
- `rules`: the configured subsidy table, modes, tranches, exclusions, progress rhythm and calendar;
- `reconciliation`: cases against the 住房 figures the county reported;
- `service`: the use cases.
"""
