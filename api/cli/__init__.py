"""The `relief-ledger` command line: `app` (the root, `serve`, `demo`, and the groups registered), one group per concept, `common` (consoles, runtime, failures)."""
