"""Pages for relief officers: cases by stage and their next step, funds, roster download, spreadsheet import."""
