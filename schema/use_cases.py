"""Calling the domain's use cases from resolvers: each use case owns its transaction; a resolver only
builds its arguments, calls it, and presents the result or the typed error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from kernel.errors import AccessDenied, DomainError
from kernel.principal import Principal
from schema.context import Info
from schema.errors import Error, error_result, forbidden
from schema.permissions import require_principal

__all__ = ["run_for_caller", "run_mutation"]

Payload = TypeVar("Payload")
Row = TypeVar("Row")


async def run_mutation(call: Callable[[], Awaitable[Row]], present: Callable[[Row], Payload]) -> Payload | Error:
    """Call a use case and present what it returns; its expected failure answers the typed error, a role
    it lacks the top-level FORBIDDEN. `call` builds the use case's arguments in here, so an input ID that
    does not decode answers its typed error like the use case's own failures."""
    try:
        row = await call()
    except DomainError as error:
        return error_result(error)
    except AccessDenied as error:
        raise forbidden(str(error) or "Your role may not perform this operation.") from error
    return present(row)


async def run_for_caller(
    info: Info, call: Callable[[Principal], Awaitable[Row]], present: Callable[[Row], Payload]
) -> Payload | Error:
    """`run_mutation` for a use case that acts as the logged-in caller."""
    principal = await require_principal(info)
    return await run_mutation(lambda: call(principal), present)
