"""The plans' safety targets (规划指标) and whether a jurisdiction is on track.

- `plans`: the targets of each plan per jurisdiction (configuration; the seed places' ship) and the
  indicators they are measured in (numerator, denominator, scale);
- `reference`: `ReferenceFigures`, the versioned figures users load per jurisdiction and year —
  denominators (GDP, population, employees, vehicles) and baselines (十三五 figures);
- `tracking`: on track / off track from yearly figures (a pure function);
- `service`: the all-or-nothing import of reference figures with its row report.
"""
