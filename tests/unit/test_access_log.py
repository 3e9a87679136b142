"""The access log keeps which query parameters came, never their values."""

from __future__ import annotations

import logging

import pytest

from api.access_log import RedactQueryStrings, redacted


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/graphql?query=mutation%7Blogin(password:%22x%22)%7D&variables=%7B%7D", "/graphql?query=[redacted]&variables=[redacted]"),
        ("/attachments/7?expires=1767225600&signature=9f2c", "/attachments/7?expires=[redacted]&signature=[redacted]"),
        ("/track/VGlja2V0OjE=", "/track/VGlja2V0OjE="),
        ("/x?eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "/x?[redacted]"),
        ("/x?a%3Db=1&&c", "/x?[redacted]&[redacted]"),
    ],
)
def test_query_string_values_are_redacted(path: str, logged: str) -> None:
    assert redacted(path) == logged


def test_uvicorns_access_record_is_redacted_before_it_is_formatted() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/graphql?query={viewer{email}}", "1.1", 200), None,
    )
    assert RedactQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /graphql?query=[redacted] HTTP/1.1" 200'
