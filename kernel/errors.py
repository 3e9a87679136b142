"""Expected failures raised by use cases; the GraphQL layer turns each into a typed error result.

`ErrorCode` is the one list of codes: the GraphQL `ErrorCode` enum is registered from it, so a code a use
case raises is always one the API can answer.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

__all__ = [
    "AccessDenied",
    "BadInput",
    "Conflict",
    "DomainError",
    "ErrorCode",
    "InArrears",
    "InvalidCredentials",
    "NotFound",
]


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    IN_ARREARS = "IN_ARREARS"


class DomainError(Exception):
    """A failure the caller can do something about; the use case that raised it wrote nothing."""

    code: ClassVar[ErrorCode] = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


class NotFound(DomainError):
    """The object does not exist or the caller may not see it: both answer the same, to leak nothing."""

    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class InvalidCredentials(DomainError):
    code = ErrorCode.INVALID_CREDENTIALS


class InArrears(DomainError):
    """An owner's overdue arrears are above their project's threshold, so a non-urgent request waits:
    what they owe, the threshold, how to pay, and all of it said in the project's language (`notice`)."""

    code = ErrorCode.IN_ARREARS

    def __init__(
        self, message: str, *, amount_overdue: Decimal, threshold: Decimal, how_to_pay: str, notice: str, field: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.amount_overdue = amount_overdue
        self.threshold = threshold
        self.how_to_pay = how_to_pay
        self.notice = notice


class AccessDenied(Exception):
    """The caller's roles may not perform this operation at all (a top-level FORBIDDEN error)."""
