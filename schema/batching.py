"""The two shapes every dataloader here takes: rows by id, and rows grouped by a foreign key.

Each batch opens a short session of its own, which keeps loaders usable from subscriptions and
concurrent resolvers alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

__all__ = ["BatchLoaders"]


class BatchLoaders:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def _rows(self, statement: Select[Any]) -> Sequence[Any]:
        async with self._session_factory() as session:
            return (await session.scalars(statement)).all()

    def _by_id(self, model: Any) -> DataLoader[int, Any]:
        async def load(ids: list[int]) -> list[Any]:
            found = {row.id: row for row in await self._rows(select(model).where(model.id.in_(ids)))}
            return [found.get(key) for key in ids]

        return DataLoader(load_fn=load)

    def _grouped(self, model: Any, key_column: Any, *, order_by: Any) -> DataLoader[int, list[Any]]:
        async def load(keys: list[int]) -> list[list[Any]]:
            # The primary key breaks ties, so rows sharing an `order_by` value come in a stable order.
            tie_break = inspect(model).primary_key
            rows = await self._rows(select(model).where(key_column.in_(keys)).order_by(order_by, *tie_break))
            groups: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                groups[getattr(row, key_column.key)].append(row)
            return [groups.get(key, []) for key in keys]

        return DataLoader(load_fn=load)
