"""Expected failures raised by use cases; the GraphQL layer turns each into a typed error result.

`ErrorCode` is the one list of codes: the GraphQL `ErrorCode` enum is registered from it, so a code a use
case raises is always one the API can answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

__all__ = ["AccessDenied", "BadInput", "Conflict", "DomainError", "ErrorCode", "InvalidCredentials", "NotFound"]


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"


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


class AccessDenied(Exception):
    """The caller's roles may not perform this operation at all (a top-level FORBIDDEN error)."""
