"""Area tables imported while the server runs are used without a restart: before a request, the runtime
looks (at most every 2 s, one directory listing) whether `relief-ledger areas import` stored an edition, and
reloads the table in a worker thread if so."""

from __future__ import annotations

from typing import Any

import anyio.to_thread


class AreaRefresh:
    """Pure ASGI middleware (no body buffering)."""

    def __init__(self, app: Any, runtime: Any) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.runtime.areas_check_due():
            await anyio.to_thread.run_sync(self.runtime.refresh_areas)
        await self.app(scope, receive, send)
