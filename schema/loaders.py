"""Dataloaders: one statement per batch, whatever the number of objects asked for.

A fresh `Loaders` is made for every operation, so caches never outlive it. Each batch opens a short
session of its own, which keeps loaders usable from subscriptions and concurrent resolvers alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db.models import Building, Occupancy, Party, Project, Technician, Unit
from schema.batching import BatchLoaders
from schema.billing.loaders import BillingLoaders
from schema.dispatch.loaders import DispatchLoaders

__all__ = ["Loaders"]


class Loaders(BatchLoaders):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory)
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

    def prime(self, loader: DataLoader[int, Any], rows: Sequence[Any]) -> None:
        """Seed a by-id loader with rows a query already fetched, so nested fields don't refetch them."""
        loader.prime_many({row.id: row for row in rows})
