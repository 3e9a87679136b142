"""login: tokens, wrong passwords, and the five-strikes lock-out."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from db.models import User
from tests.conftest import Clock
from tests.integration.world import PASSWORD, build_world, error_codes, gql

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on AuthPayload { token expiresAt viewer { email } }
    ... on Error { code message field }
  }
}
"""
VIEWER = "{ viewer { email displayName roles { role project { name } } } }"


async def test_login_returns_a_token_that_identifies_the_user(client: httpx.AsyncClient, state, clock: Clock) -> None:
    # given
    await build_world(state)
    # when
    result = await gql(client, LOGIN, {"email": "Alice@Example.test ", "password": PASSWORD})
    # then
    payload = result["data"]["login"]
    assert payload["__typename"] == "AuthPayload"
    assert payload["viewer"]["email"] == "alice@example.test"
    assert payload["expiresAt"].startswith("2026-11-02T21:00:00")
    viewer = await gql(client, VIEWER, token=payload["token"])
    assert viewer["data"]["viewer"]["roles"] == [{"role": "OWNER", "project": {"name": "Lakeside"}}]


async def test_wrong_password_and_unknown_email_answer_the_same_typed_error(client: httpx.AsyncClient, state) -> None:
    await build_world(state)
    wrong = await gql(client, LOGIN, {"email": "alice@example.test", "password": "nope"})
    unknown = await gql(client, LOGIN, {"email": "nobody@example.test", "password": "nope"})
    for result in (wrong, unknown):
        assert result["data"]["login"] == {
            "__typename": "InvalidCredentialsError",
            "code": "INVALID_CREDENTIALS",
            "message": "E-mail or password is wrong.",
            "field": "password",
        }


async def test_five_failures_in_a_row_lock_the_account_for_fifteen_minutes(
    client: httpx.AsyncClient, state, clock: Clock
) -> None:
    # given
    await build_world(state)
    for _ in range(5):
        result = await gql(client, LOGIN, {"email": "bob@example.test", "password": "wrong"})
        assert result["data"]["login"]["code"] == "INVALID_CREDENTIALS"
    # when the right password comes too late
    locked = await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
    # then
    assert locked["data"] is None
    assert error_codes(locked) == ["RATE_LIMITED"]
    clock.advance(minutes=14, seconds=59)
    assert error_codes(await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})) == ["RATE_LIMITED"]
    clock.advance(seconds=1)
    unlocked = await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
    assert unlocked["data"]["login"]["__typename"] == "AuthPayload"


async def test_a_success_resets_the_failure_count(client: httpx.AsyncClient, state) -> None:
    await build_world(state)
    for _ in range(4):
        await gql(client, LOGIN, {"email": "bob@example.test", "password": "wrong"})
    await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
    for _ in range(4):
        await gql(client, LOGIN, {"email": "bob@example.test", "password": "wrong"})
    result = await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
    assert result["data"]["login"]["__typename"] == "AuthPayload"
    async with state.session_factory() as session:
        bob = await session.scalar(select(User).where(User.email == "bob@example.test"))
    assert bob is not None and bob.failed_login_count == 0 and bob.locked_until is None


async def test_an_expired_or_forged_token_is_unauthenticated(client: httpx.AsyncClient, state, clock: Clock) -> None:
    world = await build_world(state)
    token = world.token("alice")
    assert error_codes(await gql(client, VIEWER, token=token + "x")) == ["UNAUTHENTICATED"]
    clock.advance(hours=12, seconds=1)
    assert error_codes(await gql(client, VIEWER, token=token)) == ["UNAUTHENTICATED"]
