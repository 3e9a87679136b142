"""Resolving Relay nodes through per-operation loaders, filtered by what the caller may see."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from kernel.principal import Principal
from schema.context import Info
from schema.ids import database_id

__all__ = ["resolve_visible_nodes"]

Node = TypeVar("Node")


async def resolve_visible_nodes(
    info: Info,
    node_ids: Iterable[str],
    loader: DataLoader[int, Any],
    visible: Callable[[Principal, Any], bool],
    present: Callable[[Any], Node],
) -> list[Node | None]:
    """Rows the caller may see, as GraphQL objects; anything else (or an id that can name no row) is None."""
    principal = await info.context.principal()
    ids = [database_id(node_id) for node_id in node_ids]
    rows = await loader.load_many([i for i in ids if i is not None])
    found = iter(rows)
    result: list[Node | None] = []
    for node_id in ids:
        row = next(found) if node_id is not None else None
        result.append(present(row) if row is not None and principal is not None and visible(principal, row) else None)
    return result
