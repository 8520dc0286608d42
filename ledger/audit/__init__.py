"""Audit: replaying the record to hold people accountable.

- `replay`: any aggregate as known at a moment, and field-by-field diffs between versions;
- `seal`: the hash chain over every stored event (pure logic; storage lives in `projections.audit`);
- `accountability`, `accountability_scan`, `accountability_sections`: the accountability report
  (迟报 / 未报, 勘误, 核销, 驳回, jumps, above-standard approvals, returned payments, reads of personal data).
"""
