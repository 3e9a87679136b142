"""Checks of free text that every use case applies the same way."""

from __future__ import annotations

from kernel.errors import BadInput

__all__ = ["optional_text", "required_text"]


def required_text(value: str | None, field: str, *, max_length: int) -> str:
    """`value` stripped; empty or longer than `max_length` characters is BAD_USER_INPUT on `field`."""
    cleaned = _stripped(value, field, max_length)
    if not cleaned:
        raise BadInput(f"{field} must not be empty.", field=field)
    return cleaned


def optional_text(value: str | None, field: str, *, max_length: int) -> str | None:
    """`value` stripped, None when it is empty; longer than `max_length` characters is BAD_USER_INPUT."""
    return _stripped(value, field, max_length) or None


def _stripped(value: str | None, field: str, max_length: int) -> str:
    cleaned = (value or "").strip()
    if len(cleaned) > max_length:
        raise BadInput(f"{field} must be at most {max_length} characters.", field=field)
    return cleaned
