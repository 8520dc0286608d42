"""Read models of relief: `roster` (花名册, personal data masked and encrypted), `funds` (balances by source), `statistics` (冬春 需救助 / 已救助) and `overdue` (work past its time)."""
