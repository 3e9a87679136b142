"""Exceptions that are not bugs: what a client's input provoked, and a database that cannot serve now.

Anything else that escapes a resolver is a bug (INTERNAL_SERVER_ERROR). These two families arrive as
plain exceptions too, so they are recognised by what they are and what caused them.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

__all__ = [
    "SERVICE_UNAVAILABLE",
    "UNAVAILABLE_MESSAGE",
    "database_unavailable",
    "number_out_of_range",
    "text_not_storable",
]

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service cannot reach its database right now; retry shortly."

# PostgreSQL SQLSTATE classes and codes of a server that is going away, full, or will not let us in:
# connection exceptions, insufficient resources, shutting down or starting up, a database that does not
# exist, refused credentials. None of them is the request's fault, and retrying later may work.
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "28"})
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "3D000"})
# SQLite result codes of a file that cannot be opened, read or written, or stays locked past the busy
# timeout (extended codes such as SQLITE_IOERR_READ share their primary code's prefix).
_UNAVAILABLE_SQLITE_ERRORS = (
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_FULL",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_READONLY",
)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or cannot serve right now."""
    for cause in _causes(error):
        # Refused, reset or unresolvable addresses, a connect timeout, no pooled connection free in time.
        if isinstance(cause, (ConnectionError, TimeoutError, socket.gaierror, PoolTimeoutError)):
            return True
        if isinstance(cause, DBAPIError):
            if cause.connection_invalidated:  # the driver lost its connection in the middle of a statement
                return True
            sqlstate = getattr(cause.orig, "sqlstate", None)
            if sqlstate and (sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in _UNAVAILABLE_SQLSTATES):
                return True
        if isinstance(cause, sqlite3.Error) and str(getattr(cause, "sqlite_errorname", "")).startswith(
            _UNAVAILABLE_SQLITE_ERRORS
        ):
            return True
    return False


def number_out_of_range(error: BaseException) -> bool:
    """Whether a number from the request did not fit the database's integers (an ID past 2^63 on SQLite,
    past 2^31 in an INTEGER column on PostgreSQL): the drivers raise OverflowError before sending it."""
    return any(isinstance(cause, OverflowError) for cause in _causes(error))


# PostgreSQL refuses a NUL character in text (SQLite stores it): "invalid byte sequence for encoding".
_TEXT_NOT_STORABLE_SQLSTATE = "22021"


def text_not_storable(error: BaseException) -> bool:
    """Whether a text from the request holds a character PostgreSQL cannot store (NUL)."""
    return any(
        isinstance(cause, DBAPIError) and getattr(cause.orig, "sqlstate", None) == _TEXT_NOT_STORABLE_SQLSTATE
        or getattr(cause, "sqlstate", None) == _TEXT_NOT_STORABLE_SQLSTATE
        for cause in _causes(error)
    )
