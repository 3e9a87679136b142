"""Expected failures raised by services; the GraphQL layer turns each into a typed error result."""

from __future__ import annotations

from typing import ClassVar

__all__ = ["AccessDenied", "BadInput", "Conflict", "DomainError", "NotFound"]


class DomainError(Exception):
    code: ClassVar[str] = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadInput(DomainError):
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    """The object does not exist or the caller may not see it: both answer the same, to leak nothing."""

    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class AccessDenied(Exception):
    """The caller's roles may not perform this operation at all (a top-level FORBIDDEN error)."""
