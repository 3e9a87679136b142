"""Logins: password hashing, logging in with lock-out, and loading a user's permissions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Occupancy, RoleGrant, User
from db.unit_of_work import unit_of_work
from kernel.errors import InvalidCredentials
from kernel.principal import Principal, Role

__all__ = [
    "LOCKOUT_AFTER_FAILURES",
    "LOCKOUT_DURATION",
    "AccountLocked",
    "Login",
    "hash_password",
    "load_principal",
    "log_in",
    "role_grants",
]

LOCKOUT_AFTER_FAILURES = 5
LOCKOUT_DURATION = dt.timedelta(minutes=15)

# OWASP's recommended Argon2id profile (19 MiB, 2 passes, 1 lane): ~80 ms per check on a 2-core host.
# The library default (64 MiB, 4 lanes) took ~670 ms there, which turns a login burst into a queue.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this keeps the time of a login for an unknown e-mail close to that of a known one.
_DUMMY_HASH = _hasher.hash("courtyard-timing-equaliser")


class AccountLocked(Exception):
    """Too many failed logins in a row: no password is checked until `until`."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"account locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class Login:
    """Who just logged in, with the permissions they hold now."""

    user: User
    principal: Principal


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _wrong() -> InvalidCredentials:
    # Unknown e-mail and wrong password answer alike, so a login cannot probe for accounts.
    return InvalidCredentials("E-mail or password is wrong.", field="password")


async def _check_password(session: AsyncSession, *, email: str, password: str, now: dt.datetime) -> User:
    user = await session.scalar(select(User).where(User.email == email.strip().lower()).with_for_update())
    if user is None or not user.is_active:
        _verify(_DUMMY_HASH, password)
        raise _wrong()
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_login_count += 1
        if user.failed_login_count >= LOCKOUT_AFTER_FAILURES:
            user.failed_login_count = 0
            user.locked_until = now + LOCKOUT_DURATION
        raise _wrong()
    user.failed_login_count = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def log_in(
    session_factory: async_sessionmaker[AsyncSession], *, email: str, password: str, now: dt.datetime
) -> Login:
    """Check a password; the fifth failure in a row locks the account for `LOCKOUT_DURATION`.

    A wrong password is INVALID_CREDENTIALS, a locked account `AccountLocked`; both are raised only after
    the failure count has been committed.
    """
    refusal: InvalidCredentials | AccountLocked | None = None
    principal: Principal | None = None
    async with unit_of_work(session_factory) as work:
        try:
            user = await _check_password(work.session, email=email, password=password, now=now)
        except (InvalidCredentials, AccountLocked) as error:
            refusal = error
        else:
            principal = await load_principal(work.session, user.id, today=now.date())
    if refusal is not None:
        raise refusal
    assert principal is not None, "an active user always has a principal"
    return Login(user=user, principal=principal)


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


def role_grants(principal: Principal) -> list[tuple[int, Role]]:
    """Every (project, role) the principal holds, by project and then role name."""
    return [
        (project, role)
        for project, roles in sorted(principal.roles.items())
        for role in sorted(roles, key=lambda r: r.value)
    ]
