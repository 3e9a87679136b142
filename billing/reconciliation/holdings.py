"""What matches hold, wherever they hold it: a match of one line and one payment holds both in its own row
(`ReconciliationMatch.line_id`, `.payment_id`), any other match through its `MatchLink`s. Every question
"is this line or payment matched?" asks here, so that neither place is forgotten."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, union_all

from db.models import MatchLink, ReconciliationMatch

__all__ = ["Among", "held_line_ids", "held_payment_ids", "line_is_held", "payment_is_held"]


def line_is_held(line_id: Any) -> ColumnElement[bool]:
    """Whether a match holds the line `line_id` (a column or a value)."""
    return or_(exists().where(ReconciliationMatch.line_id == line_id), exists().where(MatchLink.line_id == line_id))


def payment_is_held(payment_id: Any) -> ColumnElement[bool]:
    """Whether a match holds the payment `payment_id` (a column or a value)."""
    return or_(exists().where(ReconciliationMatch.payment_id == payment_id), exists().where(MatchLink.payment_id == payment_id))


Among = Sequence[int] | Callable[[Any], ColumnElement[bool]] | None
"""Which ids a question is about: all, these ids, or those a condition on the id column picks."""


def held_line_ids(among: Among = None) -> Any:
    """The ids of the lines matches hold (of `among` only, when given)."""
    return _held(ReconciliationMatch.line_id, MatchLink.line_id, among)


def held_payment_ids(among: Among = None) -> Any:
    """The ids of the payments matches hold (of `among` only, when given)."""
    return _held(ReconciliationMatch.payment_id, MatchLink.payment_id, among)


def _held(paired: Any, linked: Any, among: Among) -> Any:
    def narrowed(column: Any) -> list[ColumnElement[bool]]:
        if among is None:
            return []
        return [among(column) if callable(among) else column.in_(among)]

    return union_all(*(select(column).where(column.is_not(None), *narrowed(column)) for column in (paired, linked)))
