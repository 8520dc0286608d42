"""灾害过程: one disaster process in one county, from its 初报 to its 核报 (or 核销).

- `aggregate`: `Disaster`, the events of a process;
- `reports`: what a report is and how a 续报 / 核报 is checked (consistency, jumps, refiling);
- `responses`: response levels (启动 / 调整 / 终止, Ⅰ–Ⅳ);
- `keys`: the process id from (county, date, 一级灾种) and claims on corrected keys;
- `inputs`: a report's raw values checked at the edge (county, townships, figures, times, text);
- `permissions`: who may file, review and decide;
- `service`: the use cases;
- `rules`: the configured reporting rules (jump ratio, clock skew, text length);
- `deadlines`: when each report was due, and 迟报 / 未报;
- `state`: the read side's fold of a process's events (shared by projections and the accountability report).
"""
