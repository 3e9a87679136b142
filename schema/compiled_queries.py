"""Queries run from a plan compiled once per document, with graphql-core's executor as the fallback.

graphql-core completes every field of every row through the same general machinery: it collects the
selection, builds a path and a resolve-info object, wraps the resolver in strawberry's argument, info and
extension handling, and checks the value's type, even for a field that only reads an attribute. On a page
of 50 tickets that is most of the request's CPU. Here the work that depends only on the document is done
once per (document text, operation name, values of the variables @skip/@include read): for each object
type reached, the fields graphql-core's own `collect_fields` collects, and for each field what completing
it takes. A request then only calls resolvers and serializers:

- a field strawberry answers with an attribute read (no resolver, no extension, no permission) is read
  with `getattr`, as strawberry's basic-field resolver does;
- a resolver without permission classes, extensions or exception handlers, whose arguments the
  document leaves out and which all have defaults, is called as strawberry's wrapper calls it (the
  source as self/root/parent, an `Info` if it asks for one, every argument left to its default: the
  default strawberry put in the schema is the Python parameter's own);
- relay's `Node.id`, on a class that keeps relay's `resolve_id` and `resolve_typename`, is encoded
  straight from the row's id and the parent type's name, the string the resolver's `GlobalID` serializes
  to, without the `Info`, the `GlobalID` and the serializer in between;
- every other field calls the very resolver graphql-core would (`GraphQLField.resolve`: strawberry's
  argument conversion, permission classes and field extensions included) with the resolve-info object and
  arguments graphql-core would build;
- leaves are serialized by their type's `coerce_output_value`, objects of an interface or union go
  through the type's `resolve_type` and every `is_type_of`, exactly as graphql-core does;
- awaitables are gathered a wave at a time (so dataloaders batch as they do under graphql-core), and
  each value is then completed with the same plan.

Each object plan is then written out as a Python function the first time it runs (`_ObjectCode`, as
graphql-jit does for JavaScript): one statement sequence per field instead of a loop that asks every
field what kind it is, attribute names and resolvers bound as constants, and the completion of the
values a page is made of inline behind a guard on the value's exact type (a `str` for String and ID, an
enum member with a GraphQL name, a strawberry scalar's own Python type, a list, an object of the field's
own strawberry class), anything else handed to the completers above. A resolver that asks for an `Info`
gets one whose resolve-info is built only when read (`_LazyInfo`): resolvers read its context and
little else, and a path plus a resolve-info per row and field was a good part of a page's CPU.

Anything the plan does not cover falls back to graphql-core for the whole operation: mutations and
subscriptions, introspection fields, resolve-hook middleware, fragment variables, async iterables.
So does ANY exception raised during the compiled run (a resolver's error, a null for a non-null field,
a value of the wrong type): queries read only, so graphql-core runs the operation again from the start
and its errors, null propagation and error formatting are the ones the client sees. Validation (depth,
aliases, tokens) and the schema extensions (per-operation loaders, error policy) run around execution
and are the same for both paths.
"""

from __future__ import annotations

import asyncio
import binascii
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from keyword import iskeyword
from types import CodeType, CoroutineType, GeneratorType
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
    GraphQLUnionType,
    OperationType,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from graphql.execution.values import get_argument_values
from graphql.language import (
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.pyutils import Path, is_iterable
from graphql.pyutils import is_awaitable as default_is_awaitable
from strawberry import UNSET, relay
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info as StrawberryInfo
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from schema.ids import encode_id

__all__ = ["CompiledQueryExecutor"]

log = logging.getLogger("courtyard.graphql.compiled")

_PLAN_CACHE_SIZE = 256
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class _NotCompiled(Exception):
    """The compiled run cannot answer this request the way graphql-core would: fall back."""


# A response path is kept as plain (previous, key, type name) tuples, the fields of graphql-core's Path
# without its constructor's cost, and made a Path (`_as_path`) where a resolve-info is built: most never are.
_PathTuple = tuple[Any, str | int, str | None]
# A completer turns what a resolver returned into the response value. Awaitables it meets (list items)
# are queued in `pending` with the completer that finishes them; the slot holds None until then.
_Pending = list[tuple[Any, "_Completer", "_PathTuple | None", "GraphQLResolveInfo | None", Any, Any]]
_Completer = Callable[["CompiledQueryExecutor", Any, "_PathTuple | None", "GraphQLResolveInfo | None", _Pending], Any]


class _FieldPlan:
    __slots__ = ("arguments", "attribute", "complete", "completion_needs_info", "definition", "details", "direct", "global_id", "key", "leaf_attribute", "nodes", "parent_type", "plan_for", "resolve", "typename")

    def __init__(self) -> None:
        self.key = ""
        self.typename: str | None = None  # set for `__typename`: the answer is the parent type's name
        self.attribute: str | None = None  # set when the value is a plain attribute read
        self.leaf_attribute: str | None = None  # set when it is, and a scalar or an enum besides
        self.resolve: Any = None
        self.direct: _DirectCall | None = None  # set when strawberry's wrapper would only call the function
        self.global_id = False  # set for relay's own `Node.id` resolver (see `_global_id`)
        self.definition: Any = None
        self.nodes: list[FieldNode] = []
        self.details: list[FieldDetails] = []
        self.parent_type: GraphQLObjectType | None = None
        self.arguments = False
        self.completion_needs_info = False  # whether completing its value reads the field's resolve-info
        self.complete: _Completer | None = None
        self.plan_for: _PlanFor | None = None  # the object plans of its selection, one per runtime type


class _DirectCall:
    """A resolver without extensions (permission classes are extensions) or exception handlers, called
    without arguments: strawberry's wrapper would only hand it the source where it asks for self, root
    or parent, an `Info` where it asks for one, and the defaults of its arguments (the schema's, which
    strawberry took from the parameters). The generated code (`_ObjectCode._resolved`) calls it the same
    way, without the wrapper's layers."""

    __slots__ = ("function", "info_class", "info_name", "source_names", "source_positional", "strawberry_field")

    def __init__(self, strawberry_field: Any, info_class: Any) -> None:
        resolver = strawberry_field.base_resolver
        self.function = resolver.wrapped_func
        self.strawberry_field = strawberry_field
        self.info_class = info_class
        self.source_positional = resolver.self_parameter is not None
        self.source_names = tuple(
            parameter.name for parameter in (resolver.parent_parameter, resolver.root_parameter) if parameter is not None
        )
        self.info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None


def _direct_call(field_def: Any, graphql_schema: Any) -> _DirectCall | None:
    strawberry_field = (field_def.extensions or {}).get("strawberry-definition")
    strawberry_schema = (graphql_schema.extensions or {}).get("strawberry-definition")
    if strawberry_field is None or strawberry_schema is None or field_def.resolve is None:
        return None
    resolver = strawberry_field.base_resolver
    if (
        resolver is None
        or getattr(field_def.resolve, "_is_default", True)
        or strawberry_field.extensions
        or any(argument.default is UNSET for argument in strawberry_field.arguments)
        or strawberry_schema.schema_converter._exception_handler_specs
        or not callable(resolver.wrapped_func)
    ):
        return None
    return _DirectCall(strawberry_field, strawberry_schema.config.info_class)


_NODE_ID_FUNCTION = next(
    field.base_resolver.wrapped_func.__func__
    for field in relay.Node.__strawberry_definition__.fields  # type: ignore[attr-defined]
    if field.python_name == "_id"
)
_node_id_attributes: dict[type, str | None] = {}


def _is_relay_node_id(direct: _DirectCall | None, return_type: GraphQLOutputType) -> bool:
    """Whether the field is relay's `Node.id` as strawberry declares it, answered as an `ID!`."""
    return (
        direct is not None
        and getattr(direct.function, "__func__", None) is _NODE_ID_FUNCTION
        and isinstance(return_type, GraphQLNonNull)
        and return_type.of_type is GraphQLID
    )


def _node_id_attribute(node_class: type) -> str | None:
    """The attribute relay's `Node.id` reads off an object of this class, when the class keeps relay's
    own `resolve_id` and `resolve_typename`; None when it does not (then the resolver runs)."""
    try:
        return _node_id_attributes[node_class]
    except KeyError:
        pass
    attribute = None
    if (
        issubclass(node_class, relay.Node)
        and node_class.resolve_id.__func__ is relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
        and node_class.resolve_typename.__func__ is relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    ):
        try:
            attribute = node_class.resolve_id_attr()
        except Exception:  # noqa: BLE001 (no single NodeID: the resolver runs and raises its own error)
            attribute = None
    _node_id_attributes[node_class] = attribute
    return attribute


_ID_TYPES = frozenset({int, str})


def _global_id(source: Any, type_name: str) -> str | None:
    """What relay's `Node.id` answers, serialized, without its resolver: `GlobalID(type_name,
    str(getattr(source, <NodeID attribute>)))` as base64 of "<parent type>:<id>" (strawberry's
    `resolve_typename` reads the parent type off the path). None where the resolver must run instead:
    another `resolve_id` or `resolve_typename`, or an id that is not a plain int or str."""
    attribute = _node_id_attribute(type(source))
    if attribute is None:
        return None
    node_id = getattr(source, attribute, None)
    if type(node_id) not in _ID_TYPES:
        return None
    return encode_id(type_name, node_id)


class _ObjectPlan:
    __slots__ = ("fields", "run", "type")

    def __init__(self, object_type: GraphQLObjectType) -> None:
        self.type = object_type
        self.fields: list[_FieldPlan] = []
        # Completes an object of the type with this selection: Python written for it on first use.
        self.run: _Runner = self._compile_and_run

    def _compile_and_run(self, executor: CompiledQueryExecutor, source: Any, path: _PathTuple | None, pending: _Pending) -> dict[str, Any]:
        self.run = _ObjectCode(self, executor).compile()
        return self.run(executor, source, path, pending)


class _DocumentPlans:
    """The plans of one operation of one document, one per combination of @skip/@include variables."""

    __slots__ = ("by_directive_values", "directive_variables")

    def __init__(self, directive_variables: tuple[str, ...]) -> None:
        self.directive_variables = directive_variables
        self.by_directive_values: dict[tuple[Any, ...], _ObjectPlan] = {}


_plans: OrderedDict[tuple[int, str, str | None], _DocumentPlans] = OrderedDict()


def _directive_variables(selection_sets: list[SelectionSetNode]) -> tuple[str, ...]:
    """The variables any @skip or @include of the document reads: the plan depends on their values."""
    names: set[str] = set()
    stack = list(selection_sets)
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                if directive.name.value in {"skip", "include"}:
                    names.update(a.value.name.value for a in directive.arguments or () if isinstance(a.value, VariableNode))
            if isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
                stack.append(selection.selection_set)
    return tuple(sorted(names))


def _is_plain_attribute(field_def: Any) -> str | None:
    """The attribute name when strawberry answers the field by reading it off the source, else None."""
    resolve = field_def.resolve
    if resolve is None or not getattr(resolve, "_is_default", False):
        return None
    strawberry_field = (field_def.extensions or {}).get("strawberry-definition")
    if strawberry_field is None or strawberry_field.default_resolver is not getattr:
        return None
    return strawberry_field.python_name


class CompiledQueryExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, which runs queries from a compiled plan when it can (module docstring)."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        if not self._compilable(serially):
            return super().execute_operation(serially)
        pending: _Pending = []
        try:
            data = self._plan().run(self, self.root_value, None, pending)
        except Exception as error:  # noqa: BLE001 (any failure: graphql-core answers instead)
            self._fell_back(error)
            if pending:
                return self._fall_back_after(pending, serially)
            return super().execute_operation(serially)
        if not pending:
            return self.finish(self._response(data))
        return self._finish_async(data, pending, serially)

    async def _finish_async(self, data: dict[str, Any], pending: _Pending, serially: bool | None) -> Any:
        try:
            await self._settle(pending)
        except Exception as error:  # noqa: BLE001 (any failure: graphql-core answers instead)
            self._fell_back(error)
            return await self._standard(serially)
        return self._response(data)

    def _response(self, data: dict[str, Any]) -> Any:
        """The response of a compiled run, after which the executor has nothing left to do. graphql-core's
        executor holds its resolvers' helpers, which are bound methods of the executor: a reference cycle
        that kept the executor, and through it everything the request made, alive until the collector
        found it. Dropping the helpers lets reference counting free the request at once, so the collector
        runs half as often and finds no garbage in its older generations (a full collection stalled the
        loop 30-60 ms twice a second under load)."""
        response = self.build_response(data)
        del self.async_helpers
        return response

    async def _fall_back_after(self, pending: _Pending, serially: bool | None) -> Any:
        """graphql-core's run, once what the compiled run started has ended (it shares the loaders)."""
        await asyncio.gather(*(entry[0] for entry in pending), return_exceptions=True)
        return await self._standard(serially)

    async def _standard(self, serially: bool | None) -> Any:
        result = super().execute_operation(serially)
        return await result if self.is_awaitable(result) else result

    def _fell_back(self, error: Exception) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("graphql-core runs %s: %s: %s", self._operation_label(), type(error).__name__, error)

    def _operation_label(self) -> str:
        return self.operation.name.value if self.operation.name else "the anonymous operation"

    def _compilable(self, serially: bool | None) -> bool:
        manager = self.middleware_manager
        return (
            serially is None
            and self.operation.operation is OperationType.QUERY
            and (manager is None or not manager.middlewares)
            and self.abort_signal is None
            and self.hooks is None
            and self.error_propagation
            and not any(fragment.variable_signatures for fragment in self.fragments.values())
        )

    # --- plans --------------------------------------------------------------------------------------

    def _plan(self) -> _ObjectPlan:
        operation: OperationDefinitionNode = self.operation
        location = operation.loc
        if location is None:
            raise _NotCompiled("the document has no source text to key its plan by")
        key = (id(self.schema), location.source.body, operation.name.value if operation.name else None)
        document = _plans.get(key)
        if document is None:
            selection_sets = [operation.selection_set] + [f.definition.selection_set for f in self.fragments.values()]
            document = _plans[key] = _DocumentPlans(_directive_variables(selection_sets))
            if len(_plans) > _PLAN_CACHE_SIZE:
                _plans.popitem(last=False)
        else:
            _plans.move_to_end(key)
        coerced = self.variable_values.coerced
        values = tuple(coerced.get(name) for name in document.directive_variables)
        plan = document.by_directive_values.get(values)
        if plan is None:
            root_type = self.schema.get_root_type(OperationType.QUERY)
            if root_type is None:
                raise _NotCompiled("the schema has no query type")
            grouped, defer_usages, _forbidden = collect_fields(
                self.schema, self.fragments, self.variable_values, root_type, operation, self.hide_suggestions
            )
            plan = self._object_plan(root_type, grouped, defer_usages)
            document.by_directive_values[values] = plan
        return plan

    def _object_plan(self, object_type: GraphQLObjectType, grouped: dict[str, list[FieldDetails]], defer_usages: list[Any]) -> _ObjectPlan:
        if defer_usages:
            raise _NotCompiled("@defer")
        plan = _ObjectPlan(object_type)
        for key, details in grouped.items():
            field = _FieldPlan()
            field.key = key
            field.details = details
            field.nodes = [detail.node for detail in details]
            field.parent_type = object_type
            if any(detail.fragment_variable_values is not None or detail.defer_usage is not None for detail in details):
                raise _NotCompiled("fragment variables or @defer")
            name = field.nodes[0].name.value
            if name == "__typename":
                field.typename = object_type.name
                plan.fields.append(field)
                continue
            definition = self.schema.get_field(object_type, name)
            if definition is None or name.startswith("__"):
                raise _NotCompiled(f"the field {name} (introspection or unknown)")
            field.definition = definition
            field.resolve = definition.resolve or self.field_resolver
            field.plan_for = self._subplan_builder(field)
            passed = any(node.arguments for node in field.nodes)
            field.arguments = bool(definition.args) or passed
            field.attribute = None if field.arguments else _is_plain_attribute(definition)
            if field.attribute is None and not passed:
                field.direct = _direct_call(definition, self.schema)
                field.global_id = _is_relay_node_id(field.direct, definition.type)
            field.complete = self._completer(definition.type, field)
            field.completion_needs_info = _completion_needs_info(definition.type)
            if field.attribute is not None and is_leaf_type(get_named_type(definition.type)):
                field.leaf_attribute = field.attribute
            plan.fields.append(field)
        return plan

    def _completer(self, return_type: GraphQLOutputType, field: _FieldPlan) -> _Completer:
        if isinstance(return_type, GraphQLNonNull):
            return _non_null(self._completer(return_type.of_type, field))
        if isinstance(return_type, GraphQLList):
            return _list_of(self._completer(return_type.of_type, field))
        if isinstance(return_type, GraphQLEnumType):
            return _enum(return_type)
        if isinstance(return_type, GraphQLObjectType):
            return _object_of(return_type, field.plan_for)  # type: ignore[arg-type]
        if isinstance(return_type, (GraphQLInterfaceType, GraphQLUnionType)):
            return _abstract(return_type, field.plan_for)  # type: ignore[arg-type]
        return _scalar(return_type)

    def _subplan_builder(self, field: _FieldPlan) -> Callable[[CompiledQueryExecutor, GraphQLObjectType], _ObjectPlan]:
        """The object plans of the field's selection, built on first use for each runtime type."""
        plans: dict[str, _ObjectPlan] = {}

        def plan_for(executor: CompiledQueryExecutor, object_type: GraphQLObjectType) -> _ObjectPlan:
            plan = plans.get(object_type.name)
            if plan is None:
                grouped, defer_usages, _forbidden = collect_subfields(
                    executor.schema, executor.fragments, executor.variable_values, executor.operation, object_type,
                    field.details, executor.hide_suggestions,
                )
                plan = plans[object_type.name] = executor._object_plan(object_type, grouped, defer_usages)
            return plan

        return plan_for

    # --- running ------------------------------------------------------------------------------------

    async def _settle(self, pending: _Pending) -> None:
        """Await the queued values a wave at a time and complete them, until nothing is left to await.

        Every awaitable of a wave is awaited to its end even when one fails, so that no resolver is left
        running against the operation's loaders when graphql-core starts again."""
        while pending:
            wave = pending[:]
            pending.clear()
            values = await asyncio.gather(*(entry[0] for entry in wave), return_exceptions=True)
            failure = next((value for value in values if isinstance(value, BaseException)), None)
            if failure is not None:
                raise _NotCompiled("a resolver failed") from failure
            try:
                for (_awaitable, complete, path, info, container, slot), value in zip(wave, values, strict=True):
                    container[slot] = complete(self, value, path, info, pending)
            except Exception:
                if pending:
                    await asyncio.gather(*(entry[0] for entry in pending), return_exceptions=True)
                raise


def _as_path(path: _PathTuple | None) -> Path | None:
    """graphql-core's Path of a path kept as tuples."""
    if path is None:
        return None
    previous, key, type_name = path
    return Path(_as_path(previous), key, type_name)


def _raise_if_error(value: Any) -> None:
    if isinstance(value, Exception):
        raise _NotCompiled("a resolver returned an error") from value


def _non_null(inner: _Completer) -> _Completer:
    def complete(executor: CompiledQueryExecutor, value: Any, path: _PathTuple | None, info: Any, pending: _Pending) -> Any:
        completed = inner(executor, value, path, info, pending)
        if completed is None:
            raise _NotCompiled("null for a non-null field")
        return completed

    return complete


def _list_of(inner: _Completer) -> _Completer:
    def complete(executor: CompiledQueryExecutor, value: Any, path: _PathTuple | None, info: Any, pending: _Pending) -> Any:
        if value is None or value is Undefined:
            return None
        _raise_if_error(value)
        if executor.is_async_iterable(value) or not is_iterable(value):
            raise _NotCompiled("an async iterable or no iterable for a list")
        is_awaitable = executor.is_awaitable
        items: list[Any] = []
        for index, item in enumerate(value):
            item_path = (path, index, None)
            if is_awaitable(item):
                pending.append((item, inner, item_path, info, items, index))
                items.append(None)
            else:
                items.append(inner(executor, item, item_path, info, pending))
        return items

    return complete


def _scalar(scalar_type: Any) -> _Completer:
    coerce = scalar_type.coerce_output_value
    # graphql-core's own serializers answer these values unchanged; anything else goes through them.
    if scalar_type is GraphQLString:
        identity: type | None = str
    elif scalar_type is GraphQLBoolean:
        identity = bool
    else:
        identity = None
    is_int = scalar_type is GraphQLInt

    def complete(executor: CompiledQueryExecutor, value: Any, path: _PathTuple | None, info: Any, pending: _Pending) -> Any:
        if value is None or value is Undefined:
            return None
        kind = type(value)
        if kind is identity or (is_int and kind is int and _INT_MIN <= value <= _INT_MAX):
            return value
        if isinstance(value, Exception):  # `_raise_if_error`, inline: a leaf of every row passes here
            raise _NotCompiled("a resolver returned an error") from value
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NotCompiled(f"{scalar_type} serialized {value!r} to nothing")
        return coerced

    return complete


def _enum_names(enum_type: GraphQLEnumType) -> dict[Any, str]:
    """The name strawberry's enum answers for each member's value: the first name with that value.
    Empty when the type wraps no Python enum, or a value is unhashable (then strawberry looks up each)."""
    names: dict[Any, str] = {}
    if getattr(enum_type, "wrapped_cls", None) is None:
        return names
    for name, definition in enum_type.values.items():
        try:
            names.setdefault(definition.value, name)
        except TypeError:
            return {}
    return names


def _enum(enum_type: GraphQLEnumType) -> _Completer:
    coerce = enum_type.coerce_output_value
    wrapped = getattr(enum_type, "wrapped_cls", None)
    names = _enum_names(enum_type)

    def complete(executor: CompiledQueryExecutor, value: Any, path: _PathTuple | None, info: Any, pending: _Pending) -> Any:
        if value is None or value is Undefined:
            return None
        if names and type(value) is wrapped:
            name = names.get(value._value_)  # `.value` without the enum property's call
            if name is not None:
                return name
        _raise_if_error(value)
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NotCompiled(f"{enum_type} serialized {value!r} to nothing")
        return coerced

    return complete


_PlanFor = Callable[[CompiledQueryExecutor, GraphQLObjectType], _ObjectPlan]


def _object_of(object_type: GraphQLObjectType, plan_for: _PlanFor) -> _Completer:
    is_type_of = object_type.is_type_of

    def complete(executor: CompiledQueryExecutor, value: Any, path: _PathTuple | None, info: Any, pending: _Pending) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception):  # `_raise_if_error`, inline: every object of a page passes here
            raise _NotCompiled("a resolver returned an error") from value
        if is_type_of is not None:
            matches = is_type_of(value, info)
            if executor.is_awaitable(matches):
                _close(matches)
                raise _NotCompiled("an awaitable is_type_of")
            if not matches:
                raise _NotCompiled(f"{value!r} is no {object_type}")
        return plan_for(executor, object_type).run(executor, value, path, pending)

    return complete


def _abstract(abstract_type: GraphQLInterfaceType | GraphQLUnionType, plan_for: _PlanFor) -> _Completer:
    def complete(executor: CompiledQueryExecutor, value: Any, path: _PathTuple | None, info: Any, pending: _Pending) -> Any:
        if value is None or value is Undefined:
            return None
        _raise_if_error(value)
        resolve_type = abstract_type.resolve_type or executor.type_resolver
        runtime_name = resolve_type(value, info, abstract_type)
        if executor.is_awaitable(runtime_name):
            _close(runtime_name)
            raise _NotCompiled("an awaitable resolve_type")
        # graphql-core's checks of the runtime type, with its errors, when the type is not a valid one.
        runtime_type = executor.ensure_valid_runtime_type(runtime_name, abstract_type, [], info, value)  # type: ignore[arg-type]
        object_type_is = runtime_type.is_type_of
        if object_type_is is not None:
            matches = object_type_is(value, info)
            if executor.is_awaitable(matches):
                _close(matches)
                raise _NotCompiled("an awaitable is_type_of")
            if not matches:
                raise _NotCompiled(f"{value!r} is no {runtime_type}")
        return plan_for(executor, runtime_type).run(executor, value, path, pending)

    return complete


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


# --- generated code --------------------------------------------------------------------------------------

_Runner = Callable[[CompiledQueryExecutor, Any, "_PathTuple | None", _Pending], dict[str, Any]]


def _nested_code(code: CodeType, name: str) -> list[CodeType]:
    """The code of the functions named `name` defined anywhere inside `code`."""
    found = []
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            if constant.co_name == name:
                found.append(constant)
            found += _nested_code(constant, name)
    return found


# strawberry's own `is_type_of` (the one it gives types that implement interfaces) reads only the object.
_STRAWBERRY_IS_TYPE_OF = frozenset(
    _nested_code(GraphQLCoreConverter.from_object.__code__, "is_type_of")
    + _nested_code(GraphQLCoreConverter._get_is_type_of.__code__, "is_type_of")
)


def _reads_only_the_object(is_type_of: Callable[..., Any]) -> bool:
    return getattr(is_type_of, "__code__", None) in _STRAWBERRY_IS_TYPE_OF


def _completion_needs_info(return_type: GraphQLOutputType) -> bool:
    """Whether completing the value calls `resolve_type` or an `is_type_of` that reads the field's info."""
    while isinstance(return_type, (GraphQLNonNull, GraphQLList)):
        return_type = return_type.of_type
    if isinstance(return_type, (GraphQLInterfaceType, GraphQLUnionType)):
        return True
    is_type_of = getattr(return_type, "is_type_of", None)
    return is_type_of is not None and not _reads_only_the_object(is_type_of)


class _LazyInfo(StrawberryInfo):  # type: ignore[type-arg]
    """strawberry's `Info` whose graphql-core resolve-info is built when first read.

    Resolvers read `info.context` and little else: building graphql-core's resolve-info (a path and a
    twelve-field tuple) for every row was most of what calling them cost. The context is the operation's,
    the one graphql-core's info would carry; anything else builds that info, with the field's path, the
    same as graphql-core's. Made by `_ObjectCode` as `__new__` plus three attributes, so that the
    dataclass `__init__` (and `dataclasses.replace`) still takes a ready resolve-info."""

    @property  # type: ignore[override]
    def _raw_info(self) -> GraphQLResolveInfo:
        raw = self.__dict__.get("_built")
        if raw is None:
            executor, field, path = self._lazy
            raw = self.__dict__["_built"] = executor.build_resolve_info(
                field.definition, field.nodes, field.parent_type, _as_path((path, field.key, field.parent_type.name))
            )
        return raw

    @_raw_info.setter
    def _raw_info(self, raw: GraphQLResolveInfo) -> None:
        self.__dict__["_built"] = raw
        self.context = raw.context

    # `Info.context` reads the resolve-info; here it is the object's own attribute, set when it is made.
    context: Any = None


_AWAITABLE_BASES = (CoroutineType, GeneratorType)
# Types implemented in C whose objects have neither an `__await__` nor a dictionary to hold one; they all
# look attributes up the generic way, as `object` does (a `str` enum's members do too).
_NEVER_AWAITABLE = frozenset({str, int, bool, float, list, tuple, dict, Decimal, dt.date, dt.datetime, dt.time})
_GENERIC_GETATTRIBUTE = frozenset({object.__getattribute__} | {kind.__getattribute__ for kind in _NEVER_AWAITABLE})


def _lacks(cls: type, variable: str, *names: str) -> str | None:
    """A condition on a value of exactly the type `cls` that holds when `hasattr(value, name)` is false
    for each name, or None when the type cannot tell. Empty when no value of the type has them."""
    if cls in _NEVER_AWAITABLE:
        return ""
    if issubclass(cls, _AWAITABLE_BASES) or cls.__getattribute__ not in _GENERIC_GETATTRIBUTE:
        return None
    for klass in cls.__mro__[:-1]:
        if {*names, "__getattr__", "__class__"} & vars(klass).keys():
            return None
    if not cls.__dictoffset__:
        return ""
    # The generic look-up then finds them only in the object's own dictionary.
    return "".join(f" and {name!r} not in {variable}.__dict__" for name in names)


def _not_awaitable(cls: type, variable: str) -> str | None:
    """A condition on a value of exactly the type `cls` that holds when graphql-core's `is_awaitable`
    would say no (not a coroutine or generator, no `__await__` attribute), or None when the type cannot
    tell: then the generated code calls `is_awaitable`. Empty when no value of the type can be one."""
    return _lacks(cls, variable, "__await__")


def _generic_origin(definition: Any) -> type | None:
    """The generic class a strawberry type specializes, when its objects carry the generic's own
    definition (as relay's `Edge` does), else None."""
    generic = getattr(getattr(definition, "concrete_of", None), "origin", None)
    if not isinstance(generic, type):
        return None
    own = vars(generic).get("__strawberry_definition__")
    return generic if own is definition.concrete_of and own.origin is generic else None


def _identifier(name: str) -> bool:
    return name.isidentifier() and not iskeyword(name)


class _ObjectCode:
    """The Python of one object plan: a function completing an object of the type with its selection,
    as the completers (`_non_null`, `_list_of`, `_scalar`, `_enum`, `_object_of`) and the plan's fields
    would, with each field's work written out: the attribute read or the resolver call with its
    arguments named, and the value's completion inline for the values a page is made of (strings,
    booleans, ints in range, enum members, a strawberry scalar's own Python type, lists, and objects of
    the field's own strawberry type). Any other value goes to the field's completer, which answers it
    or raises, as before; so does an awaitable, which is queued as before. The generated code makes no
    decision of its own: every shortcut is guarded by a test that the general path would pass the same
    way."""

    def __init__(self, plan: _ObjectPlan, executor: CompiledQueryExecutor) -> None:
        self.plan = plan
        self.executor = executor
        self.lines: list[str] = []
        self.locals: dict[str, str] = {}  # what the function reads off the executor once, by local name
        self.names: dict[str, Any] = {"_as_path": _as_path, "Undefined": Undefined, "_global_id": _global_id, "_new": object.__new__,
                                      "_ID_TYPES": _ID_TYPES, "_b2a_base64": binascii.b2a_base64,
                                      "_LazyInfo": _LazyInfo, "_nothing": _nothing, "_get_argument_values": get_argument_values}
        self.depth = 0  # of the list loops written so far, to name their variables apart
        # The shortcuts assume graphql-core's notion of an awaitable.
        self.knows_awaitables = executor.is_awaitable in (optimized_is_awaitable, default_is_awaitable)

    def compile(self) -> _Runner:
        for field in self.plan.fields:
            self._field(field)
        prologue = [f"    {name} = ex.{attribute}" for name, attribute in self.locals.items()]
        source = "\n".join(["def run(ex, source, path, pending):", *prologue, "    r = {}", *self.lines, "    return r"])
        namespace = dict(self.names)
        exec(compile(source, f"<compiled plan of {self.plan.type.name}>", "exec"), namespace)  # noqa: S102
        return namespace["run"]  # type: ignore[no-any-return]

    def _name(self, value: Any, hint: str) -> str:
        name = f"{hint}_{len(self.names)}"
        self.names[name] = value
        return name

    def _local(self, name: str, attribute: str) -> str:
        self.locals[name] = attribute
        return name

    def _emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def _field(self, field: _FieldPlan) -> None:
        key = repr(field.key)
        if field.typename is not None:
            self._emit(1, f"r[{key}] = {field.typename!r}")
            return
        if field.leaf_attribute is not None:
            self._emit(1, f"v = {self._read(field.leaf_attribute)}")
            self._complete(1, field, key, may_await=False, path="None", info="None")
            return
        if field.global_id:
            type_name = self.plan.type.name
            origin = getattr((self.plan.type.extensions or {}).get("strawberry-definition"), "origin", None)
            attribute = _node_id_attribute(origin) if isinstance(origin, type) else None
            if attribute is not None:
                # `_global_id` for the type's own class, its NodeID attribute known here.
                self._emit(1, f"if type(source) is {self._name(origin, 'origin')} "
                              f"and type(node_id := getattr(source, {attribute!r}, None)) in _ID_TYPES:")
                prefix = repr(f"{type_name}:")
                self._emit(2, f"r[{key}] = _b2a_base64(({prefix} + str(node_id)).encode(), newline=False).decode()")
                self._emit(1, "else:")
            self._emit(2 if attribute else 1, f"v = _global_id(source, {type_name!r})")
            self._emit(2 if attribute else 1, "if v is not None:")
            self._emit(3 if attribute else 2, f"r[{key}] = v")
            self._emit(2 if attribute else 1, "else:")
            self._resolved(3 if attribute else 2, field, key)
            return
        self._resolved(1, field, key)

    @staticmethod
    def _read(attribute: str) -> str:
        return f"source.{attribute}" if _identifier(attribute) else f"getattr(source, {attribute!r})"

    def _resolved(self, indent: int, field: _FieldPlan, key: str) -> None:
        """A field answered by an attribute holding objects or lists, or by its resolver."""
        leaf = is_leaf_type(get_named_type(field.definition.type))
        direct = field.direct
        lazy = (
            direct is not None
            and direct.info_name is not None
            and not field.completion_needs_info
            and direct.info_class is StrawberryInfo
        )
        raw = field.completion_needs_info or (field.attribute is None and not lazy and (direct is None or direct.info_name is not None))
        path = "None" if leaf and not raw else "p"
        if path == "p":
            self._emit(indent, f"p = (path, {key}, {self.plan.type.name!r})")
        info = "info" if raw else "None"
        if raw:
            self._emit(indent, f"info = ex.build_resolve_info({self._name(field.definition, 'definition')}, "
                               f"{self._name(field.nodes, 'nodes')}, {self._name(self.plan.type, 'parent')}, _as_path(p))")
        if field.attribute is not None:
            self._emit(indent, f"v = {self._read(field.attribute)}")
            self._complete(indent, field, key, may_await=False, path=path, info=info)
            return
        if direct is not None:
            arguments = ["source"] if direct.source_positional else []
            arguments += [f"{name}=source" for name in direct.source_names]
            if lazy:
                self._emit(indent, "li = _new(_LazyInfo)")
                self._emit(indent, f"li._field = {self._name(direct.strawberry_field, 'field')}")
                self._emit(indent, f"li._lazy = (ex, {self._name(field, 'plan')}, path)")
                self._emit(indent, f"li.context = {self._local('context', 'context_value')}")
                arguments.append(f"{direct.info_name}=li")
            elif direct.info_name is not None:
                arguments.append(
                    f"{direct.info_name}={self._name(direct.info_class, 'Info')}"
                    f"(_raw_info=info, _field={self._name(direct.strawberry_field, 'field')})"
                )
            self._emit(indent, f"v = {self._name(direct.function, 'resolver')}({', '.join(arguments)})")
        else:
            call = f"{self._name(field.resolve, 'resolve')}(source, info"
            if field.arguments:
                call += (f", **_get_argument_values({self._name(field.definition, 'definition')}, "
                         f"{self._name(field.nodes[0], 'node')}, ex.variable_values, None, ex.hide_suggestions)")
            self._emit(indent, f"v = {call})")
        self._complete(indent, field, key, may_await=True, path=path, info=info)

    def _complete(self, indent: int, field: _FieldPlan, key: str, *, may_await: bool, path: str, info: str) -> None:
        """`r[key]` = the completed `v`, as `field.complete` would answer it (or queue it when awaitable)."""
        complete = self._name(field.complete, "complete")
        shortcut = self._shortcut(field, field.definition.type, "v", path, info)
        fallback = f"r[{key}] = {complete}(ex, v, {path}, {info}, pending)"
        nullable = not isinstance(field.definition.type, GraphQLNonNull)
        if shortcut is None and not may_await and not nullable:
            self._emit(indent, fallback)
            return
        branch = "if"
        if shortcut is not None:
            condition, lines = shortcut
            self._emit(indent, f"if {condition}:")
            for depth, line in lines:
                self._emit(indent + 1 + depth, line)
            self._emit(indent + 1, f"r[{key}] = v")
            branch = "elif"
        if nullable:
            # Every completer answers None as None; None is no awaitable.
            self._emit(indent, f"{branch} v is None:")
            self._emit(indent + 1, f"r[{key}] = None")
            branch = "elif"
        if may_await:
            self._emit(indent, f"{branch} {self._local('is_awaitable', 'is_awaitable')}(v):")
            self._emit(indent + 1, f"r[{key}] = None")
            self._emit(indent + 1, f"pending.append((v, {complete}, {path}, {info}, r, {key}))")
        self._emit(indent, "else:")
        self._emit(indent + 1, fallback)

    def _shortcut(
        self, field: _FieldPlan, return_type: GraphQLOutputType, value: str, path: str, info: str
    ) -> tuple[str, list[tuple[int, str]]] | None:
        """A condition under which `value` is no awaitable and its completion is written out, with the
        lines (at relative depths) that complete it in place; None where only the completer will do."""
        if not self.knows_awaitables:
            return None
        if isinstance(return_type, GraphQLNonNull):
            # Every condition below tests the value's exact type, which None never passes.
            return_type = return_type.of_type
        if return_type is GraphQLString or return_type is GraphQLID:  # both answer a str unchanged
            return f"type({value}) is str", []
        if return_type is GraphQLBoolean:
            return f"type({value}) is bool", []
        if return_type is GraphQLInt:
            return f"type({value}) is int and {_INT_MIN} <= {value} <= {_INT_MAX}", []
        if isinstance(return_type, GraphQLEnumType):
            return self._enum_shortcut(return_type, value)
        if isinstance(return_type, GraphQLScalarType):
            return self._scalar_shortcut(return_type, value)
        if isinstance(return_type, GraphQLList):
            return self._list_shortcut(field, return_type, value, path, info)
        if isinstance(return_type, GraphQLObjectType):
            return self._object_shortcut(field, return_type, value, path)
        return None

    def _enum_shortcut(self, enum_type: GraphQLEnumType, value: str) -> tuple[str, list[tuple[int, str]]] | None:
        wrapped = getattr(enum_type, "wrapped_cls", None)
        names = _enum_names(enum_type)
        if wrapped is None or not names:
            return None
        not_awaitable = _not_awaitable(wrapped, value)
        if not_awaitable is None:
            return None
        name = f"name_{self.depth}"
        condition = (
            f"type({value}) is {self._name(wrapped, 'enum')}{not_awaitable} "
            f"and ({name} := {self._name(names, 'names')}.get({value}._value_)) is not None"
        )
        return condition, [(0, f"{value} = {name}")]

    def _scalar_shortcut(self, scalar_type: GraphQLScalarType, value: str) -> tuple[str, list[tuple[int, str]]] | None:
        definition = (scalar_type.extensions or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        if not isinstance(origin, type) or issubclass(origin, BaseException) or origin is type(None):
            return None
        not_awaitable = _not_awaitable(origin, value)
        if not_awaitable is None:
            return None
        serialize = self._name(scalar_type.coerce_output_value, "serialize")
        return f"type({value}) is {self._name(origin, 'scalar')}{not_awaitable}", [
            (0, f"{value} = {serialize}({value})"),
            (0, f"if {value} is None or {value} is Undefined:"),
            (1, f"_nothing({self._name(scalar_type, 'type')}, {value})"),
        ]

    def _object_shortcut(
        self, field: _FieldPlan, object_type: GraphQLObjectType, value: str, path: str
    ) -> tuple[str, list[tuple[int, str]]] | None:
        """An object of the type's own class, or of the generic class the type specializes (relay's
        `Edge` for a `TicketEdge`), that `_object_of` would complete with the type's plan."""
        definition = (object_type.extensions or {}).get("strawberry-definition")
        is_type_of = object_type.is_type_of
        if is_type_of is not None and not _reads_only_the_object(is_type_of):
            return None
        guards = []
        for cls, specialized in ((getattr(definition, "origin", None), False), (_generic_origin(definition), True)):
            if not isinstance(cls, type) or issubclass(cls, BaseException):
                continue
            if is_type_of is None:  # any object but None and an error is completed as one of the type
                lacks = _not_awaitable(cls, value)
            else:
                # strawberry's `is_type_of` says yes to an object never `strawberry.cast` (which sets
                # TYPE_CAST_ATTRIBUTE on it) whose class is the type's own, or the generic class the
                # type specializes, read off the object's `__strawberry_definition__`.
                lacks = _lacks(cls, value, "__await__", TYPE_CAST_ATTRIBUTE)
                if lacks and specialized:
                    lacks += f" and '__strawberry_definition__' not in {value}.__dict__"
            if lacks is not None:
                guards.append(f"type({value}) is {self._name(cls, 'origin')}{lacks}")
        if not guards:
            return None
        plan = field.plan_for(self.executor, object_type)  # type: ignore[misc]
        condition = guards[0] if len(guards) == 1 else " or ".join(f"({guard})" for guard in guards)
        return condition, [(0, f"{value} = {self._name(plan, 'plan')}.run(ex, {value}, {path}, pending)")]

    def _list_shortcut(
        self, field: _FieldPlan, list_type: GraphQLList[Any], value: str, path: str, info: str
    ) -> tuple[str, list[tuple[int, str]]]:
        """A list (the exact type; any other iterable goes to the completer), item by item as `_list_of`."""
        self.depth += 1
        depth = self.depth
        items, index, item, item_path = f"items_{depth}", f"i_{depth}", f"item_{depth}", f"path_{depth}"
        item_type = list_type.of_type
        leaf_items = is_leaf_type(get_named_type(item_type))
        item_path_value = "None" if leaf_items else item_path
        inner = self._name(self.executor._completer(item_type, field), "complete")
        lines = [(0, f"{items} = []"), (0, f"for {index}, {item} in enumerate({value}):")]
        if not leaf_items:
            lines.append((1, f"{item_path} = ({path}, {index}, None)"))
        shortcut = self._shortcut(field, item_type, item, item_path_value, info)
        branch = "if"
        if shortcut is not None:
            condition, item_lines = shortcut
            lines.append((1, f"if {condition}:"))
            lines += [(2 + line_depth, line) for line_depth, line in item_lines]
            lines.append((2, f"{items}.append({item})"))
            branch = "elif"
        lines += [
            (1, f"{branch} {self._local('is_awaitable', 'is_awaitable')}({item}):"),
            (2, f"pending.append(({item}, {inner}, {item_path_value}, {info}, {items}, {index}))"),
            (2, f"{items}.append(None)"),
            (1, "else:"),
            (2, f"{items}.append({inner}(ex, {item}, {item_path_value}, {info}, pending))"),
            (0, f"{value} = {items}"),
        ]
        return f"type({value}) is list", lines


def _nothing(scalar_type: GraphQLScalarType, value: Any) -> None:
    raise _NotCompiled(f"{scalar_type} serialized {value!r} to nothing")
