"""Deliver live ticket events to GraphQL subscribers: rendered once per (operation, audience), sent as frames.

graphql-core executes a subscription's selection again for every subscriber and every event; with a
thousand dispatchers on one board that is a thousand identical executions (~0.2-0.35 ms each, plus
strawberry's per-result bookkeeping) for one ticket change. Here a subscription stream renders an event
*once* for every subscriber who would get the same answer, and keeps the JSON in the event's `memo`:

- the same answer means the same operation (the same parsed document, the same values of the variables
  its selection below the root field reads) and the same `Audience`: a key such that everyone with it
  may see exactly the same thing, and a principal that stands for them (never more than any member may
  see). Staff of one project with the same roles share; an owner is an audience of one.
- rendering executes the operation with a context whose principal is the audience's and fresh
  dataloaders, the ticket loader primed with the ticket the live feed already read.

When the websocket handler offers a `FrameSink` (see `api.live`), the subscription hands it a delivery
that sends the ready-made payloads itself, skipping strawberry's per-result pipeline, and lets
strawberry finish its part of the operation at once (so an idle subscription holds none of its execution
state); elsewhere (a plain `schema.subscribe`, say) it yields `TicketEventType` values and strawberry
executes them as usual. Both paths end the
subscription with an UNAUTHENTICATED error once the connection's token expires or is revoked.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import json
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Hashable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import Any, Final, Protocol

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    VariableNode,
    execute,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from dispatch.live import Follow, LiveEvent, LiveFeed
from dispatch.policy import staff_view
from kernel.principal import Principal
from schema.context import Context, Info
from schema.dispatch.tickets.types import TicketEventType
from schema.extensions import ErrorPolicy

__all__ = [
    "PER_VIEWER_FIELDS",
    "Audience",
    "EventRenderer",
    "FrameSink",
    "TokenWatch",
    "frame_sink",
    "live_stream",
    "token_expired",
]

PER_VIEWER_FIELDS: Final = frozenset({"url"})
"""Fields whose value is made for the asking user (signed links): selecting one makes the audience personal."""


class FrameSink(Protocol):
    """Where a subscription may deliver its results itself: one operation on one websocket."""

    variables: Mapping[str, Any] | None
    """The operation's variables as the client sent them."""

    async def send(self, payload: str) -> bool:
        """Send one result (`{"data": …}` as JSON) to the client; False once the operation is over."""
        ...

    def adopt(self, delivery: Coroutine[Any, Any, None]) -> None:
        """Run `delivery` in the operation's task once strawberry's result stream has ended (and let go
        of its execution state); a `GraphQLError` it raises is the operation's last result."""
        ...


frame_sink: contextvars.ContextVar[FrameSink | None] = contextvars.ContextVar("frame_sink", default=None)
"""Set by the websocket handler in each operation's task; read by `live_stream`."""


@dataclass(frozen=True, slots=True)
class Audience:
    """Subscribers who may see exactly the same; `principal` stands for all of them when rendering."""

    key: Hashable
    principal: Principal

    @classmethod
    def personal(cls, principal: Principal) -> Audience:
        return cls(("user", principal.user_id), principal)

    @classmethod
    def of(cls, principal: Principal, project_id: int) -> Audience:
        """Who sees a ticket of `project_id` exactly as `principal` does: its staff with the same roles
        share one audience (the project is all a ticket of it can reach); anyone else is an audience of
        one. The policy says who shares (`dispatch.policy.staff_view`); the shared principal keeps the
        user's id for the record, and per-user fields make the audience personal (`PER_VIEWER_FIELDS`).
        """
        shared = staff_view(principal, project_id)
        return cls(*shared) if shared is not None else cls.personal(principal)


def token_expired() -> GraphQLError:
    return GraphQLError(
        "Your token has expired or was revoked (logout, password change or reset): log in again and "
        "resubscribe with `afterSeq` to catch up.",
        extensions={"code": "UNAUTHENTICATED"},
    )


@dataclass(frozen=True, slots=True)
class _OperationShape:
    """What a subscription operation's text says about sharing, worked out once per parsed document."""

    operation: OperationDefinitionNode
    document: DocumentNode
    name: str | None
    read_variables: tuple[str, ...]
    per_viewer: bool


_shapes: dict[int, _OperationShape] = {}
_SHAPES_KEPT: Final = 256


def _shape_of(info: Info) -> _OperationShape:
    raw = info._raw_info
    operation: OperationDefinitionNode = raw.operation
    shape = _shapes.get(id(operation))
    # The node is kept in the entry, so a recycled id() never matches another document.
    if shape is None or shape.operation is not operation:
        shape = _OperationShape(
            operation=operation,
            document=DocumentNode(definitions=(operation, *raw.fragments.values())),
            name=operation.name.value if operation.name else None,
            read_variables=tuple(sorted(set(_variables_below_root(operation, raw.fragments)))),
            per_viewer=_selects_any(operation, raw.fragments, PER_VIEWER_FIELDS),
        )
        if len(_shapes) >= _SHAPES_KEPT:
            _shapes.pop(next(iter(_shapes)))
        _shapes[id(operation)] = shape
    return shape


class EventRenderer:
    """Renders one subscription's events as GraphQL payload JSON, shared through each event's memo."""

    __slots__ = ("_audience", "_context", "_key", "_schema", "_shape", "_variables")

    def __init__(self, info: Info, audience: Audience, variables: Mapping[str, Any] | None) -> None:
        self._schema = info._raw_info.schema
        self._shape = shape = _shape_of(info)
        self._variables = variables or {}
        if shape.per_viewer:
            audience = Audience(("user", audience.principal.user_id), audience.principal)
        self._audience = audience
        self._context = info.context
        read = tuple((name, repr(self._variables.get(name))) for name in shape.read_variables)
        self._key = ("payload", id(shape.operation), read, audience.key)

    async def payload(self, event: LiveEvent) -> str:
        """The event as this subscription renders it; rendered at most once per (operation, audience)."""
        operation = self._shape.operation
        entry = event.memo.get(self._key)
        if entry is None or entry[0] is not operation:
            rendering = asyncio.ensure_future(self._render(event))
            entry = (operation, rendering)
            event.memo[self._key] = entry
            rendering.add_done_callback(functools.partial(_keep_only_json, event.memo, self._key, entry))
        rendered: str | asyncio.Future[str] = entry[1]
        if isinstance(rendered, str):
            return rendered
        # Shielded: one subscriber leaving must not cancel the rendering the others are waiting for.
        return await asyncio.shield(rendered)

    async def _render(self, event: LiveEvent) -> str:
        # The connection's context seen through the audience's principal (Context has no public setter).
        context = dataclasses.replace(self._context, _principal=self._audience.principal, _principal_loaded=True)
        _start_rendering(context, event)
        result = execute(
            self._schema,
            self._shape.document,
            root_value=TicketEventType.from_row(event.event),
            context_value=context,
            variable_values=dict(self._variables),
            operation_name=self._shape.name,
            executor_class=StrawberryGraphQLCoreExecutionContext,
        )
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        assert isinstance(result, ExecutionResult)
        return _payload_json(result, production=context.production)


def _keep_only_json(
    memo: dict[Hashable, Any], key: Hashable, entry: tuple[Any, asyncio.Future[str]], _: object
) -> None:
    """Swap a finished rendering for its JSON. Followers hold their latest event until the next one, and
    a finished task would keep its context, dataloaders and rows alive with it, so that survivors pile up
    for the garbage collector's older generations, whose sweeps then stall the loop."""
    operation, rendering = entry
    if memo.get(key) is entry and not rendering.cancelled() and rendering.exception() is None:
        memo[key] = (operation, rendering.result())


def _start_rendering(context: Context, event: LiveEvent) -> None:
    """Fresh dataloaders for rendering `event` (they cache; an event is a fresh moment), primed with the
    rows the live feed read with it."""
    context.start_operation()
    context.loaders.dispatch.ticket.prime(event.ticket.id, event.ticket, force=True)
    if event.assignee is not None:
        context.loaders.technician.prime(event.assignee.id, event.assignee, force=True)


def _payload_json(result: ExecutionResult, *, production: bool) -> str:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        policy = ErrorPolicy(production=production)
        payload["errors"] = [error.formatted for error in policy._process_errors(list(result.errors))]
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def live_stream(
    info: Info,
    feed: LiveFeed,
    follow: Follow,
    *,
    after_seq: int | None,
    audience: Audience,
    accept: Callable[[LiveEvent], bool] | None = None,
) -> AsyncIterator[TicketEventType]:
    """What a subscription resolver returns for `follow`, once it has authorized the subscriber."""
    sink = frame_sink.get()
    if sink is None:
        return _yield_events(info, feed, follow, after_seq=after_seq, accept=accept)
    renderer = EventRenderer(info, audience, sink.variables)
    # Every operation gets its own dataloaders (`OperationPolicy`); this one renders in tasks of its
    # own and never uses them again, yet they and the rows they cached while authorizing would live as
    # long as it does.
    Context.release_operation_loaders()
    sink.adopt(_send_frames(info.context, feed, follow, sink, renderer, after_seq=after_seq, accept=accept))
    return _NoResults()


class _NoResults:
    """The result stream strawberry sees for an adopted subscription: it ends at once, so strawberry's
    execution state is released; the sink's adopted delivery carries the subscription from there."""

    def __aiter__(self) -> _NoResults:
        return self

    async def __anext__(self) -> TicketEventType:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        return None


async def _send_frames(
    context: Context,
    feed: LiveFeed,
    follow: Follow,
    sink: FrameSink,
    renderer: EventRenderer,
    *,
    after_seq: int | None,
    accept: Callable[[LiveEvent], bool] | None,
) -> None:
    async with feed.follow(follow, after_seq=after_seq, accept=accept) as events, TokenWatch(context, events.stop):
        async for event in events:
            if not context.has_live_token():
                raise token_expired()
            if not await sink.send(await renderer.payload(event)):
                return
        if not context.has_live_token():
            raise token_expired()


async def _yield_events(
    info: Info,
    feed: LiveFeed,
    follow: Follow,
    *,
    after_seq: int | None,
    accept: Callable[[LiveEvent], bool] | None,
) -> AsyncGenerator[TicketEventType, None]:
    context = info.context
    async with feed.follow(follow, after_seq=after_seq, accept=accept) as events, TokenWatch(context, events.stop):
        async for event in events:
            if not context.has_live_token():
                raise token_expired()
            # This operation's loaders live as long as the subscription: renew them for each event.
            _start_rendering(context, event)
            yield TicketEventType.from_row(event.event)
        if not context.has_live_token():
            raise token_expired()


class TokenWatch:
    """Stops a follower when the connection's token expires (by the service's clock, checked on the wall)
    or is revoked (logout, password change, reset: the process's `RevocationWatch` reads every held
    token once per `COURTYARD_TOKEN_RECHECK_SECONDS`)."""

    def __init__(self, context: Context, stop: Callable[[], None]) -> None:
        self._context = context
        self._stop = stop
        self._timer: asyncio.TimerHandle | None = None
        self._release: Callable[[], None] | None = None

    async def __aenter__(self) -> None:
        self._arm()
        token, watch = self._context.token, self._context.revocations
        if token is not None and watch is not None:
            self._release = watch.hold(token, self._stop)

    async def __aexit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._release is not None:
            self._release()

    def _arm(self) -> None:
        expires_at = self._context.token_expires_at
        if expires_at is None:
            return
        remaining = (expires_at - self._context.now()).total_seconds()
        if remaining <= 0:
            self._stop()
            return
        # Timers far in the future are re-armed on the way, so a clock that jumps is noticed.
        self._timer = asyncio.get_running_loop().call_later(min(remaining, 3600.0) + 0.001, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if not self._context.has_live_token():
            self._stop()
        else:
            self._arm()


def _selects_any(operation: OperationDefinitionNode, fragments: Mapping[str, Any], names: frozenset[str]) -> bool:
    return any(isinstance(node, FieldNode) and node.name.value in names for node in _nodes(operation, fragments, set()))


def _variables_below_root(operation: OperationDefinitionNode, fragments: Mapping[str, Any]) -> Iterator[str]:
    """The variables the selection below the root field reads.

    The root field's own arguments (which ticket, `afterSeq`, …) only choose the events; they do not
    change how one event renders, so subscribers differing only there still share.
    """
    for selection in operation.selection_set.selections:
        roots = (
            [*(selection.directives or ()), *([selection.selection_set] if selection.selection_set else [])]
            if isinstance(selection, FieldNode)
            else [selection]
        )
        for root in roots:
            for node in _nodes(root, fragments, set()):
                if isinstance(node, VariableNode):
                    yield node.name.value


def _nodes(node: Node, fragments: Mapping[str, Any], visited: set[str]) -> Iterator[Node]:
    """Every AST node under `node`, following fragment spreads (each fragment once)."""
    yield node
    if isinstance(node, FragmentSpreadNode):
        name = node.name.value
        if name not in visited and name in fragments:
            visited.add(name)
            yield from _nodes(fragments[name], fragments, visited)
    for key in node.keys:
        value = getattr(node, key, None)
        for child in value if isinstance(value, tuple | list) else (value,):
            if isinstance(child, Node):
                yield from _nodes(child, fragments, visited)
