"""Spreadsheets: `sheets` (shared building blocks), `relief` (roster and statistics out), `relief_import` (applications in), `accountability` (the report as .xlsx and JSON lines)."""
