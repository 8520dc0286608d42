"""GraphQL about the read side itself: each projection's position, lag and errors."""

from __future__ import annotations

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import actor_of, host_of


@strawberry.type
class ProjectionStatus:
    name: str
    position: int
    head: int
    lag: int
    running: bool
    error: str | None


@strawberry.type
class ProjectionsQuery:
    @strawberry.field(description="each projection's position and lag behind the event store")
    async def projection_status(self, info: Info) -> list[ProjectionStatus]:
        actor_of(info)
        host = host_of(info)
        statuses = await anyio.to_thread.run_sync(host.status)
        return [ProjectionStatus(name=s.name, position=s.position, head=s.head, lag=s.lag, running=s.running,
                                 error=s.error) for s in statuses]
