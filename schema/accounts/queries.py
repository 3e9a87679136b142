"""Who am I."""

from __future__ import annotations

import strawberry

from db.models import User
from schema.accounts.types import ViewerType
from schema.context import Info
from schema.permissions import IsAuthenticated, require_principal

__all__ = ["AccountQueries"]


@strawberry.type
class AccountQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="The logged-in user.")
    async def viewer(self, info: Info) -> ViewerType:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            user = await session.get(User, principal.user_id)
        assert user is not None
        return ViewerType.from_row(user, principal)
