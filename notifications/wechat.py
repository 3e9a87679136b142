"""WeChat subscription messages (订阅消息) from a mini-program.

A mini-program may message a person only after they accepted the template in `wx.requestSubscribeMessage`,
and each acceptance buys exactly one message. Courtyard counts them (`wechat_consent`: one row per
addressee and kind, `remaining`): the relay takes one when it sends and gives it back when the send
fails for a reason that did not use it up; with none left the channel does not reach the person and the
next channel is tried. WeChat answers 43101 when the person has no consent left on its side: then the
count is set to zero.

The gateway interface is shaped like the `subscribeMessage.send` API (open ID, template ID, a `data`
map of named values, an optional page). WeChat has no idempotency key; a message resent after a relay
stopped mid-send asks the gateway first (`find`). `SandboxWechatGateway` keeps what it accepted by the
message's key and answers 43101 to open IDs it is told have refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kernel.vocabulary import NotificationChannel
from notifications.channels import Accepted, Outgoing, Recipient, SendFailed, short_key

__all__ = ["NO_CONSENT", "SandboxWechatGateway", "SubscribeMessage", "WechatGateway", "WechatSender"]

NO_CONSENT = "43101"
"""WeChat's errcode for a person who has no subscription left for the template."""


@dataclass(frozen=True, slots=True)
class SubscribeMessage:
    open_id: str
    template_id: str
    data: Mapping[str, str]
    key: str
    page: str | None = None


class WechatGateway(Protocol):
    name: str

    async def send(self, message: SubscribeMessage) -> str:
        """Send one subscription message; answer WeChat's message id or raise SendFailed (the reason of
        a refusal for lack of consent starts with NO_CONSENT)."""
        ...

    async def find(self, message: SubscribeMessage) -> str | None: ...

    async def aclose(self) -> None: ...


class WechatSender:
    channel = NotificationChannel.WECHAT

    def __init__(self, gateway: WechatGateway, *, page: str | None = None) -> None:
        self.gateway = gateway
        self._page = page

    def reaches(self, recipient: Recipient) -> bool:
        return bool(recipient.wechat_open_id)

    async def send(self, outgoing: Outgoing) -> Accepted:
        open_id = outgoing.recipient.wechat_open_id
        if not open_id:
            raise SendFailed("no WeChat subscription is left for this kind of message", permanent=True)
        rendered = outgoing.rendered
        message = SubscribeMessage(
            open_id=open_id,
            template_id=rendered.provider_template or outgoing.kind,
            # WeChat templates take named fields ({{thing1.DATA}}); without the project's own mapping the
            # whole text goes in one field.
            data=dict(rendered.provider_params) or {"thing1": rendered.body[:20]},
            key=short_key(outgoing.idempotency_key),
            page=self._page,
        )
        if outgoing.resumed and (earlier := await self.gateway.find(message)) is not None:
            return Accepted(provider_message_id=earlier)
        return Accepted(provider_message_id=await self.gateway.send(message))

    async def aclose(self) -> None:
        await self.gateway.aclose()


@dataclass
class SandboxWechatGateway:
    name: str = "sandbox"
    accepted: dict[str, tuple[SubscribeMessage, str]] = field(default_factory=dict)
    refused_open_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    async def send(self, message: SubscribeMessage) -> str:
        if message.open_id in self.refused_open_ids:
            raise SendFailed(f"{NO_CONSENT}: user refuse to accept the msg", permanent=True)
        if (earlier := self.accepted.get(message.key)) is not None:
            return earlier[1]
        message_id = f"WX{next(self._ids):012d}"
        self.accepted[message.key] = (message, message_id)
        return message_id

    async def find(self, message: SubscribeMessage) -> str | None:
        earlier = self.accepted.get(message.key)
        return earlier[1] if earlier is not None else None

    async def aclose(self) -> None:
        return None
