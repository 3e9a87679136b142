"""Dataloaders: one statement per batch, whatever the number of objects asked for.

A fresh `Loaders` is made for every operation, so caches never outlive it; each loader (and each
domain's namespace) is built on first use (see `schema.batching`). Each batch opens a short session of
its own, which keeps loaders usable from subscriptions and concurrent resolvers alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from db.models import Building, Occupancy, Party, Project, Technician, Unit
from schema.batching import BatchLoaders, by_id, grouped
from schema.billing.loaders import BillingLoaders
from schema.dispatch.loaders import DispatchLoaders
from schema.invoicing.loaders import InvoicingLoaders

__all__ = ["Loaders"]


class Loaders(BatchLoaders):
    # Plain rows: every reader (`ProjectType`, a bill's time zone and locale, a lookup's check) reads columns only.
    project = by_id(Project, plain=True)
    building = by_id(Building)
    # Nearly every unit shown names its building: read both in one statement. Plain rows: every reader
    # (`UnitType`, the node lookups' permission checks, an occupancy's) reads columns and the building.
    unit = by_id(Unit, joined=(Unit.building,), plain=True)
    party = by_id(Party)
    # Plain rows: every reader (`TechnicianType`, the node lookup's permission check) reads columns only.
    technician = by_id(Technician, plain=True)
    occupancy = by_id(Occupancy)
    occupancies_by_unit = grouped(Occupancy, Occupancy.unit_id, order_by=Occupancy.id)
    occupancies_by_party = grouped(Occupancy, Occupancy.party_id, order_by=Occupancy.id)

    @functools.cached_property
    def billing(self) -> BillingLoaders:
        return BillingLoaders(self._session_factory)

    @functools.cached_property
    def dispatch(self) -> DispatchLoaders:
        return DispatchLoaders(self._session_factory)

    @functools.cached_property
    def invoicing(self) -> InvoicingLoaders:
        return InvoicingLoaders(self._session_factory)

    def decrypted(self, token: str, decrypt: Callable[[str], str]) -> str:
        """`decrypt(token)`, once per token in the operation: a page of 50 tickets names the same few
        technicians, and each Fernet decryption (HMAC, then AES) costs about 20 µs."""
        plain = self._decrypted.get(token)
        if plain is None:
            plain = self._decrypted[token] = decrypt(token)
        return plain

    @functools.cached_property
    def _decrypted(self) -> dict[str, str]:
        return {}

    def prime(self, loader: DataLoader[int, Any], rows: Sequence[Any]) -> None:
        """Seed a by-id loader with rows a query already fetched, so nested fields don't refetch them."""
        loader.prime_many({row.id: row for row in rows})
