"""login: tokens, wrong passwords, and growing delays per address and account instead of a lock-out."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from starlette.applications import Starlette

from db.models import LoginThrottle
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


def _from(app: Starlette, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver")


async def _fail(client: httpx.AsyncClient, email: str, times: int) -> list[str]:
    answers = []
    for _ in range(times):
        result = await gql(client, LOGIN, {"email": email, "password": "wrong"})
        answers.append(result["data"]["login"]["code"] if result["data"] else error_codes(result)[0])
    return answers


async def test_failures_slow_the_account_down_with_doubling_delays_instead_of_locking_it(
    client: httpx.AsyncClient, state, clock: Clock
) -> None:
    # given five failures (the free ones)
    await build_world(state)
    assert await _fail(client, "bob@example.test", 5) == ["INVALID_CREDENTIALS"] * 5
    # when the right password comes at once
    throttled = await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
    # then it waits out a 2 s window, whatever the password
    assert throttled["data"] is None and error_codes(throttled) == ["RATE_LIMITED"]
    assert throttled["errors"][0]["extensions"]["retryAfter"] == 2
    clock.advance(seconds=2)
    assert await _fail(client, "bob@example.test", 1) == ["INVALID_CREDENTIALS"]
    # the next window is twice as long; attempts inside it change nothing
    for _ in range(3):
        refused = await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
        assert refused["errors"][0]["extensions"]["retryAfter"] == 4
    clock.advance(seconds=4)
    unlocked = await gql(client, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
    assert unlocked["data"]["login"]["__typename"] == "AuthPayload"


async def test_unknown_and_known_e_mails_are_throttled_alike(client: httpx.AsyncClient, state) -> None:
    await build_world(state)
    known = await _fail(client, "bob@example.test", 6)
    unknown = await _fail(client, "nobody@example.test", 6)
    assert known == unknown == ["INVALID_CREDENTIALS"] * 5 + ["RATE_LIMITED"]
    answers = [
        await gql(client, LOGIN, {"email": email, "password": "wrong"}) for email in ("bob@example.test", "nobody@example.test")
    ]
    assert answers[0]["errors"][0]["message"] == answers[1]["errors"][0]["message"]
    assert answers[0]["errors"][0]["extensions"] == answers[1]["errors"][0]["extensions"]


async def test_an_attacker_elsewhere_cannot_keep_the_owner_out_of_the_address_she_logs_in_from(
    app: Starlette, state, clock: Clock
) -> None:
    # given bob logs in from home, then someone guesses from another address until the account waits
    await build_world(state)
    async with _from(app, "198.51.100.7") as home, _from(app, "203.0.113.66") as attacker, _from(app, "192.0.2.1") as cafe:
        assert (await gql(home, LOGIN, {"email": "bob@example.test", "password": PASSWORD}))["data"]["login"]["token"]
        assert (await _fail(attacker, "bob@example.test", 12))[-1] == "RATE_LIMITED"
        # when bob tries from a new address, and from home, while the attacker's window runs
        waiting = await gql(cafe, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
        at_home = await gql(home, LOGIN, {"email": "bob@example.test", "password": PASSWORD})
        # then the new address waits out the current window only, and home is not held up at all
        assert error_codes(waiting) == ["RATE_LIMITED"] and waiting["errors"][0]["extensions"]["retryAfter"] == 2
        assert at_home["data"]["login"]["__typename"] == "AuthPayload"
        clock.advance(seconds=2)
        assert (await gql(cafe, LOGIN, {"email": "bob@example.test", "password": PASSWORD}))["data"]["login"]["token"]


async def test_one_address_spraying_many_accounts_is_slowed_down(app: Starlette, state) -> None:
    await build_world(state)
    async with _from(app, "203.0.113.66") as sprayer, _from(app, "198.51.100.7") as alice_at_home:
        answers = [
            (await _fail(sprayer, f"user{number}@example.test", 1))[0] for number in range(21)
        ]
        assert answers == ["INVALID_CREDENTIALS"] * 20 + ["RATE_LIMITED"]
        assert (await gql(alice_at_home, LOGIN, {"email": "alice@example.test", "password": PASSWORD}))["data"]["login"]["token"]


async def test_throttle_state_lives_in_the_database_for_every_instance(client: httpx.AsyncClient, state) -> None:
    await build_world(state)
    await _fail(client, "bob@example.test", 5)
    async with state.session_factory() as session:
        rows = (await session.scalars(select(LoginThrottle).where(LoginThrottle.key.like("account:%")))).all()
    assert [(row.failures, row.blocked_until is not None) for row in rows] == [(5, True)]


async def test_two_logins_in_one_request_are_a_request_error(client: httpx.AsyncClient, state) -> None:
    await build_world(state)
    document = (
        'mutation { a: login(email: "bob@example.test", password: "x") { __typename } '
        '...Again } fragment Again on Mutation { b: login(email: "bob@example.test", password: "y") { __typename } }'
    )
    result = await gql(client, document)
    assert result.get("data") is None
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "One `login` per request" in result["errors"][0]["message"]
    async with state.session_factory() as session:
        assert (await session.scalars(select(LoginThrottle))).all() == []


async def test_an_expired_or_forged_token_is_unauthenticated(client: httpx.AsyncClient, state, clock: Clock) -> None:
    world = await build_world(state)
    token = world.token("alice")
    assert error_codes(await gql(client, VIEWER, token=token + "x")) == ["UNAUTHENTICATED"]
    clock.advance(hours=12, seconds=1)
    assert error_codes(await gql(client, VIEWER, token=token)) == ["UNAUTHENTICATED"]
