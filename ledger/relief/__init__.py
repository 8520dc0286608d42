"""救助: relief funds and household cases.

- `fund`: `ReliefFund` — money for one programme and period in one county, by source; never overdrawn;
- `case`: `ReliefCase` — one household through 户报 → 村评 → 公示 → 乡审 → 县定 → 发放, and `CaseClaim`
  (one open case per programme, period and household head);
- `applications`: a household's application and its checks;
- `programmes`: the relief programmes; `checks`: amounts and reasons;
- `service`: the use cases; `rules`: the configured standards, posting days and 春节 dates.
"""
