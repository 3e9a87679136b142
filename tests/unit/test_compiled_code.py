"""The Python written for each object plan (schema/compiled_queries.py `_ObjectCode`) answers what
graphql-core answers, shortcut or not.

A small schema runs each document twice, under the compiled executor and under strawberry's standard
one: the results must be equal (data, error messages and paths), and a result without errors must be
the compiled run's own (no fall-back logged). The values are chosen to pass each shortcut's guard and to
miss it: a str subclass, ints out of range, an enum member without a GraphQL name, a `strawberry.cast`
object, an instance of a subclass, an awaitable, a value that is no list; and resolvers read what their
`Info` carries, which the compiled run builds only when read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Generic, TypeVar

import pytest
import strawberry
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.compiled_queries import CompiledQueryExecutor


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Loud(str):
    """A str subclass: GraphQL's String serializer answers it, not the shortcut."""


class Almost(enum.Enum):
    RED = "red"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(relay.Node, Named):
    code: relay.NodeID[int]
    name: str
    count: int
    flag: bool
    price: Decimal
    at: dt.datetime
    day: dt.date
    colour: Colour
    tags: list[str]
    optional_child: Item | None = None

    @strawberry.field
    def total(self) -> Decimal:
        return self.price * self.count

    @strawberry.field
    def seen(self, info: strawberry.Info) -> str:
        """What the resolver's Info carries: the compiled run builds graphql-core's info when read."""
        raw = info._raw_info
        return "|".join([
            str(info.context["user"]),
            info.field_name,
            info.python_name,
            ".".join(str(key) for key in info.path.as_list()),
            str(info.path.typename),
            str(sorted(info.variable_values)),
            ",".join(field.name for field in info.selected_fields),
            raw.parent_type.name,
            str(info.operation.name.value if info.operation.name else None),
            str(dataclasses.replace(info).context["user"]),
        ])

    @strawberry.field
    async def later(self, info: strawberry.Info) -> Item | None:
        await asyncio.sleep(0)
        return self.optional_child

    @classmethod
    def resolve_nodes(cls, *, info: strawberry.Info, node_ids: Any, required: bool = False) -> list[Item | None]:
        return [ITEMS.get(int(node_id)) for node_id in node_ids]


T = TypeVar("T")


@strawberry.type
class Box(Named, Generic[T]):
    """A generic type: its objects are of the generic class, completed as the specialized type."""

    name: str
    content: T


@strawberry.type
class SubItem(Item):
    """A subclass of the type's class: the shortcut leaves it to graphql-core's completion."""


def _item(code: int, **changes: Any) -> Item:
    values: dict[str, Any] = {
        "code": code,
        "name": f"item {code}",
        "count": code,
        "flag": code % 2 == 0,
        "price": Decimal("1.25") * code,
        "at": dt.datetime(2026, 12, 7, 3, code, tzinfo=dt.UTC),
        "day": dt.date(2026, 12, code),
        "colour": Colour.GREEN if code % 2 else Colour.RED,
        "tags": ["a", "b"],
    }
    values.update(changes)
    return Item(**values)


ITEMS = {code: _item(code, optional_child=_item(code + 10)) for code in (1, 2, 3)}


class _Awaited:
    """An object that is its own awaitable: whatever its class, graphql-core awaits it."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        yield from asyncio.sleep(0).__await__()
        return self.value


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return list(ITEMS.values())

    @strawberry.field
    def odd(self, kind: str) -> list[Item | None] | None:  # noqa: C901 - one case per value the guards see
        item = _item(4)
        if kind == "loud":
            return [_item(4, name=Loud("loud"))]
        if kind == "big":
            return [_item(4, count=2**31)]
        if kind == "bool-as-int":
            return [_item(4, count=True)]
        if kind == "not-a-colour":
            return [_item(4, colour=Almost.RED)]
        if kind == "str-colour":
            return [_item(4, colour="red")]
        if kind == "float-price":
            return [_item(4, price=1.5)]
        if kind == "null-name":
            return [_item(4, name=None)]
        if kind == "cast":
            return [strawberry.cast(Item, item)]
        if kind == "subclass":
            return [SubItem(**{field.name: getattr(item, field.name) for field in dataclasses.fields(Item) if field.init})]
        if kind == "awaitable":
            return [_Awaited(item)]  # type: ignore[list-item]
        if kind == "tuple":
            return (item,)  # type: ignore[return-value]
        if kind == "error":
            return [ValueError("no item")]  # type: ignore[list-item]
        if kind == "own-await":
            item.__await__ = lambda: iter(())  # type: ignore[attr-defined]
            return [item]
        return None

    @strawberry.field
    def boxes(self, oddity: str = "") -> list[Box[Item]]:
        boxes = [Box(name=f"box {code}", content=item) for code, item in ITEMS.items()]
        if oddity == "relabel":  # an object whose own definition names another type
            boxes[0].__strawberry_definition__ = Item.__strawberry_definition__  # type: ignore[attr-defined]
        if oddity == "cast":  # an object cast to another type, which the list's type then refuses
            strawberry.cast(Item, boxes[0])
        return boxes

    @strawberry.field
    def named(self) -> list[Named]:
        return [_item(5)]

    @strawberry.field
    def where(self, info: strawberry.Info, label: str = "") -> str:
        """A resolver with arguments: the compiled run hands it graphql-core's resolve-info at once."""
        return f"{label}@{'.'.join(str(key) for key in info.path.as_list())}:{info.path.typename}"


SELECTION = """
  id name count flag price at day colour tags total
  seen
  optionalChild { id name seen later { name seen } }
  later { id colour }
  ... on Named { name }
"""


def _schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    compiled = strawberry.Schema(query=Query, types=[SubItem], execution_context_class=CompiledQueryExecutor)
    standard = strawberry.Schema(query=Query, types=[SubItem], execution_context_class=StrawberryGraphQLCoreExecutionContext)
    return compiled, standard


COMPILED, STANDARD = _schemas()


@contextmanager
def _fall_backs() -> Iterator[list[str]]:
    messages: list[str] = []

    class Records(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("courtyard.graphql.compiled")
    handler, level = Records(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _outcome(result: Any) -> tuple[Any, list[tuple[str, list[Any] | None]]]:
    errors = sorted((error.message, error.path) for error in result.errors or [])
    return result.data, errors


async def _both(query: str, variables: dict[str, Any] | None = None) -> tuple[Any, list[str]]:
    context = {"user": "someone"}
    with _fall_backs() as fall_backs:
        compiled = await COMPILED.execute(query, variable_values=variables, context_value=context)
    standard = await STANDARD.execute(query, variable_values=variables, context_value=context)
    assert _outcome(compiled) == _outcome(standard)
    return compiled, fall_backs


async def test_a_page_of_objects_is_answered_by_the_generated_code_as_graphql_core_answers_it() -> None:
    query = f"query Page($show: Boolean!) {{ items {{ again: name @include(if: $show) {SELECTION} }} }}"
    result, fall_backs = await _both(query, {"show": True})
    assert result.errors is None and fall_backs == []
    first = result.data["items"][0]
    assert first["name"] == "item 1" and first["colour"] == "GREEN" and first["price"] == "1.25"
    assert first["seen"] == "someone|seen|seen|items.0.seen|Item|['show']|seen|Item|Page|someone"
    assert first["optionalChild"]["seen"].startswith("someone|seen|seen|items.0.optionalChild.seen|Item|")
    assert first["optionalChild"]["later"] is None


@pytest.mark.parametrize(
    "kind",
    ["loud", "big", "bool-as-int", "not-a-colour", "str-colour", "float-price", "null-name", "cast", "subclass",
     "awaitable", "tuple", "error", "own-await", "nothing"],
)
async def test_values_the_shortcuts_do_not_take_get_graphql_cores_answer(kind: str) -> None:
    result, fall_backs = await _both(f'{{ odd(kind: "{kind}") {{ {SELECTION} }} }}')
    # An error is never the compiled run's own: graphql-core ran the operation again and answered it.
    assert bool(result.errors) == (kind in {"big", "not-a-colour", "null-name", "error", "own-await"}), result
    assert len(fall_backs) == (1 if result.errors else 0), fall_backs


@pytest.mark.parametrize("oddity", ["", "relabel", "cast"])
async def test_objects_of_a_generic_class_are_answered_as_its_specialized_type(oddity: str) -> None:
    result, fall_backs = await _both(f'{{ boxes(oddity: "{oddity}") {{ name content {{ name colour }} }} }}')
    assert bool(result.errors) == (oddity == "cast")
    assert len(fall_backs) == (1 if result.errors else 0)
    if not result.errors:
        assert result.data["boxes"][0] == {"name": "box 1", "content": {"name": "item 1", "colour": "GREEN"}}


async def test_an_interface_and_aliases_are_answered_alike() -> None:
    result, fall_backs = await _both(
        '{ named { name ... on Item { a: colour b: colour id } } items { n: name } here: where(label: "x") where }'
    )
    assert result.errors is None and fall_backs == []
    assert result.data["named"][0]["a"] == "GREEN"
    assert (result.data["here"], result.data["where"]) == ("x@here:Query", "@where:Query")
