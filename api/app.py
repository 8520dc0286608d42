"""The FastAPI application factory: every concept's REST router and the GraphQL schema, mounted here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import errors
from api.graphql.schema import graphql_router
from api.rest import accountability, audit, disasters, housing, reference, relief, relief_files
from api.settings import Settings
from ledger.runtime import LedgerRuntime
from projections.runner import ProjectionHost

DESCRIPTION = """
Event-sourced ledger of disasters and relief for the emergency-management chain
(village → township → county → city → province).

Every change is an immutable event stamped with the acting account, its unit and,
where it describes the world, when it happened. Authenticate with
`Authorization: Bearer <token>`. Every POST accepts `Idempotency-Key`; commands
on an existing process accept `If-Match: <version>`. Errors always have the shape
`{"error": {"code", "message", "fields": [{"field", "code", "message"}], "details"}}`
with the message in Chinese and English.
"""


def create_app(runtime: LedgerRuntime, settings: Settings | None = None, host: ProjectionHost | None = None) -> FastAPI:
    """The app over `runtime`; `host` runs the projections that GraphQL reads (started with the app)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The library is synchronous: endpoints are plain `def` and run in the
        # threadpool; keep it within the connection pool so none waits for one.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threadpool_size
        if host is not None:
            host.start()
        try:
            yield
        finally:
            if host is not None:
                host.stop()

    app = FastAPI(
        title="relief-ledger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    errors.install(app)
    for module in (disasters, relief, relief_files, housing, audit, accountability, reference):
        app.include_router(module.router)
    app.include_router(graphql_router(runtime, host, graphiql=settings.environment == "development"), prefix="/graphql",
                       include_in_schema=False)
    app.state.projections = host
    return app
