"""The shared machinery every concept runs on.

- `application`: the one `Ledger` event store (one notification log for every aggregate);
- `commands`: running a command — load, decide, save atomically, retry a lost race, answer a
  retried request from its Idempotency-Key;
- `errors`: the domain's refusals, each a category the API maps to one HTTP status;
- `actors`: who acts (role, scope) and the permission checks every concept shares;
- `topics`: old topics of events whose classes moved, so old events stay readable.
"""
