"""The check before writing a value that must be unique within its scope (a name, a number, an ID number)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["taken_by_another"]


async def taken_by_another(
    session: AsyncSession, id_column: Any, *conditions: ColumnElement[bool], exclude: int | None
) -> bool:
    """Whether a row other than the one with id `exclude` already matches `conditions`.

    The unique constraint stays the last word: a concurrent writer that slips past this check is stopped at
    commit, where the unit of work turns the violation into CONFLICT.
    """
    query = select(id_column).where(*conditions)
    if exclude is not None:
        query = query.where(id_column != exclude)
    return await session.scalar(query.limit(1)) is not None
