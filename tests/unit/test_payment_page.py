"""A page of payments takes its fields' values from the loaders it read them into, except those another
field of the operation is still loading: these it leaves to the field, which waits for that load."""

from __future__ import annotations

from typing import Any

from schema.batching import BatchLoaders, batched
from schema.billing.payment_types import _settled

NO_DATABASE: Any = object()


async def _rows(session_factory: Any, keys: list[int]) -> list[list[str]]:
    return [[f"row of {key}"] for key in keys]


class _Loaders(BatchLoaders):
    rows = batched(_rows)


async def test_a_value_still_loading_is_left_to_the_field_and_a_settled_one_is_taken() -> None:
    loader = _Loaders(NO_DATABASE).rows
    under_way = loader.load(1)

    assert _settled(loader, 1) is None
    assert await under_way == ["row of 1"]
    assert _settled(loader, 1) == ["row of 1"]
