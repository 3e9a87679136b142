"""Growing delays between failed logins, per client address and per account, kept in the database.

Three kinds of key, one `login_throttle` row each, shared by every server instance:

- the client address: every failure from it, whatever e-mail was tried (password spraying);
- the account (the e-mail as typed, known or not, so unknown e-mails behave exactly like known ones):
  every failure on it from any address (guessing one password from many addresses);
- an account's known address: where that account logged in successfully in the last 90 days. The
  account key does not apply there, so an attacker guessing from elsewhere cannot keep the owner out of their own account;
  from a new address the owner waits at most the delay window running when they try.

After `free_failures` failures a key is blocked for `first_delay`, doubling with each further failure up
to `ceiling`; attempts refused while blocked are not checked and do not count, so they cannot extend the
window. A key whose last failure is older than `forget_after` starts again from zero.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LoginThrottle

__all__ = [
    "ACCOUNT_LIMITS",
    "ADDRESS_LIMITS",
    "KNOWN_ADDRESS_KEPT",
    "LoginThrottled",
    "ThrottleLimits",
    "blocked_for",
    "check_throttle",
    "forget_stale",
    "record_failure",
    "record_success",
]


@dataclass(frozen=True)
class ThrottleLimits:
    free_failures: int
    first_delay: dt.timedelta
    ceiling: dt.timedelta
    forget_after: dt.timedelta

    def delay_after(self, failures: int) -> dt.timedelta | None:
        """How long a key with `failures` recent failures is blocked; None while failures are free."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 32)  # 2^32 s is far past any ceiling
        return min(self.first_delay * 2**doublings, self.ceiling)


# A typo or two is free; a forgotten password gets ~5 tries, then 2 s, 4 s, … up to 15 minutes per try,
# about a hundred guesses a day at most.
ACCOUNT_LIMITS = ThrottleLimits(
    free_failures=5,
    first_delay=dt.timedelta(seconds=2),
    ceiling=dt.timedelta(minutes=15),
    forget_after=dt.timedelta(hours=24),
)
# One office behind one NAT address mistypes a few times an hour; a sprayer tries thousands of accounts.
ADDRESS_LIMITS = ThrottleLimits(
    free_failures=20,
    first_delay=dt.timedelta(seconds=2),
    ceiling=dt.timedelta(minutes=15),
    forget_after=dt.timedelta(hours=1),
)
KNOWN_ADDRESS_KEPT = dt.timedelta(days=90)
"""How long an address stays known for an account after its last successful login there."""


class LoginThrottled(Exception):
    """Too many recent failures for this address or account: try again after `retry_after`."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        super().__init__(f"login throttled for {retry_after}")
        self.retry_after = retry_after


def _digest(*parts: str) -> str:
    # Throttle rows outlive requests: they hold no e-mail or address in the clear.
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:64]


def _address_key(address: str) -> str:
    return "address:" + _digest(address)[:56]


def _account_key(email: str) -> str:
    return "account:" + _digest(email)[:56]


def _known_key(email: str, address: str) -> str:
    return "known:" + _digest(email, address)[:56]


def blocked_for(row: LoginThrottle | None, now: dt.datetime) -> dt.timedelta | None:
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return None
    return row.blocked_until - now


async def _locked_rows(session: AsyncSession, keys: Iterable[str], now: dt.datetime) -> dict[str, LoginThrottle]:
    """The rows of `keys`, created if missing and locked until the transaction ends, in key order (so two
    logins never wait on each other's rows crosswise)."""
    keys = sorted(set(keys))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(LoginThrottle)
        .values([{"key": key, "failures": 0, "updated_at": now} for key in keys])
        .on_conflict_do_nothing(index_elements=["key"])
    )
    rows = await session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.key.in_(keys))
        .order_by(LoginThrottle.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.key: row for row in rows}


@dataclass
class ThrottleState:
    """The rows one login attempt reads and updates (the two counting ones locked)."""

    email: str
    client_address: str
    address: LoginThrottle
    account: LoginThrottle


async def check_throttle(session: AsyncSession, *, email: str, address: str, now: dt.datetime) -> ThrottleState:
    """Lock this attempt's rows; raise `LoginThrottled` (the longer wait) if a key that applies is blocked."""
    address_key, account_key = _address_key(address), _account_key(email)
    rows = await _locked_rows(session, (address_key, account_key), now)
    state = ThrottleState(email, address, rows[address_key], rows[account_key])
    known = await session.get(LoginThrottle, _known_key(email, address))
    # A known address is a row whose `blocked_until` says until when it stays known.
    from_known_address = known is not None and known.blocked_until is not None and known.blocked_until > now
    applying = [state.address] if from_known_address else [state.address, state.account]
    waits = [wait for row in applying if (wait := blocked_for(row, now)) is not None]
    if waits:
        raise LoginThrottled(max(waits))
    return state


def _fail(row: LoginThrottle, limits: ThrottleLimits, now: dt.datetime) -> None:
    if now - row.updated_at > limits.forget_after:
        row.failures = 0
    row.failures += 1
    row.updated_at = now
    delay = limits.delay_after(row.failures)
    row.blocked_until = now + delay if delay is not None else None


def record_failure(state: ThrottleState, now: dt.datetime) -> None:
    _fail(state.address, ADDRESS_LIMITS, now)
    _fail(state.account, ACCOUNT_LIMITS, now)


async def record_success(session: AsyncSession, state: ThrottleState, now: dt.datetime) -> None:
    """The owner is in: their account starts afresh and this address is known for it. The address key
    keeps its failures: logging into one's own account must not wash away guesses at others."""
    state.account.failures, state.account.blocked_until, state.account.updated_at = 0, None, now
    known = (await _locked_rows(session, [_known_key(state.email, state.client_address)], now)).popitem()[1]
    known.blocked_until, known.updated_at = now + KNOWN_ADDRESS_KEPT, now
    await forget_stale(session, now)


async def forget_stale(session: AsyncSession, now: dt.datetime) -> None:
    """Drop rows nothing will read again (no failure or known login for longer than anything is kept)."""
    oldest_kept = now - max(ACCOUNT_LIMITS.forget_after, ADDRESS_LIMITS.forget_after, KNOWN_ADDRESS_KEPT)
    await session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < oldest_kept))
