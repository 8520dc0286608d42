"""The one GraphQL schema, merged from the concept modules, and its router at /graphql."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio.to_thread
import strawberry
from fastapi import Request, Response
from strawberry.dataloader import DataLoader
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.deps import authenticate
from api.graphql.accidents import AccidentsQuery
from api.graphql.accounts import AccountsQuery
from api.graphql.audit import AuditQuery
from api.graphql.common import Context
from api.graphql.disasters import DisastersQuery
from api.graphql.housing import HousingQuery
from api.graphql.incidents import IncidentsQuery
from api.graphql.projections import ProjectionsQuery
from api.graphql.relief import RELIEF_SCALARS, ReliefQuery
from api.graphql.relief_checks import ReliefChecksQuery
from api.graphql.targets import TargetsQuery
from api.graphql.upward import UpwardQuery
from api.times import DateTimeOut
from api.web.auth import cookie_actor_for_api
from ledger.store.errors import DomainError


def _is_unexpected(error: Any) -> bool:
    """Hide internals of unexpected errors; our own errors carry an extensions code."""
    original = getattr(error, "original_error", None)
    return original is not None and not (error.extensions or {}).get("code")


_EXTENSIONS: list[Any] = [
    lambda: MaskErrors(should_mask_error=_is_unexpected),
    lambda: QueryDepthLimiter(max_depth=8),
    lambda: MaxAliasesLimiter(max_alias_count=15),
    lambda: MaxTokensLimiter(max_token_count=2000),
]


#: Every concept's queries, merged into the one root type (register new concepts here).
QUERIES = (DisastersQuery, ReliefQuery, ReliefChecksQuery, HousingQuery, AuditQuery, ProjectionsQuery, AccidentsQuery,
           IncidentsQuery, TargetsQuery, AccountsQuery, UpwardQuery)

schema = strawberry.Schema(
    query=merge_types("Query", QUERIES),
    # money as 64-bit integers of fen; every time in Beijing time with +08:00
    config=StrawberryConfig(scalar_map={**RELIEF_SCALARS, datetime: DateTimeOut}),
    extensions=_EXTENSIONS,
)


class _Router(GraphQLRouter):
    """Serves our own GraphiQL page (local assets) when one is given."""

    ide_page: Callable[[Request], Response] | None = None

    async def render_graphql_ide(self, request: Request) -> Any:
        if self.ide_page is not None:
            return self.ide_page(request)
        return await super().render_graphql_ide(request)


def graphql_router(runtime: Any, host: Any, graphiql: bool,
                   ide_page: Callable[[Request], Response] | None = None) -> GraphQLRouter:
    async def get_context(request: Request) -> Context:
        actor, refusal = None, None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            try:
                actor = await anyio.to_thread.run_sync(authenticate, request, runtime, token.strip())
            except DomainError as exc:
                refusal = exc  # answered by the first field that needs the caller
        elif not header:
            try:  # a signed-in browser: its session, with the CSRF header
                actor = await anyio.to_thread.run_sync(cookie_actor_for_api, request)
            except DomainError as exc:
                refusal = exc
        board = host.view("board") if host is not None else None

        async def load_rows(ids: list[str]) -> list[dict[str, Any] | None]:
            if board is None:
                return [None] * len(ids)
            rows = await anyio.to_thread.run_sync(board.get, ids)
            return [rows.get(i) for i in ids]

        async def load_histories(ids: list[str]) -> list[list[Any]]:
            def read() -> list[list[Any]]:
                return [list(runtime.app.events.get(UUID(i))) for i in ids]

            return await anyio.to_thread.run_sync(read)

        return Context(actor=actor, refusal=refusal, runtime=runtime, host=host, board_loader=DataLoader(load_fn=load_rows),
                       history_loader=DataLoader(load_fn=load_histories))

    router = _Router(schema, context_getter=get_context, graphql_ide="graphiql" if graphiql else None)
    router.ide_page = ide_page
    return router
