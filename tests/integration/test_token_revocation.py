"""logout, changePassword, issuePasswordReset / resetPassword, and live subscriptions noticing revocation."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from api.app import create_app
from api.settings import Settings
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, submit
from tests.integration.live_client import TICKET_UPDATES, live_socket
from tests.integration.test_websocket_auth import _leaves
from tests.integration.world import PASSWORD, World, build_world, error_codes, gql, statements_run

VIEWER = "{ viewer { email } }"
LOGOUT = "mutation { logout { loggedOut } }"
CHANGE = """mutation ($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) {
    __typename ... on AuthPayload { token } ... on Error { code field } } }"""
ISSUE = """mutation ($email: String!) { issuePasswordReset(email: $email) {
  __typename ... on PasswordResetPayload { resetCode expiresAt } ... on Error { code field } } }"""
RESET = """mutation ($email: String!, $code: String!, $new: String!) {
  resetPassword(email: $email, code: $code, newPassword: $new) {
    __typename ... on AuthPayload { token } ... on Error { code field } } }"""
LOGIN = """mutation ($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename ... on AuthPayload { token } } }"""
NEW_PASSWORD = "a-new-password-2026"


async def _who(client: httpx.AsyncClient, token: str) -> str | list[str]:
    result = await gql(client, VIEWER, token=token)
    return result["data"]["viewer"]["email"] if result.get("data") and result["data"]["viewer"] else error_codes(result)


async def test_logout_revokes_the_token_it_was_sent_with_and_no_other(client: httpx.AsyncClient, state) -> None:
    # given two sessions of alice
    world = await build_world(state)
    phone, laptop = world.token("alice"), world.token("alice")
    # when she logs out on the phone
    result = await gql(client, LOGOUT, token=phone)
    # then
    assert result["data"]["logout"] == {"loggedOut": True}
    assert await _who(client, phone) == ["UNAUTHENTICATED"]
    assert await _who(client, laptop) == "alice@example.test"


async def test_changing_the_password_revokes_every_earlier_token_and_answers_a_fresh_one(
    client: httpx.AsyncClient, state, clock: Clock
) -> None:
    # given
    world = await build_world(state)
    earlier = world.token("bob")
    clock.advance(seconds=1)
    # when the current password is wrong, then right
    wrong = await gql(client, CHANGE, {"current": "guess-guess-guess", "new": NEW_PASSWORD}, token=earlier)
    short = await gql(client, CHANGE, {"current": PASSWORD, "new": "short"}, token=earlier)
    changed = await gql(client, CHANGE, {"current": PASSWORD, "new": NEW_PASSWORD}, token=earlier)
    # then
    assert wrong["data"]["changePassword"] == {"__typename": "InvalidCredentialsError", "code": "INVALID_CREDENTIALS", "field": "currentPassword"}
    assert short["data"]["changePassword"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": "newPassword"}
    fresh = changed["data"]["changePassword"]["token"]
    assert await _who(client, earlier) == ["UNAUTHENTICATED"]
    assert await _who(client, fresh) == "bob@example.test"
    old_login = await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
    new_login = await gql(client, LOGIN, {"email": "bob@example.test", "password": NEW_PASSWORD})
    assert old_login["data"]["login"]["__typename"] == "InvalidCredentialsError"
    assert new_login["data"]["login"]["__typename"] == "AuthPayload"


async def test_an_admin_issues_a_one_time_reset_code_that_logs_the_user_out_everywhere(
    client: httpx.AsyncClient, state, clock: Clock
) -> None:
    # given
    world = await build_world(state)
    bobs_session = world.token("bob")
    clock.advance(seconds=1)
    # when Lakeside's admin issues a reset for bob, and Hillside's admin tries too
    issued = await gql(client, ISSUE, {"email": "bob@example.test"}, token=world.token("admin_a"))
    foreign = await gql(client, ISSUE, {"email": "bob@example.test"}, token=world.token("admin_b"))
    # then
    code = issued["data"]["issuePasswordReset"]["resetCode"]
    assert issued["data"]["issuePasswordReset"]["expiresAt"].startswith("2026-11-03T09:00:01")
    assert foreign["data"]["issuePasswordReset"] == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": "email"}
    assert await _who(client, bobs_session) == ["UNAUTHENTICATED"]
    # and bob chooses a new password with the code, once
    reset = await gql(client, RESET, {"email": "bob@example.test", "code": code, "new": NEW_PASSWORD})
    again = await gql(client, RESET, {"email": "bob@example.test", "code": code, "new": "another-password-1"})
    assert await _who(client, reset["data"]["resetPassword"]["token"]) == "bob@example.test"
    assert again["data"]["resetPassword"] == {"__typename": "InvalidCredentialsError", "code": "INVALID_CREDENTIALS", "field": "code"}
    login = await gql(client, LOGIN, {"email": "bob@example.test", "password": NEW_PASSWORD})
    assert login["data"]["login"]["__typename"] == "AuthPayload"


async def test_a_reset_code_expires_after_a_day(client: httpx.AsyncClient, state, clock: Clock) -> None:
    world = await build_world(state)
    issued = await gql(client, ISSUE, {"email": "bob@example.test"}, token=world.token("admin_a"))
    clock.advance(hours=24)
    code = issued["data"]["issuePasswordReset"]["resetCode"]
    late = await gql(client, RESET, {"email": "bob@example.test", "code": code, "new": NEW_PASSWORD})
    assert late["data"]["resetPassword"]["__typename"] == "InvalidCredentialsError"


async def test_a_revoked_token_cannot_open_a_websocket(app, state) -> None:
    world = await build_world(state)
    token = world.token("alice")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        assert (await gql(client, LOGOUT, token=token))["data"]["logout"]["loggedOut"]
    close_codes: list[int] = []
    try:
        async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app), base_url="http://testserver") as http, aconnect_ws(
            "/graphql", http, subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
            await ws.receive_json(timeout=5)
    except* WebSocketDisconnect as disconnects:
        close_codes = [error.code for error in _leaves(disconnects)]
    assert close_codes == [4403]


async def _quick_recheck_app(settings: Settings, clock: Clock) -> Any:
    return create_app(dataclasses.replace(settings, token_recheck_interval=dt.timedelta(seconds=0.2)), clock=clock, migrate=False)


async def _follow_until_ended(app: Any, world: World, token: str, revoke: Any) -> tuple[list[dict[str, Any]], float]:
    """Alice follows her ticket with `token`; `revoke` runs; the messages until the subscription ends and
    how long after the revocation it ended (no ticket event happens meanwhile)."""
    async with live_socket(app, token) as alice:
        ticket = await submit(alice.http, world.token("alice"), description="厨房水龙头漏水", unitId=world.gid("Unit:alice"))
        await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"], "after": 0})
        await alice.events(2)
        await revoke(alice.http)
        started = asyncio.get_running_loop().time()
        ended = [await alice.message(timeout=3), await alice.message(timeout=3)]
        return ended, asyncio.get_running_loop().time() - started


async def test_a_subscription_whose_token_is_logged_out_ends_within_the_recheck_interval(
    settings: Settings, clock: Clock
) -> None:
    app = await _quick_recheck_app(settings, clock)
    async with LifespanManager(app):
        world = await build_dispatch_world(app.state.courtyard)
        token = world.token("alice")

        async def logout(http: httpx.AsyncClient) -> None:
            assert (await gql(http, LOGOUT, token=token))["data"]["logout"]["loggedOut"]

        (ended, completed), seconds = await _follow_until_ended(app, world, token, logout)
    assert (ended["type"], error_codes(ended["payload"])) == ("next", ["UNAUTHENTICATED"])
    assert completed == {"id": "1", "type": "complete"}
    assert seconds < 1.5


async def test_a_subscription_ends_when_the_password_is_changed_elsewhere(settings: Settings, clock: Clock) -> None:
    app = await _quick_recheck_app(settings, clock)
    async with LifespanManager(app):
        world = await build_dispatch_world(app.state.courtyard)
        watching = world.token("alice")
        clock.advance(seconds=1)

        async def change_password(http: httpx.AsyncClient) -> None:
            changed = await gql(http, CHANGE, {"current": PASSWORD, "new": NEW_PASSWORD}, token=world.token("alice"))
            assert changed["data"]["changePassword"]["__typename"] == "AuthPayload"

        (ended, _), seconds = await _follow_until_ended(app, world, watching, change_password)
    assert error_codes(ended["payload"]) == ["UNAUTHENTICATED"]
    assert seconds < 1.5


async def test_one_reading_checks_every_held_token_and_stops_only_the_revoked(client: httpx.AsyncClient, state) -> None:
    # given forty subscriptions held open by alice's and bob's tokens, and alice logging out of one of hers
    world = await build_world(state)
    tokens = {name: [world.token(name) for _ in range(20)] for name in ("alice", "bob")}
    claims = {raw: state.tokens.verify(raw) for raws in tokens.values() for raw in raws}
    stopped: list[str] = []
    releases = [state.revocations.hold(claims[raw], lambda raw=raw: stopped.append(raw)) for raw in claims]
    assert "errors" not in await gql(client, LOGOUT, token=tokens["alice"][0])
    # when the process's watch reads their standing
    with statements_run(state.engine) as statements:
        await state.revocations.check_now()
    # then two statements decided all forty, and only the logged-out token's subscription stops
    assert len(statements) == 2
    assert stopped == [tokens["alice"][0]]
    assert state.revocations.is_revoked(claims[tokens["alice"][0]])
    assert not state.revocations.is_revoked(claims[tokens["alice"][1]])
    for release in releases:
        release()
