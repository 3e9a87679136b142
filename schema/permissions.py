"""Field permissions: who may call an operation at all, from the gates each domain policy names. Which
objects the caller may touch is decided by the use cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.permission import BasePermission

from kernel.principal import Principal
from schema.context import Info
from schema.errors import unauthenticated

__all__ = ["IsAuthenticated", "allowed_if", "require_principal"]


class IsAuthenticated(BasePermission):
    message = "Authentication required: log in and send `Authorization: Bearer <token>`."
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return await info.context.principal() is not None


def allowed_if(gate: Callable[[Principal], bool], message: str) -> type[BasePermission]:
    """A permission met when the domain policy's `gate` lets the caller use the operation at all
    (which objects it may touch is the use case's business)."""

    class Allowed(BasePermission):
        error_extensions = {"code": "FORBIDDEN"}

        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            principal = await info.context.principal()
            return principal is not None and gate(principal)

    Allowed.message = message
    Allowed.__name__ = "Allowed" + "".join(part.title() for part in gate.__name__.split("_"))
    return Allowed


async def require_principal(info: Info) -> Principal:
    """The caller, for resolvers already guarded by `IsAuthenticated`."""
    principal = await info.context.principal()
    if principal is None:
        raise unauthenticated()
    return principal
