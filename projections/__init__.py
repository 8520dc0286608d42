"""Read models built from the ledger's notification log.

Each projection follows the one `Ledger` application's log with its own
tracking position and imports the events it handles from `ledger`
(e.g. `ledger.disaster.Disaster.FollowUpReportFiled`).
"""
