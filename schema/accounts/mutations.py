"""Logging in."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.accounts import AccountLocked, InvalidCredentials, authenticate, load_principal
from schema.accounts.types import AuthPayload, InvalidCredentialsError, ViewerType
from schema.context import Info
from schema.errors import ErrorCode, rate_limited

__all__ = ["AccountMutations", "LoginResult"]

LoginResult = Annotated[AuthPayload | InvalidCredentialsError, strawberry.union("LoginResult")]


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Exchange e-mail and password for a bearer token. Five failures in a row lock the account for 15 minutes.")
    async def login(self, info: Info, email: str, password: str) -> LoginResult:
        now = info.context.now()
        async with info.context.session_factory() as session:
            async with session.begin():
                try:
                    user = await authenticate(session, email=email, password=password, now=now)
                except InvalidCredentials:
                    user = None
                except AccountLocked as locked:
                    raise rate_limited(
                        f"Too many failed logins: this account is locked until {locked.until:%H:%M} UTC."
                    ) from None
            if user is None:
                return InvalidCredentialsError(
                    code=ErrorCode.INVALID_CREDENTIALS, message="E-mail or password is wrong.", field="password"
                )
            principal = await load_principal(session, user.id, today=now.date())
        assert principal is not None
        token = info.context.issue_token(user.id, now)
        verified = info.context.verify_token(token)
        assert verified is not None
        return AuthPayload(token=token, expires_at=verified[1], viewer=ViewerType.from_row(user, principal))
