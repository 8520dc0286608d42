"""Pydantic models of what crosses the HTTP boundary: command bodies, responses, the error body. Imported by `api` only."""
