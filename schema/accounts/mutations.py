"""Logging in."""

from __future__ import annotations

from typing import Annotated

import strawberry

from register.accounts import AccountLocked, Login, log_in
from schema.accounts.types import AuthPayload, ViewerType
from schema.context import Info
from schema.errors import InvalidCredentialsError, rate_limited
from schema.use_cases import run_mutation

__all__ = ["AccountMutations", "LoginResult"]

LoginResult = Annotated[AuthPayload | InvalidCredentialsError, strawberry.union("LoginResult")]


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Exchange e-mail and password for a bearer token. Five failures in a row lock the account for 15 minutes.")
    async def login(self, info: Info, email: str, password: str) -> LoginResult:
        now = info.context.now()

        def present(login: Login) -> AuthPayload:
            token = info.context.issue_token(login.user.id, now)
            verified = info.context.verify_token(token)
            assert verified is not None
            return AuthPayload(token=token, expires_at=verified[1], viewer=ViewerType.from_row(login.user, login.principal))

        try:
            return await run_mutation(
                lambda: log_in(info.context.session_factory, email=email, password=password, now=now), present
            )
        except AccountLocked as locked:
            raise rate_limited(f"Too many failed logins: this account is locked until {locked.until:%H:%M} UTC.") from None
