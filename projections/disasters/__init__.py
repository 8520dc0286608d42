"""Read models of disaster processes: `board` (one row per process) and `statistics` (the 直报 roll-up)."""
