"""Accounts: who may act, with which role and scope, and their bearer tokens.

- `aggregate`: `Account` (event-sourced, so who held which right when can be replayed) and `TokenIndex`;
- `service`: register, issue and revoke tokens, revoke accounts, authenticate a token.
"""
