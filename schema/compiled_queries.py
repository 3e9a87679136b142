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
import base64
import logging
from collections import OrderedDict
from collections.abc import Callable
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
from strawberry import UNSET, relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["CompiledQueryExecutor"]

log = logging.getLogger("courtyard.graphql.compiled")

_PLAN_CACHE_SIZE = 256
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class _NotCompiled(Exception):
    """The compiled run cannot answer this request the way graphql-core would: fall back."""


# A completer turns what a resolver returned into the response value. Awaitables it meets (list items)
# are queued in `pending` with the completer that finishes them; the slot holds None until then.
_Pending = list[tuple[Any, "_Completer", Path, "GraphQLResolveInfo | None", Any, Any]]
_Completer = Callable[["CompiledQueryExecutor", Any, Path, "GraphQLResolveInfo | None", _Pending], Any]


class _FieldPlan:
    __slots__ = ("arguments", "attribute", "complete", "definition", "details", "direct", "global_id", "key", "leaf_attribute", "needs_info", "nodes", "parent_type", "resolve", "typename")

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
        self.needs_info = False
        self.complete: _Completer | None = None


class _DirectCall:
    """A resolver without extensions (permission classes are extensions) or exception handlers, called
    without arguments: strawberry's wrapper would only hand it the source where it asks for self, root
    or parent, an `Info` where it asks for one, and the defaults of its arguments (the schema's, which
    strawberry took from the parameters). This calls it the same way, without the wrapper's layers."""

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

    def __call__(self, source: Any, info: GraphQLResolveInfo | None) -> Any:
        keywords = dict.fromkeys(self.source_names, source)
        if self.info_name is not None:
            keywords[self.info_name] = self.info_class(_raw_info=info, _field=self.strawberry_field)
        if self.source_positional:
            return self.function(source, **keywords)
        return self.function(**keywords)


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


def _global_id(source: Any, type_name: str) -> str | None:
    """What relay's `Node.id` answers, serialized, without its resolver: `GlobalID(type_name,
    str(getattr(source, <NodeID attribute>)))` as base64 of "<parent type>:<id>" (strawberry's
    `resolve_typename` reads the parent type off the path). None where the resolver must run instead:
    another `resolve_id` or `resolve_typename`, or an id that is not a plain int or str."""
    attribute = _node_id_attribute(type(source))
    if attribute is None:
        return None
    node_id = getattr(source, attribute, None)
    kind = type(node_id)
    if kind is not int and kind is not str:
        return None
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


class _ObjectPlan:
    __slots__ = ("fields", "type")

    def __init__(self, object_type: GraphQLObjectType) -> None:
        self.type = object_type
        self.fields: list[_FieldPlan] = []


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
            data = self._complete_object(self._plan(), self.root_value, None, pending)
        except Exception as error:  # noqa: BLE001 (any failure: graphql-core answers instead)
            self._fell_back(error)
            if pending:
                return self._fall_back_after(pending, serially)
            return super().execute_operation(serially)
        if not pending:
            return self.finish(self.build_response(data))
        return self._finish_async(data, pending, serially)

    async def _finish_async(self, data: dict[str, Any], pending: _Pending, serially: bool | None) -> Any:
        try:
            await self._settle(pending)
        except Exception as error:  # noqa: BLE001 (any failure: graphql-core answers instead)
            self._fell_back(error)
            return await self._standard(serially)
        return self.build_response(data)

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
            passed = any(node.arguments for node in field.nodes)
            field.arguments = bool(definition.args) or passed
            field.attribute = None if field.arguments else _is_plain_attribute(definition)
            if field.attribute is None and not passed:
                field.direct = _direct_call(definition, self.schema)
                field.global_id = _is_relay_node_id(field.direct, definition.type)
            field.complete = self._completer(definition.type, field)
            field.needs_info = (
                (field.attribute is None and (field.direct is None or field.direct.info_name is not None))
                or self._completion_needs_info(definition.type)
            )
            if field.attribute is not None and is_leaf_type(get_named_type(definition.type)):
                field.leaf_attribute = field.attribute
            plan.fields.append(field)
        return plan

    @staticmethod
    def _completion_needs_info(return_type: GraphQLOutputType) -> bool:
        """Whether completing the value calls `resolve_type` or `is_type_of`, which take the field's info."""
        while isinstance(return_type, (GraphQLNonNull, GraphQLList)):
            return_type = return_type.of_type
        if isinstance(return_type, (GraphQLInterfaceType, GraphQLUnionType)):
            return True
        return isinstance(return_type, GraphQLObjectType) and return_type.is_type_of is not None

    def _completer(self, return_type: GraphQLOutputType, field: _FieldPlan) -> _Completer:
        if isinstance(return_type, GraphQLNonNull):
            return _non_null(self._completer(return_type.of_type, field))
        if isinstance(return_type, GraphQLList):
            return _list_of(self._completer(return_type.of_type, field))
        if isinstance(return_type, GraphQLEnumType):
            return _enum(return_type)
        if isinstance(return_type, GraphQLObjectType):
            return _object_of(return_type, self._subplan_builder(field))
        if isinstance(return_type, (GraphQLInterfaceType, GraphQLUnionType)):
            return _abstract(return_type, self._subplan_builder(field))
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

    def _complete_object(self, plan: _ObjectPlan, source: Any, path: Path | None, pending: _Pending) -> dict[str, Any]:
        results: dict[str, Any] = {}
        type_name = plan.type.name
        is_awaitable = self.is_awaitable
        for field in plan.fields:
            key = field.key
            if field.typename is not None:
                results[key] = field.typename
                continue
            if field.leaf_attribute is not None:
                # A scalar read off the source needs no path: nothing below it, no resolver to hand one.
                results[key] = field.complete(self, getattr(source, field.leaf_attribute), None, None, pending)  # type: ignore[misc]
                continue
            if field.global_id:
                global_id = _global_id(source, type_name)
                if global_id is not None:
                    results[key] = global_id
                    continue
            field_path = Path(path, key, type_name)
            info = (
                self.build_resolve_info(field.definition, field.nodes, plan.type, field_path) if field.needs_info else None
            )
            if field.attribute is not None:
                value = getattr(source, field.attribute)
            elif field.direct is not None:
                value = field.direct(source, info)
                if is_awaitable(value):
                    results[key] = None
                    pending.append((value, field.complete, field_path, info, results, key))  # type: ignore[arg-type]
                    continue
            else:
                arguments = (
                    get_argument_values(field.definition, field.nodes[0], self.variable_values, None, self.hide_suggestions)
                    if field.arguments
                    else {}
                )
                value = field.resolve(source, info, **arguments)
                if is_awaitable(value):
                    results[key] = None
                    pending.append((value, field.complete, field_path, info, results, key))  # type: ignore[arg-type]
                    continue
            results[key] = field.complete(self, value, field_path, info, pending)  # type: ignore[misc]
        return results

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


def _raise_if_error(value: Any) -> None:
    if isinstance(value, Exception):
        raise _NotCompiled("a resolver returned an error") from value


def _non_null(inner: _Completer) -> _Completer:
    def complete(executor: CompiledQueryExecutor, value: Any, path: Path, info: Any, pending: _Pending) -> Any:
        completed = inner(executor, value, path, info, pending)
        if completed is None:
            raise _NotCompiled("null for a non-null field")
        return completed

    return complete


def _list_of(inner: _Completer) -> _Completer:
    def complete(executor: CompiledQueryExecutor, value: Any, path: Path, info: Any, pending: _Pending) -> Any:
        if value is None or value is Undefined:
            return None
        _raise_if_error(value)
        if executor.is_async_iterable(value) or not is_iterable(value):
            raise _NotCompiled("an async iterable or no iterable for a list")
        is_awaitable = executor.is_awaitable
        items: list[Any] = []
        for index, item in enumerate(value):
            item_path = Path(path, index, None)
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

    def complete(executor: CompiledQueryExecutor, value: Any, path: Path, info: Any, pending: _Pending) -> Any:
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


def _enum(enum_type: GraphQLEnumType) -> _Completer:
    coerce = enum_type.coerce_output_value
    wrapped = getattr(enum_type, "wrapped_cls", None)
    # strawberry's enum answers the first name whose value equals the member's value.
    names: dict[Any, str] = {}
    if wrapped is not None:
        for name, definition in enum_type.values.items():
            try:
                names.setdefault(definition.value, name)
            except TypeError:  # an unhashable value: every member goes through strawberry's own lookup
                names = {}
                break

    def complete(executor: CompiledQueryExecutor, value: Any, path: Path, info: Any, pending: _Pending) -> Any:
        if value is None or value is Undefined:
            return None
        if wrapped is not None and type(value) is wrapped:
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

    def complete(executor: CompiledQueryExecutor, value: Any, path: Path, info: Any, pending: _Pending) -> Any:
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
        return executor._complete_object(plan_for(executor, object_type), value, path, pending)

    return complete


def _abstract(abstract_type: GraphQLInterfaceType | GraphQLUnionType, plan_for: _PlanFor) -> _Completer:
    def complete(executor: CompiledQueryExecutor, value: Any, path: Path, info: Any, pending: _Pending) -> Any:
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
        return executor._complete_object(plan_for(executor, runtime_type), value, path, pending)

    return complete


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
