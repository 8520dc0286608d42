"""REST under /v1: one router per concept (disasters, relief, relief files, audit, accountability, reference)."""
