"""A field that depends on who asks (`Context.with_principal`) stops answering for a token that has expired
or been revoked, though a page asks once per row and field and reads the clock once per operation."""

from __future__ import annotations

from api.state import AppState
from kernel.principal import Principal
from register.accounts import log_out
from tests.conftest import Clock
from tests.integration.world import build_world


async def test_an_expired_token_stops_counting_at_the_next_operation_or_check(state: AppState, clock: Clock) -> None:
    world = await build_world(state)
    context = state.new_context()
    context.authenticate_with(world.token("alice"))
    answers: list[Principal | None] = []

    context.start_operation()
    principal = await context.principal()
    context.with_principal(answers.append)
    clock.advance(seconds=state.settings.token_ttl.total_seconds())
    context.start_operation()
    context.with_principal(answers.append)

    assert principal is not None and answers == [principal, None]


async def test_a_subscriptions_check_before_each_event_reads_the_clock_again(state: AppState, clock: Clock) -> None:
    world = await build_world(state)
    context = state.new_context()
    context.authenticate_with(world.token("alice"))
    answers: list[Principal | None] = []

    context.start_operation()
    principal = await context.principal()
    context.with_principal(answers.append)
    clock.advance(seconds=state.settings.token_ttl.total_seconds())
    live = context.has_live_token()
    context.with_principal(answers.append)

    assert principal is not None and (live, answers) == (False, [principal, None])


async def test_a_token_the_watch_finds_revoked_stops_counting_within_the_operation(state: AppState) -> None:
    world = await build_world(state)
    context = state.new_context()
    context.authenticate_with(world.token("alice"))
    assert context.token is not None and state.revocations is not None
    answers: list[Principal | None] = []

    context.start_operation()
    principal = await context.principal()
    context.with_principal(answers.append)
    release = state.revocations.hold(context.token, lambda: None)
    await log_out(state.session_factory, context.token, now=state.clock())
    await state.revocations.check_now()
    release()
    context.with_principal(answers.append)

    assert principal is not None and answers == [principal, None]
