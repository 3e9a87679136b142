"""Errors, two kinds: expected failures as typed union members, everything else as top-level errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from graphql import GraphQLError

import kernel.errors
from kernel.errors import DomainError, InArrears
from schema.described_enum import described_enum

__all__ = [
    "BadUserInputError",
    "ConflictError",
    "Error",
    "ErrorCode",
    "InArrearsError",
    "InvalidCredentialsError",
    "NotFoundError",
    "RowErrorType",
    "ImportRejectedError",
    "result_union",
    "forbidden",
    "rate_limited",
    "unauthenticated",
]



ErrorCode = described_enum(
    kernel.errors.ErrorCode,
    name="ErrorCode",
    description=(
        "The stable code of an expected failure (the Error interface); front ends translate codes, messages are "
        "English."
    ),
    values={
        "BAD_USER_INPUT": "Something sent is invalid; `field` names the input path. Nothing was written.",
        "NOT_FOUND": "No such object, or one you may not see (someone else's IDs answer this too).",
        "CONFLICT": (
            "The object changed since you read it (expectedVersion), an idempotency key was reused with another input, "
            "or the action is not allowed in the object's state."
        ),
        "INVALID_CREDENTIALS": "Wrong e-mail or password (the same answer for unknown and known e-mails).",
        "IN_ARREARS": (
            "The owner's overdue arrears are above the project's threshold, so a non-urgent repair waits "
            "(InArrearsError: the amount and how to pay)."
        ),
    },
)


@strawberry.interface(
    name="Error",
    description="An expected failure, answered as data in a mutation's result union; the mutation wrote nothing.",
)
class Error:
    code: ErrorCode = strawberry.field(description="Stable code to branch on (and translate).")
    message: str = strawberry.field(description="What went wrong, in English, for developers and logs.")
    field: str | None = strawberry.field(description="Input path of the offending value, when one is to blame.")


@strawberry.type(description="Something sent is invalid (BAD_USER_INPUT); `field` names the input path.")
class BadUserInputError(Error):
    pass


@strawberry.type(description="An ID that does not exist, or that you may not see (NOT_FOUND).")
class NotFoundError(Error):
    pass


@strawberry.type(
    description=(
        "It clashes with what is stored (CONFLICT): a stale expectedVersion, an idempotency key reused with another "
        "input, an action the object's state does not allow, a duplicate."
    ),
)
class ConflictError(Error):
    pass


@strawberry.type(description="Wrong e-mail, password or reset code (INVALID_CREDENTIALS).")
class InvalidCredentialsError(Error):
    pass


@strawberry.type(
    description=(
        "A non-urgent repair waits (IN_ARREARS): the owner's overdue arrears are above the project's threshold. "
        "Urgent faults (leaks, power, gas, lifts, fire safety) always go through; paying below the threshold lifts it at once."
    )
)
class InArrearsError(Error):
    amount_overdue: Decimal = strawberry.field(description="What the owner owes past its due dates (yuan, decimal string).")
    threshold: Decimal = strawberry.field(description="The project's threshold (yuan): above it, non-urgent repairs wait.")
    how_to_pay: str = strawberry.field(description="How to pay, in the project's words.")
    notice: str = strawberry.field(description="All of it for the owner to read, in the project's language (zh-CN first).")


@strawberry.type(name="RowError", description="One bad row of an import file.")
class RowErrorType:
    row: int = strawberry.field(description="Its row number in the file, counting from 1 with the header rows.")
    field: str = strawberry.field(description="The column at fault.")
    reason: str = strawberry.field(description="Why, in English.")


@strawberry.type(description="An import that wrote nothing, with every bad row and why (BAD_USER_INPUT).")
class ImportRejectedError(Error):
    """An import that wrote nothing, with every bad row and why."""

    row_errors: list[RowErrorType] = strawberry.field(description="Every bad row.")


def result_union(payload: type, name: str) -> object:
    """The `<Verb><Noun>Result` union of a mutation's payload and the three errors a use case answers,
    described for front ends from its name."""
    mutation = name.removesuffix("Result")
    payload_name = payload.__strawberry_definition__.name  # type: ignore[attr-defined]
    description = (
        f"What `{mutation[0].lower()}{mutation[1:]}` answers: the {payload_name} on success; BadUserInputError "
        "(`field` names the input at fault), NotFoundError (an ID that does not exist or is not yours to see) or "
        "ConflictError (it clashes with what is stored). A failure writes nothing."
    )
    return Annotated[
        payload | BadUserInputError | NotFoundError | ConflictError, strawberry.union(name, description=description)
    ]


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
    if isinstance(error, InArrears):
        return InArrearsError(
            code=ErrorCode.IN_ARREARS,
            message=error.message,
            field=error.field,
            amount_overdue=error.amount_overdue,
            threshold=error.threshold,
            how_to_pay=error.how_to_pay,
            notice=error.notice,
        )
    if error.code is ErrorCode.NOT_FOUND:
        return NotFoundError(code=error.code, message=error.message, field=error.field)
    if error.code is ErrorCode.CONFLICT:
        return ConflictError(code=error.code, message=error.message, field=error.field)
    if error.code is ErrorCode.INVALID_CREDENTIALS:
        return InvalidCredentialsError(code=error.code, message=error.message, field=error.field)
    return BadUserInputError(code=ErrorCode.BAD_USER_INPUT, message=error.message, field=error.field)
