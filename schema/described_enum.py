"""Register a domain enumeration as a GraphQL enum with a description for the enum and for each value.

The enumerations live in the kernel and the domain packages, which import nothing from strawberry, so
`strawberry.enum_value(description=...)` cannot be written on their members; the descriptions are
given here, at the edge, by member name. A member left out (or one that no longer exists) fails at
import, so a value added in the domain cannot reach the API undescribed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry

__all__ = ["described_enum"]

E = TypeVar("E", bound=type[Enum])


def described_enum(cls: E, *, name: str, description: str, values: Mapping[str, str]) -> E:
    """`strawberry.enum(cls, name=name, description=description)` with each value's description."""
    members = set(cls.__members__)
    if set(values) != members:
        raise ValueError(
            f"{name}: describe exactly the members {sorted(members)}; "
            f"missing {sorted(members - set(values))}, unknown {sorted(set(values) - members)}"
        )
    registered = strawberry.enum(cls, name=name, description=description)
    definition = registered.__strawberry_definition__  # type: ignore[attr-defined]
    definition.values = [dataclasses.replace(value, description=values[value.name]) for value in definition.values]
    return registered
