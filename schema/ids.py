"""Relay global IDs: decoded from inputs here so a wrong or foreign ID answers NOT_FOUND with its field,
and encoded for the ids an object names without resolving (a plan's tickets, an event's ticket)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from kernel.errors import NotFound

__all__ = ["decode_id", "decode_optional_id", "encode_id", "encode_optional_id"]


def decode_id(value: strawberry.ID | str, type_name: str, *, field: str) -> int:
    try:
        global_id = relay.GlobalID.from_id(value)
        if global_id.type_name != type_name:
            raise ValueError(global_id.type_name)
        return int(global_id.node_id)
    except (ValueError, TypeError, relay.GlobalIDValueError):
        raise NotFound(f"No {type_name} with ID {value!r}.", field=field) from None


def decode_optional_id(value: strawberry.ID | str | None, type_name: str, *, field: str) -> int | None:
    return None if value is None else decode_id(value, type_name, field=field)


def encode_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(type_name, str(pk))))


def encode_optional_id(type_name: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else encode_id(type_name, pk)
