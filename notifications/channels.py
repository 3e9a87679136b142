"""The one interface every channel is behind, and the in-app channel.

The relay hands a channel an `Outgoing` message (rendered, addressed, with the message's idempotency
key) and gets back `Accepted` (the provider's message id; `delivered` when the channel itself knows the
message arrived) or a `SendFailed` (`permanent` when trying again cannot help: no address, a refused
template, a number the provider will never accept). A channel that has an idempotency mechanism passes
the key to its provider, so a message resent after a relay stopped mid-send is not delivered twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from kernel.vocabulary import Locale, NotificationChannel
from notifications.rendering import Rendered

__all__ = [
    "Accepted",
    "ChannelSender",
    "InAppSender",
    "Outgoing",
    "Recipient",
    "SendFailed",
    "short_key",
]


@dataclass(frozen=True, slots=True)
class Recipient:
    """How the relay can reach an addressee now: `has_inbox` when a login reads their in-app inbox; the
    WeChat open ID only while a consent for the message's kind is left."""

    addressee: str
    name: str
    has_inbox: bool = False
    email: str | None = None
    phone: str | None = None
    wechat_open_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    message_id: int
    idempotency_key: str
    kind: str
    locale: Locale
    recipient: Recipient
    rendered: Rendered
    resumed: bool = False
    """An earlier attempt on this channel may have reached the provider before its relay stopped."""


@dataclass(frozen=True, slots=True)
class Accepted:
    provider_message_id: str | None
    delivered: bool = False


class SendFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class ChannelSender(Protocol):
    channel: NotificationChannel

    def reaches(self, recipient: Recipient) -> bool:
        """Whether this channel has an address for the recipient."""
        ...

    async def send(self, outgoing: Outgoing) -> Accepted:
        """Hand the message to the provider; raise SendFailed when it is refused or cannot be handed over."""
        ...

    async def aclose(self) -> None:
        """Let go of connections (at shutdown)."""
        ...


def short_key(idempotency_key: str, length: int = 32) -> str:
    """A fixed-length hex form of a message's idempotency key, for providers that limit their ids."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:length]


class InAppSender:
    """The in-app inbox: delivering is the relay numbering the message in the addressee's inbox, in the
    transaction that records the outcome (so it happens exactly once); subscribers hear of it after commit."""

    channel = NotificationChannel.IN_APP

    def reaches(self, recipient: Recipient) -> bool:
        return recipient.has_inbox

    async def send(self, outgoing: Outgoing) -> Accepted:
        return Accepted(provider_message_id=None, delivered=True)

    async def aclose(self) -> None:
        return None


Channels = Mapping[NotificationChannel, ChannelSender]
"""The channels a relay may use; a channel left out reaches nobody."""
