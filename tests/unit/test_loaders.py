"""Per-operation dataloaders: built on first use, and freed by reference counting when the operation ends."""

from __future__ import annotations

import weakref
from typing import Any

import pytest

from schema.batching import BatchLoaders, answer, batched, read_into, read_value
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


async def _squares(batches: Any, keys: list[int]) -> list[int]:
    # The "session factory" is the list of the batches run.
    batches.append(keys)
    return [key * key for key in keys]


class _Counted(BatchLoaders):
    square = batched(_squares)

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        super().__init__(self.batches)  # type: ignore[arg-type]


async def test_a_primed_value_answers_at_once_and_loads_as_a_settled_future() -> None:
    numbers = _Counted()
    numbers.square.prime_many({2: 40, 3: 90})

    assert answer(numbers.square, 2, lambda value: value + 1) == 41
    assert await numbers.square.load(3) == 90
    assert await numbers.square.load_many([2, 3, 4]) == [40, 90, 16]
    assert numbers.batches == [[4]]
    # a held value is answered again at once, whether it was primed or loaded
    assert answer(numbers.square, 4, str) == "16"


async def test_priming_keeps_what_is_held_unless_forced() -> None:
    numbers = _Counted()
    assert await numbers.square.load(5) == 25
    numbers.square.prime_many({5: 0, 6: 1})
    numbers.square.prime_many({6: 2})
    assert [answer(numbers.square, key, int) for key in (5, 6)] == [25, 1]

    numbers.square.prime_many({5: 7, 6: 8}, force=True)
    assert [answer(numbers.square, key, int) for key in (5, 6)] == [7, 8]
    assert await numbers.square.load(5) == 7


async def test_a_prime_settles_a_load_waiting_for_its_batch() -> None:
    numbers = _Counted()
    waiting = numbers.square.load(7)
    numbers.square.prime_many({7: 1})
    assert await waiting == 1
    assert numbers.batches == []


async def test_cleared_values_are_read_again() -> None:
    numbers = _Counted()
    numbers.square.prime_many({2: 40, 3: 90})
    numbers.square.clear(2)
    assert await numbers.square.load(2) == 4
    numbers.square.clear_all()
    assert await numbers.square.load(3) == 9
    assert numbers.batches == [[2], [3]]
    with pytest.raises(KeyError):
        numbers.square.clear(11)


async def test_read_into_reads_the_keys_not_held_in_one_batch_and_read_value_gives_them() -> None:
    numbers = _Counted()
    numbers.square.prime_many({2: 40})
    await read_into(numbers.square, [2, 3, 4, 3])
    assert numbers.batches == [[3, 4]]
    assert [read_value(numbers.square, key) for key in (2, 3, 4)] == [40, 9, 16]
    with pytest.raises(LookupError):
        read_value(numbers.square, 5)


async def test_read_into_waits_for_a_key_another_field_is_loading_and_leaves_it_to_that_load() -> None:
    # given a key another field of the operation is loading at that moment
    numbers = _Counted()
    under_way = numbers.square.load(3)

    # when a page reads it with others
    await read_into(numbers.square, [2, 3])

    # then the page's own batch reads only the others, and every key is in hand once it returns
    assert [read_value(numbers.square, key) for key in (2, 3)] == [4, 9]
    assert sorted(numbers.batches) == [[2], [3]]
    assert await under_way == 9
