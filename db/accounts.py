"""Logins: password hashing, authentication with lock-out, and loading a user's permissions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Occupancy, RoleGrant, User
from kernel.principal import Principal, Role

__all__ = [
    "LOCKOUT_AFTER_FAILURES",
    "LOCKOUT_DURATION",
    "AccountLocked",
    "InvalidCredentials",
    "authenticate",
    "hash_password",
    "load_principal",
]

LOCKOUT_AFTER_FAILURES = 5
LOCKOUT_DURATION = dt.timedelta(minutes=15)

# OWASP's recommended Argon2id profile (19 MiB, 2 passes, 1 lane): ~80 ms per check on a 2-core host.
# The library default (64 MiB, 4 lanes) took ~670 ms there, which turns a login burst into a queue.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this keeps the time of a login for an unknown e-mail close to that of a known one.
_DUMMY_HASH = _hasher.hash("courtyard-timing-equaliser")


class InvalidCredentials(Exception):
    pass


class AccountLocked(Exception):
    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"account locked until {until.isoformat()}")
        self.until = until


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate(session: AsyncSession, *, email: str, password: str, now: dt.datetime) -> User:
    """Check a password; the fifth failure in a row locks the account for `LOCKOUT_DURATION`.

    The caller commits, so that failure counters persist even though the login itself fails.
    """
    user = await session.scalar(select(User).where(User.email == email.strip().lower()).with_for_update())
    if user is None or not user.is_active:
        _verify(_DUMMY_HASH, password)
        raise InvalidCredentials
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_login_count += 1
        if user.failed_login_count >= LOCKOUT_AFTER_FAILURES:
            user.failed_login_count = 0
            user.locked_until = now + LOCKOUT_DURATION
        raise InvalidCredentials
    user.failed_login_count = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def load_principal(session: AsyncSession, user_id: int, *, today: dt.date) -> Principal | None:
    """Roles per project and currently occupied units of an active user (one statement, two for an owner)."""
    # Every request starts here: plain columns, user and grants in one round trip, no ORM objects.
    rows = (
        await session.execute(
            select(User.is_active, User.party_id, User.technician_id, RoleGrant.project_id, RoleGrant.role)
            .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
            .where(User.id == user_id)
        )
    ).all()
    if not rows or not rows[0].is_active:
        return None
    party_id, technician_id = rows[0].party_id, rows[0].technician_id
    roles: dict[int, set[Role]] = defaultdict(set)
    for row in rows:
        if row.project_id is not None:
            roles[row.project_id].add(row.role)
    unit_ids: frozenset[int] = frozenset()
    if party_id is not None:
        unit_ids = frozenset(
            await session.scalars(
                select(Occupancy.unit_id).where(
                    Occupancy.party_id == party_id,
                    Occupancy.start_date <= today,
                    or_(Occupancy.end_date.is_(None), Occupancy.end_date >= today),
                )
            )
        )
    return Principal(
        user_id=user_id,
        roles={project: frozenset(held) for project, held in roles.items()},
        party_id=party_id,
        technician_id=technician_id,
        unit_ids=unit_ids,
    )
