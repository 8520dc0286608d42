"""Pages for disaster reports: township filing (初报/续报/核报), review, response level, deadlines, statistics."""
