"""The one GraphQL schema, merged from the concept modules, and its router at /graphql."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio.to_thread
import strawberry
from fastapi import Request
from strawberry.dataloader import DataLoader
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.graphql.audit import AuditQuery
from api.graphql.common import Context
from api.graphql.disasters import DisastersQuery
from api.graphql.housing import HousingQuery
from api.graphql.projections import ProjectionsQuery
from api.graphql.relief import RELIEF_SCALARS, ReliefQuery
from api.graphql.relief_checks import ReliefChecksQuery
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
QUERIES = (DisastersQuery, ReliefQuery, ReliefChecksQuery, HousingQuery, AuditQuery, ProjectionsQuery)

schema = strawberry.Schema(
    query=merge_types("Query", QUERIES),
    config=StrawberryConfig(scalar_map=RELIEF_SCALARS),  # money as 64-bit integers of fen
    extensions=_EXTENSIONS,
)


def graphql_router(runtime: Any, host: Any, graphiql: bool) -> GraphQLRouter:
    async def get_context(request: Request) -> Context:
        actor = None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            try:
                actor = await anyio.to_thread.run_sync(runtime.accounts.authenticate, token.strip())
            except DomainError:
                actor = None
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

        return Context(actor=actor, runtime=runtime, host=host, board_loader=DataLoader(load_fn=load_rows),
                       history_loader=DataLoader(load_fn=load_histories))

    return GraphQLRouter(schema, context_getter=get_context, graphql_ide="graphiql" if graphiql else None)
