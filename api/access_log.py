"""Keep secrets out of uvicorn's access log: query strings keep their parameter names, not their values.

GraphQL sent by GET carries the whole document and its variables (a `login` mutation's password too:
the request line is logged although the mutation is refused); attachment links carry their signature.
Which parameters came is enough to read a log by.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

__all__ = ["RedactQueryStrings", "redact_access_log", "redacted"]

_REDACTED = "[redacted]"
# Only `name=value` pairs keep their name, and only a name that looks like one: a bare `?<token>` does not.
_PARAMETER_NAME = re.compile(r"[A-Za-z_][\w.\-\[\]]{0,39}")
# uvicorn logs HTTP requests on the access logger and websocket handshakes on the error logger, with the
# path and query string as one of the record's arguments.
_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redacted(path: str) -> str:
    """`/graphql?query=…&variables=…` becomes `/graphql?query=[redacted]&variables=[redacted]`."""
    base, separator, query = path.partition("?")
    if not separator:
        return path
    parameters = []
    for pair in filter(None, query.split("&")):
        name, equals, _ = pair.partition("=")
        name = unquote_plus(name)
        parameters.append(f"{name}={_REDACTED}" if equals and _PARAMETER_NAME.fullmatch(name) else _REDACTED)
    return base + "?" + "&".join(parameters)


class RedactQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redacted(arg) if isinstance(arg, str) and arg.startswith("/") and "?" in arg else arg
                for arg in record.args
            )
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's loggers, once per process however many apps are built."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactQueryStrings) for existing in logger.filters):
            logger.addFilter(RedactQueryStrings())
