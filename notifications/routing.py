"""Which channels to try for a message, in order: its kind's priority order, narrowed to the channels
its addressee chose and to those that can reach them.

- A kind the addressee muted, or whose every channel they turned off, is DISABLED_BY_USER.
- Urgent kinds (security, payment confirmations) cannot be muted; when the addressee's channels leave
  none that reaches them, the kind's own order is used, so the message still arrives.
- When no channel reaches the addressee at all (no login, no e-mail, no phone, no WeChat consent), the
  message cannot be delivered: UNREACHABLE.

Pure: standard library and the kernel only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from kernel.vocabulary import NotificationChannel
from notifications.kinds import KindRules

__all__ = ["Choices", "Route", "RouteOutcome", "choose_route"]


@dataclass(frozen=True, slots=True)
class Choices:
    """What the addressee chose: None for `channels` means they never said (every channel may reach them)."""

    channels: frozenset[NotificationChannel] | None = None
    muted_kinds: frozenset[str] = frozenset()


class RouteOutcome(StrEnum):
    SEND = "SEND"
    DISABLED_BY_USER = "DISABLED_BY_USER"
    UNREACHABLE = "UNREACHABLE"


@dataclass(frozen=True, slots=True)
class Route:
    outcome: RouteOutcome
    channels: tuple[NotificationChannel, ...] = ()


def choose_route(
    kind: str, rules: KindRules, choices: Choices, reachable: Collection[NotificationChannel]
) -> Route:
    """The channels to try for a message of `kind`, first to last."""
    reaching = tuple(channel for channel in rules.channels if channel in reachable)
    if not rules.urgent and kind in choices.muted_kinds:
        return Route(RouteOutcome.DISABLED_BY_USER)
    chosen = reaching if choices.channels is None else tuple(c for c in reaching if c in choices.channels)
    if chosen:
        return Route(RouteOutcome.SEND, chosen)
    if rules.urgent and reaching:
        return Route(RouteOutcome.SEND, reaching)
    if not reaching:
        return Route(RouteOutcome.UNREACHABLE)
    return Route(RouteOutcome.DISABLED_BY_USER)
