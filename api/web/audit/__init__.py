"""Pages for auditors (read only): as known at a time, diffs between versions, seal status, accountability report."""
