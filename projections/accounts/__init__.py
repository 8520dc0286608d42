"""Accounts' rights over time: who held which role and scope, active or suspended, from when."""
