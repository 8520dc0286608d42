"""Read models built from the ledger's notification log, exactly once.

One package per concept, named as in `ledger`, each module one projection
(a `Projection` of `eventsourcing.projection` and its view for SQLite and
PostgreSQL); shared machinery beside them:

- `views`: batched, exactly-once writes (rows and tracking position in one transaction);
- `runner`: following the log (in the server, a worker, or a test), rebuilding;
- `registry`: every projection by name; `areas`: area-code arithmetic for queries.

- `disasters`: the board (one row per process) and the 直报 statistics;
- `relief`: the roster (花名册), fund balances, 冬春 statistics and overdue work;
- `accidents`: the accident register and its accountability log;
- `incidents`: incident command (who held command when, 镇呼区应 calls);
- `audit`: the seal's storage and sealer (it chains the stored rows themselves, not decoded events).
"""
