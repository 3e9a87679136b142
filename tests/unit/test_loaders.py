"""Per-operation dataloaders: built on first use, and freed by reference counting when the operation ends."""

from __future__ import annotations

import weakref
from typing import Any

import pytest

from schema.batching import BatchLoaders, batched
from schema.loaders import Loaders

NO_DATABASE: Any = object()  # building a loader must not touch the session factory


def test_loaders_are_built_on_first_use_and_kept_for_the_operation() -> None:
    loaders = Loaders(NO_DATABASE)
    assert "dispatch" not in vars(loaders)
    ticket = loaders.dispatch.ticket
    assert loaders.dispatch.ticket is ticket
    assert set(vars(loaders.dispatch)) == {"_session_factory", "ticket"}
    assert "billing" not in vars(loaders)
    assert Loaders(NO_DATABASE).dispatch.ticket is not ticket


@pytest.mark.usefixtures("collector_off")
async def test_an_operations_loaders_are_freed_without_the_garbage_collector() -> None:
    # Async: priming makes a future on the running loop, as it does in an operation (a sync test found
    # no current loop whenever an earlier test had closed the one it made).
    loaders = Loaders(NO_DATABASE)
    used = [loaders.unit, loaders.occupancies_by_unit, loaders.billing.bill, loaders.dispatch.technician_load]
    used[0].prime(1, "unit 1")
    watched = [weakref.ref(loaders), weakref.ref(loaders.dispatch), *(weakref.ref(loader) for loader in used)]
    del loaders, used
    assert [ref() for ref in watched] == [None] * len(watched)


async def test_a_batch_function_gets_the_session_factory_and_every_key_of_the_batch() -> None:
    calls: list[tuple[object, list[int]]] = []

    async def squares(session_factory: object, keys: list[int]) -> list[int]:
        calls.append((session_factory, keys))
        return [key * key for key in keys]

    class Numbers(BatchLoaders):
        square = batched(squares)

    factory: Any = object()
    numbers = Numbers(factory)
    assert await numbers.square.load_many([3, 4, 3]) == [9, 16, 9]
    assert calls == [(factory, [3, 4])]
