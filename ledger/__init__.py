"""The domain: every fact as an immutable event, checked by the aggregate that owns it.

One package per concept, each with its aggregates (`aggregate.py` or the
aggregate's own name), its use cases (`service.py`) and its rules
(`rules.py` …); `ledger.store` is the shared machinery they run on, and
`ledger.runtime` puts them together. Nothing here imports the web layer,
the read models or a database driver: the same code serves the API, the
CLI, the projections worker and the tests.

- `store`      the one `Ledger` application, running a command (idempotency, retries), errors, actors
- `reference`  area codes, disaster types (灾种), the 快报 indicator set
- `disasters`  灾害过程: 初报 / 续报 / 核报, review, 勘误, response levels, 核销, deadlines
- `accidents`  生产安全事故: grading, report clocks, 补报, investigation, findings
- `incidents`  应急指挥: responses per government, command and handover, 镇呼区应
- `targets`    规划指标: the plans' safety targets and the reference figures they need
- `relief`     救助: funds, household cases (户报 → 村评 → 公示 → 乡审 → 县定 → 发放)
- `personal`   ID, phone and card numbers: validation, masking, keyed hashes, encryption, recorded reads
- `accounts`   who may act: roles, scopes, tokens
- `audit`      as-known-at and diffs, the seal's hash chain, the accountability report
"""
