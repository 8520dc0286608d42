"""The FastAPI application factory: every concept's REST router and the GraphQL schema, mounted here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import errors, times
from api.area_refresh import AreaRefresh
from api.availability import StorageGuard, Unreachable503
from api.graphql.schema import graphql_router
from api.limits import BodyLimits, RequestLimits
from api.rest import (
    accidents,
    accountability,
    audit,
    disasters,
    housing,
    incidents,
    reference,
    relief,
    relief_files,
    targets,
    upward,
)
from api.rest import attachments as attachment_routes
from api.rest import casualties as casualty_routes
from api.rest import kuaibao as kuaibao_routes
from api.settings import Settings
from api.throttle import AuthThrottle
from api.web.routes import install_web
from api.web.tools import graphiql_page
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
    times.install()  # one time format: Beijing time with its offset, in every JSON answer

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
            guard = getattr(app.state, "storage_guard", None)
            if guard is not None:
                guard.stop()

    app = FastAPI(
        title="relief-ledger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs is served from our own assets (api/web/tools.py)
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.auth_throttle = AuthThrottle(
        burst=settings.auth_failure_burst, per_minute=settings.auth_failures_per_minute,
        trusted_proxies=frozenset(settings.trusted_proxies),
    )
    app.add_middleware(RequestLimits, limits=BodyLimits(
        json_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes,
        attachment_bytes=settings.max_attachment_bytes,
    ))
    if runtime.config.persistence.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        guard = StorageGuard(dict(runtime.config.persistence), wait=settings.storage_wait_seconds)
        guard.guard_pool(runtime.app.recorder.datastore)
        for view in (host.followers.values() if host is not None else ()):
            guard.guard_pool(view.projection.view.datastore)
        app.state.storage_guard = guard
        app.add_middleware(Unreachable503, guard=guard)
    app.add_middleware(AreaRefresh, runtime=runtime)  # `areas import` takes effect without a restart
    errors.install(app)
    for module in (disasters, relief, relief_files, housing, audit, accountability, reference, accidents, incidents,
                   targets):
        app.include_router(module.router)
    app.include_router(upward.router)
    app.include_router(attachment_routes.router)
    app.include_router(casualty_routes.router)
    app.include_router(kuaibao_routes.router)
    app.include_router(graphql_router(runtime, host, graphiql=settings.environment == "development",
                                      ide_page=graphiql_page), prefix="/graphql", include_in_schema=False)
    app.state.projections = host
    install_web(app, settings)
    return app
