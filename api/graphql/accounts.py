"""GraphQL over the accounts' rights history: who held which role and scope, active or suspended, at a moment."""

from __future__ import annotations

from datetime import datetime

import anyio.to_thread
import strawberry
from strawberry.types import Info

from api.graphql.common import actor_of, graphql_error, host_of, scoped_area, wait_for
from api.times import beijing
from ledger.store.actors import Role
from ledger.store.errors import NotPermitted

READERS = (Role.ADMIN, Role.AUDITOR, Role.COUNTY, Role.CITY, Role.PROVINCE)


@strawberry.type(description="an account's rights in force at the moment asked, and the change that set them")
class AccountRight:
    username: str
    display_name: str
    role: str
    scope: str
    status: str = strawberry.field(description="active | suspended | revoked")
    since: datetime = strawberry.field(description="when the change that set these rights was recorded")
    change: str = strawberry.field(description="Registered, AccessChanged, Suspended, Restored or Revoked")
    reason: str | None
    changed_by: str | None
    version: int


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="who held which right at `at` (default now): every account whose scope lies "
                                  "within `area` or contains it, as recorded by then (administrators, auditors, "
                                  "county / city / province officers for their scope)")
    async def account_rights(self, info: Info, at: datetime | None = None, area: str | None = None,
                             min_position: int | None = None) -> list[AccountRight]:
        actor = actor_of(info)
        if actor.role not in READERS:
            raise graphql_error(NotPermitted("无权查看账号权限", "this account may not read accounts' rights"))
        prefix = scoped_area(actor, area) if actor.scope else (area or "")
        moment = beijing(at) if at is not None else datetime.now().astimezone()
        await wait_for(info, min_position, ["accounts"])
        view = host_of(info).view("accounts")
        rows = await anyio.to_thread.run_sync(lambda: view.at(moment))
        return [AccountRight(username=r["username"], display_name=r["display_name"], role=r["role"],
                             scope=r["scope"], status=r["status"], since=datetime.fromisoformat(r["valid_from"]),
                             change=r["event"], reason=r["reason"], changed_by=r["changed_by"],
                             version=int(r["version"]))
                for r in rows if r["scope"].startswith(prefix) or prefix.startswith(r["scope"])]
