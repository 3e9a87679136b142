"""What the billing schema's modules share: the finance desk's gate, mutation plumbing and id helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay

from billing.policy import manages_billing
from schema.context import Info
from schema.errors import BadUserInputError, ConflictError, NotFoundError
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, allowed_if
from schema.units.types import UnitType

__all__ = ["FINANCE_ONLY", "decode_ids", "deferred", "empty_connection", "gid", "mutation_result", "unit_of"]

Row = TypeVar("Row")

FINANCE_ONLY = [IsAuthenticated, allowed_if(manages_billing, "Requires one of the roles ADMIN, FINANCE.")]


async def deferred(call: Callable[[], Awaitable[Row]]) -> Row:
    """`call()` awaited only when this is: decoding the use case's arguments (a malformed ID answers
    NOT_FOUND) then fails inside `run_mutation`, which answers the typed error."""
    return await call()


def mutation_result(payload: type, name: str) -> object:
    """The `<name>` union of a mutation's payload and the errors a billing use case answers."""
    return Annotated[payload | BadUserInputError | NotFoundError | ConflictError, strawberry.union(name)]


def decode_ids(values: list[strawberry.ID] | None, type_name: str, field: str) -> tuple[int, ...]:
    return tuple(decode_id(value, type_name, field=field) for value in values or [])


def empty_connection(connection: type) -> object:
    """A connection with nothing in it, for a filter that names what the caller may not see."""
    return connection(edges=[], page_info=relay.PageInfo(has_next_page=False, has_previous_page=False), total_count=0)


def gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(type_name, str(pk))))


async def unit_of(info: Info, unit_id: int) -> UnitType:
    return UnitType.from_row(await info.context.loaders.unit.load(unit_id))
