"""生产安全事故: production-safety accidents, from the unit's first report to the investigation's close.

- `aggregate`: `Accident`, its events (recorded, 续报 / 补报, regraded, reported upward, rescue
  concluded, investigation steps, findings, withdrawal);
- `grading`: casualties and the grade under 493号令 第三条 (bounds from the rules);
- `rules`: the configured rules — grade bounds, report clocks, 补报 windows, investigation
  deadlines, the definitions of 迟报 / 漏报 / 谎报 / 瞒报, sectors, a province's own practice;
- `clocks`: when each report was due and whether it came (迟报 / 未报), from the read side's state;
- `findings`: findings' evidence, the party found against, who may record them;
- `investigation`: the investigation's use cases and who records them;
- `keys`, `inputs`, `service`: the id, raw values checked at the edge, the use cases;
- `state`: the read side's fold of an accident's events (shared by projections and reports).
"""
