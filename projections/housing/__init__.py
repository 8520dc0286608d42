"""Read models of housing reconstruction: `files` (因灾倒塌损坏住房户 list, one row per household file,
personal data masked and encrypted) and its queries — progress, overdue work, counts for reconciliation."""
