"""What the billing schema's modules share: the finance desk's gate, running a use case for the caller,
resolving nodes through the billing policy, and id helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from billing.policy import manages_billing, may_manage_charges, may_see_unit_billing
from kernel.errors import NotFound
from kernel.principal import Principal
from schema.context import Info
from schema.errors import result_union
from schema.ids import decode_id, encode_id
from schema.nodes import resolve_visible_nodes
from schema.permissions import IsAuthenticated, allowed_if, require_principal
from schema.units.types import UnitType

__all__ = [
    "FINANCE_ONLY",
    "decode_ids",
    "gid",
    "mutation_result",
    "nodes_of_managed_charges",
    "nodes_of_unit_billing",
    "read_of_project",
    "unit_of",
]

Row = TypeVar("Row")
Payload = TypeVar("Payload")

FINANCE_ONLY = [IsAuthenticated, allowed_if(manages_billing, "Requires one of the roles ADMIN, FINANCE.")]


async def read_of_project(
    info: Info, project_id: strawberry.ID, read: Callable[[Principal, int], Awaitable[Row]]
) -> Row | None:
    """What a billing read answers for one project; None for a project the caller may not see."""
    principal = await require_principal(info)
    try:
        return await read(principal, decode_id(project_id, "Project", field="projectId"))
    except NotFound:
        return None


def mutation_result(payload: type, name: str) -> object:
    """The `<name>` union of a mutation's payload and the errors a billing use case answers."""
    return result_union(payload, name)


def _node_resolver(loader: Callable[[Info], DataLoader[int, Any]], visible: Callable[[Principal, Any], bool]) -> Any:
    async def resolve_nodes(cls: Any, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_visible_nodes(info, node_ids, loader(info), visible, cls.from_row)

    return classmethod(resolve_nodes)


def nodes_of_managed_charges(loader: Callable[[Info], DataLoader[int, Any]]) -> Any:
    """`resolve_nodes` of a type whose rows the project's finance staff see (rules, readings, runs)."""
    return _node_resolver(loader, lambda principal, row: may_manage_charges(principal, project_id=row.project_id))


def nodes_of_unit_billing(loader: Callable[[Info], DataLoader[int, Any]]) -> Any:
    """`resolve_nodes` of a type whose rows belong to a unit's billing (bills, payments, orders)."""
    return _node_resolver(
        loader, lambda principal, row: may_see_unit_billing(principal, project_id=row.project_id, unit_id=row.unit_id)
    )


def decode_ids(values: list[strawberry.ID] | None, type_name: str, field: str) -> tuple[int, ...]:
    return tuple(decode_id(value, type_name, field=field) for value in values or [])


gid = encode_id  # the billing types' short name for it


async def unit_of(info: Info, unit_id: int) -> UnitType:
    return UnitType.from_row(await info.context.loaders.unit.load(unit_id))
