"""The shapes every dataloader here takes: rows by id, rows grouped by a foreign key, or a batch function.

Loaders are declared on a `BatchLoaders` class and built on first use in an operation, so an operation
pays only for the loaders it touches. A loader's batch function holds the session factory, never the
object it hangs on: a fresh set is made for every operation, and without a reference cycle it is freed
the moment the operation ends instead of waiting for the garbage collector (which, with thousands of
live subscriptions in the process, costs the event loop a pause every time it runs). Each batch opens a
short session of its own, which keeps loaders usable from subscriptions and concurrent resolvers alike.
"""

from __future__ import annotations

import inspect
from asyncio import Future, gather, get_running_loop
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import AbstractCache, DataLoader

from db.batch_reads import plain_row_of, rows_by_id, rows_grouped_by

__all__ = ["BatchLoaders", "SessionFactory", "answer", "batched", "by_id", "grouped", "prime_joined", "read_into", "read_value"]

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M")
R = TypeVar("R")
SessionFactory = async_sessionmaker[AsyncSession]
BatchFunction = Callable[[SessionFactory, list[K]], Awaitable[list[V]]]


class BatchLoaders:
    """A namespace of loaders sharing one session factory (see `batched`)."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory


_ABSENT: Any = object()


class _Futures(AbstractCache[K, V]):
    """strawberry's default cache without its key function (our keys are their own cache keys), with the
    futures in a dict of its own that `answer` reads directly: on a page of a hundred rows the two calls
    per look-up through `get` and the key function were thousands of calls a request.

    Primed values (what a page's statements read for its fields) are kept as they are in `values`, and
    get a future only when a `load` asks for one: a page primes hundreds of values, each of which cost a
    future, and its fields read them through `answer`, which needs none."""

    def __init__(self) -> None:
        self.futures: dict[K, Future[V]] = {}
        self.values: dict[K, V] = {}

    def holds(self, key: K) -> bool:
        return key in self.values or key in self.futures

    def get(self, key: K) -> Future[V] | None:
        future = self.futures.get(key)
        if future is None and key in self.values:
            future = self.futures[key] = get_running_loop().create_future()
            future.set_result(self.values[key])
        return future

    def set(self, key: K, value: Future[V]) -> None:
        self.values.pop(key, None)
        self.futures[key] = value

    def delete(self, key: K) -> None:
        had_future = self.futures.pop(key, _ABSENT) is not _ABSENT
        had_value = self.values.pop(key, _ABSENT) is not _ABSENT
        if not (had_future or had_value):
            raise KeyError(key)

    def clear(self) -> None:
        self.futures.clear()
        self.values.clear()


class _Loader(DataLoader[K, V]):
    """A `DataLoader` whose primed values go into its cache's `values` (see `_Futures`)."""

    cache_map: _Futures[K, V]

    def prime_many(self, data: Mapping[K, V], force: bool = False) -> None:
        if self.batch is not None and not self.batch.dispatched and self.batch.tasks:
            # Loads waiting for the batch a primed value answers: strawberry settles them with it.
            super().prime_many(data, force)
            return
        values, futures = self.cache_map.values, self.cache_map.futures
        if force:
            for key in data:
                futures.pop(key, None)
            values.update(data)
            return
        for key, value in data.items():
            if key not in values and key not in futures:
                values[key] = value


class batched(Generic[K, V]):  # noqa: N801 - used like a decorator, as `functools.cached_property` is
    """A loader attribute of a `BatchLoaders` class: `load(session_factory, keys)` answers one value per key.

    The loader is built on first access and then kept on the instance, like `functools.cached_property`.
    """

    def __init__(self, load: BatchFunction[K, V]) -> None:
        self._load = load
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        # The attribute's name, under which the built loader replaces this descriptor on the instance.
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type) -> batched[K, V]: ...

    @overload
    def __get__(self, instance: BatchLoaders, owner: type) -> DataLoader[K, V]: ...

    def __get__(self, instance: BatchLoaders | None, owner: type) -> batched[K, V] | DataLoader[K, V]:
        if instance is None:
            return self
        load, session_factory = self._load, instance._session_factory

        async def load_batch(keys: list[K]) -> list[V]:
            return await load(session_factory, keys)

        loader: DataLoader[K, V] = _Loader(load_fn=load_batch, cache_map=_Futures())
        instance.__dict__[self._name] = loader
        return loader


def by_id(model: type[M], *, joined: Sequence[Any] = (), plain: bool = False) -> batched[int, M | None]:
    """A loader of `model` rows by primary key (None for an id that does not exist), each with its
    `joined` relationships read by the same statement; with `plain`, as Core rows of the mapped columns
    (see `db.batch_reads`): only for loaders whose every reader reads columns, never relationships or
    methods of the model."""

    async def load(session_factory: SessionFactory, ids: list[int]) -> list[M | None]:
        return await rows_by_id(session_factory, model, ids, joined=joined, plain=plain)

    return batched(load)


def grouped(
    model: type[M], key_column: Any, *, order_by: Any, plain: bool = False, joined: Sequence[Any] = ()
) -> batched[int, list[M]]:
    """A loader of the `model` rows whose `key_column` equals each key, in `order_by` order; with
    `plain`, as plain rows of the mapped columns (with their `joined` relationships' rows), on the same
    terms as `by_id`'s."""

    async def load(session_factory: SessionFactory, keys: list[int]) -> list[list[M]]:
        return await rows_grouped_by(
            session_factory, model, key_column, keys, order_by=order_by, plain=plain, joined=joined
        )

    return batched(load)


def answer(loader: DataLoader[K, V], key: K, shape: Callable[[V], R]) -> R | Awaitable[R]:
    """`shape` of the loader's value for `key`: at once when the loader already holds it (primed by the
    list the object came in, or read for an earlier field), else an awaitable that GraphQL awaits.

    An `async def` field costs a coroutine, a task and a turn of the event loop even when its value is in
    hand; on a page of a hundred rows with a few such fields each, that was most of the page's CPU. A
    field that answers through here pays it only when it really waits for the database.
    """
    cache = loader.cache_map if loader.cache else None
    if isinstance(cache, _Futures):
        value = cache.values.get(key, _ABSENT)
        if value is not _ABSENT:
            return shape(value)
        future = cache.futures.get(key)
    else:
        future = cache.get(key) if cache is not None else None
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return shape(future.result())
    return _shaped(loader.load(key), shape)


async def _shaped(pending: Awaitable[V], shape: Callable[[V], Any]) -> R:
    shaped = shape(await pending)
    # A shape may answer through another loader in turn (a field made of two loaders' values).
    return await shaped if inspect.isawaitable(shaped) else shaped


async def read_into(loader: DataLoader[K, V], keys: Iterable[K]) -> None:
    """Read the values of `keys` into `loader`, with one call of its batch function for the keys it does
    not hold yet, so that fields then `answer` from it at once: what a page reads for its fields.

    `load_many` makes a future per key, batches them and gathers them: on a page of a hundred rows that
    is hundreds of futures, done callbacks and turns of the event loop for what one statement returns.
    """
    cache = loader.cache_map
    wanted = list(dict.fromkeys(keys))
    missing = [key for key in wanted if not (cache.holds(key) if isinstance(cache, _Futures) else cache.get(key))]
    if missing:
        loader.prime_many(dict(zip(missing, await loader.load_fn(missing), strict=True)))
    # A key another field of the operation is loading at this moment (an aliased `node`, say) is left to
    # that load and waited for, so that `read_value` answers every key once this returns.
    futures = cache.futures if isinstance(cache, _Futures) else {key: cache.get(key) for key in wanted}
    under_way = [future for key in wanted if (future := futures.get(key)) is not None and not future.done()]
    if under_way:
        await gather(*under_way)


def read_value(loader: DataLoader[K, V], key: K) -> V:
    """The value `read_into` read (or a prime put) into `loader` for `key`, without waiting: the key must
    be held and settled, as every key `read_into` was given is once it returns."""
    cache = loader.cache_map
    if isinstance(cache, _Futures):
        value = cache.values.get(key, _ABSENT)
        if value is not _ABSENT:
            return value  # type: ignore[no-any-return]
    future = cache.get(key)
    if future is None or not future.done():
        raise LookupError(f"{key!r} is not read into the loader yet")
    return future.result()


def prime_joined(loader: DataLoader[int, Any], rows: Iterable[Any], relation: str) -> None:
    """Seed a by-id loader with the rows `relation` names as they came with `rows` (read by the list's
    own statement), so that the fields then answer from it without a statement of their own."""
    loader.prime_many({joined.id: joined for row in rows if (joined := plain_row_of(row, relation)) is not None})
