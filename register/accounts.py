"""Logins (throttled per address and account), logout, password change and reset, and loading a
caller's permissions together with whether their token still counts."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, and_, bindparam, delete, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from db.driver import DriverStatement
from db.models import Occupancy, Party, RevokedToken, RoleGrant, Technician, User
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, InvalidCredentials, NotFound
from kernel.principal import Principal, Role
from kernel.tokens import TokenClaims, issue_instant
from register.login_throttle import LoginThrottled, check_throttle, record_failure, record_success
from register.policy import may_reset_password

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_RESET_LIFETIME",
    "Login",
    "LoginThrottled",
    "PasswordReset",
    "change_password",
    "current_token_ids",
    "hash_password",
    "issue_password_reset",
    "load_principal",
    "log_in",
    "log_out",
    "reset_password",
    "role_grants",
    "token_is_current",
]

MIN_PASSWORD_LENGTH = 10
PASSWORD_RESET_LIFETIME = dt.timedelta(hours=24)
"""Long enough to reach the resident through the front desk or a phone call, short enough to go stale."""

# OWASP's recommended Argon2id profile (19 MiB, 2 passes, 1 lane): ~80 ms per check on a 2-core host.
# The library default (64 MiB, 4 lanes) took ~670 ms there, which turns a login burst into a queue.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this keeps the time of a login for an unknown e-mail close to that of a known one.
_DUMMY_HASH = _hasher.hash("courtyard-timing-equaliser")


@dataclass(frozen=True)
class Login:
    """Who just logged in (or changed their password), with the permissions they hold now."""

    user: User
    principal: Principal


@dataclass(frozen=True)
class PasswordReset:
    """A one-time reset code, shown once to the administrator who asked for it (only its digest is kept)."""

    email: str
    code: str
    expires_at: dt.datetime


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


def _normalized(email: str) -> str:
    return email.strip().lower()


def _check_new_password(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field=field)


async def log_in(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    email: str,
    password: str,
    client_address: str,
    now: dt.datetime,
) -> Login:
    """Check a password, throttled per client address and per account (`register.login_throttle`).

    A wrong password or an unknown e-mail is INVALID_CREDENTIALS, raised after the failure has been
    committed; a throttled attempt `LoginThrottled`, before any password is checked. Known and unknown
    e-mails are counted, throttled and timed alike.
    """
    email = _normalized(email)
    refusal: InvalidCredentials | None = None
    principal: Principal | None = None
    async with unit_of_work(session_factory) as work:
        throttle = await check_throttle(work.session, email=email, address=client_address, now=now)
        user = await work.session.scalar(select(User).where(User.email == email))
        if user is None or not user.is_active:
            _verify(_DUMMY_HASH, password)
            user = None
        elif not _verify(user.password_hash, password):
            user = None
        if user is None:
            record_failure(throttle, now)
            refusal = _wrong()
        else:
            await record_success(work.session, throttle, now)
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            principal = await load_principal(work.session, user.id, today=now.date())
    if refusal is not None:
        raise refusal
    assert user is not None and principal is not None, "an active user always has a principal"
    return Login(user=user, principal=principal)


async def log_out(session_factory: async_sessionmaker[AsyncSession], token: TokenClaims, *, now: dt.datetime) -> None:
    """Revoke this one token; the user's other sessions stay logged in."""
    async with unit_of_work(session_factory) as work:
        # Tokens that have expired anyway need no row: their revocations are swept on the way.
        await work.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
        if await work.session.get(RevokedToken, token.token_id) is None:
            work.session.add(RevokedToken(token_id=token.token_id, user_id=token.user_id, expires_at=token.expires_at))


async def change_password(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
    client_address: str,
    now: dt.datetime,
) -> Login:
    """Set a new password after checking the current one (throttled like a login); every token issued
    before now stops counting, the caller's included: they get a fresh one."""
    _check_new_password(new_password, "newPassword")
    refusal: InvalidCredentials | None = None
    async with unit_of_work(session_factory) as work:
        user = await work.session.get(User, principal.user_id, with_for_update=True)
        if user is None or not user.is_active:
            raise NotFound("No such user.", field="currentPassword")
        throttle = await check_throttle(work.session, email=user.email, address=client_address, now=now)
        if not _verify(user.password_hash, current_password):
            record_failure(throttle, now)
            refusal = InvalidCredentials("The current password is wrong.", field="currentPassword")
        else:
            user.password_hash = hash_password(new_password)
            user.tokens_valid_after = issue_instant(now)
            user.password_reset_digest, user.password_reset_expires_at = None, None
            fresh = await load_principal(work.session, user.id, today=now.date())
    if refusal is not None:
        raise refusal
    assert fresh is not None
    return Login(user=user, principal=fresh)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def _projects_of(session: AsyncSession, user: User) -> frozenset[int]:
    statements = [select(RoleGrant.project_id).where(RoleGrant.user_id == user.id)]
    if user.party_id is not None:
        statements.append(select(Party.project_id).where(Party.id == user.party_id))
    if user.technician_id is not None:
        statements.append(select(Technician.project_id).where(Technician.id == user.technician_id))
    found: set[int] = set()
    for statement in statements:
        found.update(await session.scalars(statement))
    return frozenset(found)


async def issue_password_reset(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, email: str, now: dt.datetime
) -> PasswordReset:
    """An administrator of the user's project issues a one-time reset code (valid `PASSWORD_RESET_LIFETIME`)
    to hand to the user in person or by phone. The user's earlier tokens stop counting at once, and so
    does any earlier reset code; the administrator never learns the new password."""
    async with unit_of_work(session_factory) as work:
        user = await work.session.scalar(select(User).where(User.email == _normalized(email)).with_for_update())
        if user is None or not may_reset_password(principal, await _projects_of(work.session, user)):
            raise NotFound("No such user in a project you administer.", field="email")
        code = secrets.token_urlsafe(24)
        user.password_reset_digest = _digest(code)
        user.password_reset_expires_at = now + PASSWORD_RESET_LIFETIME
        user.tokens_valid_after = issue_instant(now)
    return PasswordReset(email=user.email, code=code, expires_at=now + PASSWORD_RESET_LIFETIME)


async def reset_password(
    session_factory: async_sessionmaker[AsyncSession], *, email: str, code: str, new_password: str, now: dt.datetime
) -> Login:
    """Set a new password with a reset code; the code works once, and every earlier token stops counting."""
    _check_new_password(new_password, "newPassword")
    async with unit_of_work(session_factory) as work:
        user = await work.session.scalar(select(User).where(User.email == _normalized(email)).with_for_update())
        valid = (
            user is not None
            and user.is_active
            and user.password_reset_digest is not None
            and user.password_reset_expires_at is not None
            and user.password_reset_expires_at > now
            and hmac.compare_digest(user.password_reset_digest, _digest(code))
        )
        if not valid:
            raise InvalidCredentials("The reset code is wrong, used or expired.", field="code")
        assert user is not None
        user.password_hash = hash_password(new_password)
        user.password_reset_digest, user.password_reset_expires_at = None, None
        user.tokens_valid_after = issue_instant(now)
        principal = await load_principal(work.session, user.id, today=now.date())
    assert principal is not None
    return Login(user=user, principal=principal)


async def token_is_current(session: AsyncSession, token: TokenClaims) -> bool:
    """Whether the token's user is active and the token was neither logged out nor issued before the
    last password change or reset (one indexed read)."""
    row = (
        await session.execute(
            select(User.is_active, User.tokens_valid_after, _revoked(token)).where(User.id == token.user_id)
        )
    ).first()
    return row is not None and row[0] and _still_valid(token, row[1], row[2])


async def current_token_ids(session: AsyncSession, tokens: Sequence[TokenClaims]) -> set[str]:
    """Which of `tokens` still count (see `token_is_current`), read for all of them in two statements."""
    users = {
        user_id: (active, valid_after)
        for user_id, active, valid_after in await session.execute(
            select(User.id, User.is_active, User.tokens_valid_after).where(User.id.in_({token.user_id for token in tokens}))
        )
    }
    revoked = set(
        await session.scalars(select(RevokedToken.token_id).where(RevokedToken.token_id.in_([token.token_id for token in tokens])))
    )
    return {
        token.token_id
        for token in tokens
        if token.user_id in users
        and users[token.user_id][0]
        and _still_valid(token, users[token.user_id][1], token.token_id in revoked)
    }


def _revoked(token: TokenClaims):  # type: ignore[no-untyped-def]
    return exists().where(RevokedToken.token_id == token.token_id).label("revoked")


def _still_valid(token: TokenClaims, valid_after: dt.datetime | None, revoked: bool) -> bool:
    return not revoked and (valid_after is None or token.issued_at >= valid_after)


def _principal_statement(*, with_token: bool) -> Select[Any]:
    """User, grants, occupied units and the token's standing, for `load_principal`."""
    revoked = (
        exists().where(RevokedToken.token_id == bindparam("token_id")).label("revoked")
        if with_token
        else literal(False).label("revoked")
    )
    today = bindparam("today")
    occupied_today = and_(
        Occupancy.party_id == User.party_id,
        Occupancy.start_date <= today,
        or_(Occupancy.end_date.is_(None), Occupancy.end_date >= today),
    )
    return (
        select(
            User.is_active,
            User.party_id,
            User.technician_id,
            User.tokens_valid_after,
            revoked,
            RoleGrant.project_id,
            RoleGrant.role,
            Occupancy.unit_id,
        )
        .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(Occupancy, occupied_today)
        .where(User.id == bindparam("user_id"))
    )


# Built once, and sent to the driver: every request reads its principal, and building the statement
# cost more than running it.
_PRINCIPAL_WITH_TOKEN = DriverStatement(_principal_statement(with_token=True))
_PRINCIPAL = DriverStatement(_principal_statement(with_token=False))


async def load_principal(
    session: AsyncSession | AsyncConnection, user_id: int, *, today: dt.date, token: TokenClaims | None = None
) -> Principal | None:
    """Roles per project and currently occupied units of an active user, in one statement; None when
    `token` (the one the caller presented) has been revoked or predates a password change. Given a
    connection outside a transaction (`db.driver.connection_for_reads`), that statement is all it sends."""
    # Every request starts here: plain columns, user, grants, occupied units and the token's standing in
    # one round trip. The rows are grants × occupancies of one user: a handful, even for an owner of
    # several units who also works in several projects.
    connection = session if isinstance(session, AsyncConnection) else await session.connection()
    if token is None:
        rows = await _PRINCIPAL.rows(connection, {"user_id": user_id, "today": today})
    else:
        rows = await _PRINCIPAL_WITH_TOKEN.rows(connection, {"user_id": user_id, "today": today, "token_id": token.token_id})
    if not rows:
        return None
    is_active, party_id, technician_id, tokens_valid_after, revoked = rows[0][:5]
    if not is_active or (token is not None and not _still_valid(token, tokens_valid_after, revoked)):
        return None
    roles: dict[int, set[Role]] = defaultdict(set)
    for *_, project_id, role, _ in rows:
        if project_id is not None:
            roles[project_id].add(role)
    unit_ids = frozenset(unit_id for *_, unit_id in rows if unit_id is not None)
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
