"""Accounts: who may act, with which role and scope, their bearer tokens, passwords and sign-in sessions.

- `aggregate`: `Account` (event-sourced, so who held which right when can be replayed) and `TokenIndex`;
- `service`: register, issue and revoke tokens, revoke accounts, authenticate a token;
- `passwords`: set (admin, CLI) and change (owner) a password, change role or scope, sign in (throttled, recorded);
- `sessions`: server-side sign-in sessions, revocable at once;
- `store`: the credentials, sessions and sign-in tables beside the event store (hashes never enter an event).
"""
