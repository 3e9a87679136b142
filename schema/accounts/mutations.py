"""Logging in and out, changing a password, and an administrator's password reset."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Annotated

import strawberry
from graphql import GraphQLError

from register.accounts import (
    Login,
    LoginThrottled,
    PasswordReset,
    change_password,
    issue_password_reset,
    log_in,
    log_out,
    reset_password,
)
from register.policy import administers_register
from schema.accounts.types import AuthPayload, ViewerType
from schema.context import Info
from schema.errors import BadUserInputError, InvalidCredentialsError, NotFoundError, unauthenticated
from schema.permissions import IsAuthenticated, allowed_if, require_principal
from schema.use_cases import run_for_caller, run_mutation

__all__ = ["AccountMutations", "LoginResult"]

LoginResult = Annotated[AuthPayload | InvalidCredentialsError, strawberry.union(
    "LoginResult",
    description=(
        "What `login` answers: AuthPayload, or InvalidCredentialsError for a wrong e-mail or password (the same for "
        "unknown and known e-mails). Too many failures answer a top-level RATE_LIMITED error."
    ),
)]
ChangePasswordResult = Annotated[
    AuthPayload | InvalidCredentialsError | BadUserInputError, strawberry.union(
        "ChangePasswordResult",
        description=(
            "What `changePassword` answers: AuthPayload with a fresh token; InvalidCredentialsError when the current "
            "password is wrong; BadUserInputError when the new one is too short (field newPassword)."
        ),
    )
]
ResetPasswordResult = Annotated[
    AuthPayload | InvalidCredentialsError | BadUserInputError, strawberry.union(
        "ResetPasswordResult",
        description=(
            "What `resetPassword` answers: AuthPayload; InvalidCredentialsError for a wrong, used or expired code; "
            "BadUserInputError when the new password is too short."
        ),
    )
]


@strawberry.type(description="The answer of `logout`.")
class LogoutPayload:
    logged_out: bool = strawberry.field(description="True: the token sent with this request no longer counts.")


@strawberry.type(description="A reset code an admin issued for a user.")
class PasswordResetPayload:
    email: str = strawberry.field(description="The user's e-mail.")
    reset_code: str = strawberry.field(
        description="Shown once: hand it to the user (in person or by phone); with it they choose a new "
        "password in `resetPassword`. It works once."
    )
    expires_at: dt.datetime = strawberry.field(
        description="When the code stops working (UTC), 24 hours after it was issued."
    )


IssuePasswordResetResult = Annotated[
    PasswordResetPayload | NotFoundError, strawberry.union(
        "IssuePasswordResetResult",
        description=(
            "What `issuePasswordReset` answers: PasswordResetPayload, or NotFoundError when no user of your projects "
            "has that e-mail."
        ),
    )
]


def _throttled(throttled: LoginThrottled) -> GraphQLError:
    seconds = max(1, math.ceil(throttled.retry_after.total_seconds()))
    return GraphQLError(
        f"Too many failed logins: try again in {seconds} seconds.",
        extensions={"code": "RATE_LIMITED", "retryAfter": seconds},
    )


def _signed_in(info: Info, now: dt.datetime) -> Callable[[Login], AuthPayload]:
    def present(login: Login) -> AuthPayload:
        token = info.context.issue_token(login.user.id, now)
        claims = info.context.verify_token(token)
        assert claims is not None
        return AuthPayload(token=token, expires_at=claims.expires_at, viewer=ViewerType.from_row(login.user, login.principal))

    return present


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description="Exchange e-mail and password for a bearer token. Failed attempts slow down further "
        "ones per client address and per account (RATE_LIMITED with `extensions.retryAfter` seconds); "
        "one `login` per request."
    )
    async def login(
        self,
        info: Info,
        email: Annotated[str, strawberry.argument(description="The e-mail of the account.")],
        password: Annotated[str, strawberry.argument(description="Its password.")],
    ) -> LoginResult:
        now = info.context.now()
        try:
            return await run_mutation(
                lambda: log_in(
                    info.context.session_factory,
                    email=email,
                    password=password,
                    client_address=info.context.client_address,
                    now=now,
                ),
                _signed_in(info, now),
            )
        except LoginThrottled as throttled:
            raise _throttled(throttled) from None

    @strawberry.mutation(
        description="Revoke the token sent with this request; other sessions of the user stay logged in.",
        permission_classes=[IsAuthenticated],
    )
    async def logout(self, info: Info) -> LogoutPayload:
        await require_principal(info)
        token = info.context.token
        if token is None:
            raise unauthenticated()
        await log_out(info.context.session_factory, token, now=info.context.now())
        return LogoutPayload(logged_out=True)

    @strawberry.mutation(
        description="Change your password (the current one is checked, throttled like a login). Every token "
        "issued before, this request's included, stops counting: use the token in the answer.",
        permission_classes=[IsAuthenticated],
    )
    async def change_password(
        self,
        info: Info,
        current_password: Annotated[str, strawberry.argument(description="Your password now.")],
        new_password: Annotated[
            str,
            strawberry.argument(description="The new password, at least 10 characters."),
        ],
    ) -> ChangePasswordResult:
        now = info.context.now()
        try:
            return await run_for_caller(
                info,
                lambda principal: change_password(
                    info.context.session_factory,
                    principal,
                    current_password=current_password,
                    new_password=new_password,
                    client_address=info.context.client_address,
                    now=now,
                ),
                _signed_in(info, now),
            )
        except LoginThrottled as throttled:
            raise _throttled(throttled) from None

    @strawberry.mutation(
        description="ADMIN of a project the user belongs to: issue a one-time reset code (valid 24 hours) and "
        "log the user out everywhere. The administrator never sees or sets the new password.",
        permission_classes=[IsAuthenticated, allowed_if(administers_register, "Requires one of the roles ADMIN.")],
    )
    async def issue_password_reset(
        self,
        info: Info,
        email: Annotated[
            str,
            strawberry.argument(description="The e-mail of a user of a project you administer."),
        ],
    ) -> IssuePasswordResetResult:
        def present(reset: PasswordReset) -> PasswordResetPayload:
            return PasswordResetPayload(email=reset.email, reset_code=reset.code, expires_at=reset.expires_at)

        return await run_for_caller(
            info,
            lambda principal: issue_password_reset(
                info.context.session_factory, principal, email=email, now=info.context.now()
            ),
            present,
        )

    @strawberry.mutation(
        description="Choose a new password with the reset code an administrator issued; answers a token."
    )
    async def reset_password(
        self,
        info: Info,
        email: Annotated[str, strawberry.argument(description="Your e-mail.")],
        code: Annotated[str, strawberry.argument(description="The reset code the administrator gave you.")],
        new_password: Annotated[
            str,
            strawberry.argument(description="The new password, at least 10 characters."),
        ],
    ) -> ResetPasswordResult:
        now = info.context.now()
        return await run_mutation(
            lambda: reset_password(
                info.context.session_factory, email=email, code=code, new_password=new_password, now=now
            ),
            _signed_in(info, now),
        )
