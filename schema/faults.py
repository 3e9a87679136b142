"""Exceptions that are not bugs although they arrive as plain exceptions: what a client's input provoked."""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["number_out_of_range"]


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def number_out_of_range(error: BaseException) -> bool:
    """Whether a number from the request did not fit the database's integers (an ID past 2^63 on SQLite,
    past 2^31 in an INTEGER column on PostgreSQL): the drivers raise OverflowError before sending it."""
    return any(isinstance(cause, OverflowError) for cause in _causes(error))
