"""Read models of incident command: one row per incident (its fold as JSON) and its 镇呼区应 calls."""
