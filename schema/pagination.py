"""Keyset pagination behind Relay cursor connections: `first` is capped, cursors encode the last id."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.types.nodes import SelectedField, Selection

from db.pages import KeysetPage
from schema.ids import database_id, encode_id

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "CountedConnection",
    "after_id",
    "connection_of",
    "edges_and_page_info",
    "empty_connection",
    "page_size",
    "selected_on_nodes",
    "selected_under",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "after"

Node = TypeVar("Node")
Connection = TypeVar("Connection", bound="CountedConnection[Any]")


@strawberry.type
class CountedConnection(relay.Connection[Node], Generic[Node]):
    """A page of a list that can also say how many match over every page."""

    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many match over every page; counted only when asked for.")
    async def total_count(self) -> int:
        return await self.count()


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise GraphQLError(
            f"`first` must be between 1 and {MAX_PAGE_SIZE}.",
            extensions={"code": "BAD_USER_INPUT", "field": "first"},
        )
    return size


def after_id(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        prefix, value = relay.from_base64(after)
        pk = database_id(value)
        if prefix != _CURSOR_PREFIX or pk is None:
            raise ValueError(prefix)
        return pk
    except ValueError:
        raise GraphQLError("`after` is not a cursor this API issued.", extensions={"code": "BAD_USER_INPUT", "field": "after"}) from None


def edges_and_page_info(
    rows: Sequence[Any], size: int, present: Callable[[Any], Node]
) -> tuple[list[relay.Edge[Node]], relay.PageInfo]:
    """`rows` were fetched with limit size + 1: the extra row only tells that another page exists."""
    page = rows[:size]
    edges = [relay.Edge(node=present(row), cursor=encode_id(_CURSOR_PREFIX, row.id)) for row in page]
    page_info = relay.PageInfo(
        has_next_page=len(rows) > size,
        has_previous_page=False,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return edges, page_info


def empty_connection(connection: type[Connection]) -> Connection:
    """A connection with nothing in it: what a list answers when its filter names something that does
    not exist or that the caller may not see (a wrong ID), the same as when nothing matches."""
    nothing = relay.PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)
    return connection(edges=[], page_info=nothing, count=_no_rows)


async def _no_rows() -> int:
    return 0


def connection_of(connection: type[Connection], page: KeysetPage[Any], size: int, present: Callable[[Any], Any]) -> Connection:
    """The connection of one page fetched with limit `size` + 1."""
    edges, page_info = edges_and_page_info(page.rows, size, present)
    return connection(edges=edges, page_info=page_info, count=page.count)


# What `selected_on_nodes` found, by the field's nodes in the parsed document: it depends on nothing
# else (strawberry's selections keep @skip/@include as directives rather than applying them), and the
# compiled plans keep a document's nodes for every request that sends it again. Keyed by the nodes'
# ids, checked against weak references to them (graphql-core hashes a node by its whole subtree).
_SELECTED_ON_NODES_KEPT = 256
_selected_on_nodes: dict[tuple[int, ...], tuple[tuple[weakref.ref[Any], ...], dict[str, list[Selection]]]] = {}


def selected_on_nodes(info: Any) -> dict[str, list[Selection]]:
    """The fields the operation selects on the nodes of the connection being resolved (`edges { node {
    … } }`), through fragments too, each with what it selects in turn: what a list may read for its
    whole page at once."""
    nodes = info._raw_info.field_nodes
    key = tuple(map(id, nodes))
    known = _selected_on_nodes.get(key)
    if known is not None and all(ref() is node for ref, node in zip(known[0], nodes, strict=True)):
        return dict(known[1])
    selected = _selected_on_nodes_of(info)
    if len(_selected_on_nodes) >= _SELECTED_ON_NODES_KEPT:
        _selected_on_nodes.clear()
    _selected_on_nodes[key] = (tuple(map(weakref.ref, nodes)), selected)
    return dict(selected)


def _selected_on_nodes_of(info: Any) -> dict[str, list[Selection]]:
    selected: dict[str, list[Selection]] = {}
    for field in info.selected_fields:
        for edges in _fields(field.selections):
            if edges.name == "edges":
                for node in _fields(edges.selections):
                    if node.name == "node":
                        selected.update(selected_under(node.selections))
    return selected


def selected_under(selections: Sequence[Selection]) -> dict[str, list[Selection]]:
    """The fields among `selections`, fragments flattened, each with its own selections (merged when the
    field is asked for twice, under aliases)."""
    found: dict[str, list[Selection]] = {}
    for field in _fields(selections):
        found.setdefault(field.name, []).extend(field.selections)
    return found


def _fields(selections: Sequence[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)
