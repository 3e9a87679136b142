"""Dataloaders: one statement per batch, whatever the number of objects asked for.

A fresh `Loaders` is made for every operation, so caches never outlive it. Each batch opens a short
session of its own, which keeps loaders usable from subscriptions and concurrent resolvers alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db.models import Building, Occupancy, Party, Project, Technician, Unit
from schema.billing.loaders import BillingLoaders
from schema.dispatch.loaders import DispatchLoaders

__all__ = ["Loaders"]

Row = TypeVar("Row")


class Loaders:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self.project = self._by_id(Project)
        self.building = self._by_id(Building)
        self.unit = self._by_id(Unit)
        self.party = self._by_id(Party)
        self.technician = self._by_id(Technician)
        self.occupancy = self._by_id(Occupancy)
        self.occupancies_by_unit = self._grouped(Occupancy, Occupancy.unit_id, order_by=Occupancy.id)
        self.occupancies_by_party = self._grouped(Occupancy, Occupancy.party_id, order_by=Occupancy.id)
        self.billing = BillingLoaders(session_factory)
        self.dispatch = DispatchLoaders(session_factory)

    async def _rows(self, statement: Select[Any]) -> Sequence[Any]:
        async with self._session_factory() as session:
            return (await session.scalars(statement)).all()

    def _by_id(self, model: type[Row]) -> DataLoader[int, Row | None]:
        async def load(ids: list[int]) -> list[Row | None]:
            rows = await self._rows(select(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
            found = {row.id: row for row in rows}
            return [found.get(key) for key in ids]

        return DataLoader(load_fn=load)

    def _grouped(self, model: type[Row], key_column: Any, *, order_by: Any) -> DataLoader[int, list[Row]]:
        async def load(keys: list[int]) -> list[list[Row]]:
            rows = await self._rows(select(model).where(key_column.in_(keys)).order_by(order_by))
            groups: dict[int, list[Row]] = defaultdict(list)
            for row in rows:
                groups[getattr(row, key_column.key)].append(row)
            return [groups.get(key, []) for key in keys]

        return DataLoader(load_fn=load)

    def prime(self, loader: DataLoader[int, Any], rows: Sequence[Any]) -> None:
        """Seed a by-id loader with rows a query already fetched, so nested fields don't refetch them."""
        loader.prime_many({row.id: row for row in rows})
