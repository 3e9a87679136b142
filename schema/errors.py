"""Errors, two kinds: expected failures as typed union members, everything else as top-level errors."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

import kernel.errors
from kernel.errors import DomainError

__all__ = [
    "BadUserInputError",
    "ConflictError",
    "Error",
    "ErrorCode",
    "InvalidCredentialsError",
    "NotFoundError",
    "RowErrorType",
    "ImportRejectedError",
    "forbidden",
    "rate_limited",
    "unauthenticated",
]



ErrorCode = strawberry.enum(kernel.errors.ErrorCode, name="ErrorCode")


@strawberry.interface(name="Error")
class Error:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(description="Input path of the offending value, when one is to blame.")


@strawberry.type
class BadUserInputError(Error):
    pass


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type
class ConflictError(Error):
    pass


@strawberry.type
class InvalidCredentialsError(Error):
    pass


@strawberry.type(name="RowError")
class RowErrorType:
    row: int
    field: str
    reason: str


@strawberry.type
class ImportRejectedError(Error):
    """An import that wrote nothing, with every bad row and why."""

    row_errors: list[RowErrorType]


def _top_level(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def unauthenticated() -> GraphQLError:
    return _top_level("Authentication required: log in and send `Authorization: Bearer <token>`.", "UNAUTHENTICATED")


def forbidden(message: str = "Your role may not perform this operation.") -> GraphQLError:
    return _top_level(message, "FORBIDDEN")


def rate_limited(message: str) -> GraphQLError:
    return _top_level(message, "RATE_LIMITED")


def error_result(error: DomainError) -> Error:
    """The union member for a service's expected failure."""
    row_errors = getattr(error, "row_errors", None)
    if row_errors is not None:
        return ImportRejectedError(
            code=ErrorCode.BAD_USER_INPUT,
            message=error.message,
            field=error.field,
            row_errors=[RowErrorType(row=e.row_number, field=e.field, reason=e.reason) for e in row_errors],
        )
    if error.code is ErrorCode.NOT_FOUND:
        return NotFoundError(code=error.code, message=error.message, field=error.field)
    if error.code is ErrorCode.CONFLICT:
        return ConflictError(code=error.code, message=error.message, field=error.field)
    if error.code is ErrorCode.INVALID_CREDENTIALS:
        return InvalidCredentialsError(code=error.code, message=error.message, field=error.field)
    return BadUserInputError(code=ErrorCode.BAD_USER_INPUT, message=error.message, field=error.field)
