"""Keyset pagination behind Relay cursor connections: `first` is capped, cursors encode the last id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError
from strawberry import relay

from schema.ids import database_id

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "after_id", "edges_and_page_info", "empty_connection", "page_size"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "after"

Node = TypeVar("Node")
Connection = TypeVar("Connection")


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
    edges = [relay.Edge(node=present(row), cursor=relay.to_base64(_CURSOR_PREFIX, row.id)) for row in page]
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
    return connection(edges=[], page_info=nothing, total_count=0)  # type: ignore[call-arg]
