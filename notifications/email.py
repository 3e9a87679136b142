"""E-mail over SMTP with aiosmtplib.

One connection is kept and reused between messages (reconnecting when the server dropped it), since
opening one per message costs a TLS handshake and a login. The Message-ID is derived from the message's
idempotency key, so a message resent after a relay stopped between the server's "250 OK" and the
recording of it carries the same Message-ID: mail stores that keep one copy per Message-ID (and every
reader that threads by it) show it once. SMTP itself has no idempotency; that is as close as it gets.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from kernel.vocabulary import NotificationChannel
from notifications.channels import Accepted, Outgoing, Recipient, SendFailed, short_key

__all__ = ["EmailSender", "SmtpSettings", "message_id_for"]

log = logging.getLogger("courtyard.notifications.email")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    """TLS from the first byte (SMTPS, usually port 465)."""
    start_tls: bool | None = None
    """STARTTLS after connecting; None: when the server offers it."""
    sender: str = "Courtyard <noreply@courtyard.invalid>"
    timeout: float = 30.0


def message_id_for(idempotency_key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "courtyard.invalid"
    return f"<{short_key(idempotency_key)}@{domain}>"


class EmailSender:
    channel = NotificationChannel.EMAIL

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    def reaches(self, recipient: Recipient) -> bool:
        return bool(recipient.email)

    async def send(self, outgoing: Outgoing) -> Accepted:
        recipient = outgoing.recipient
        if not recipient.email:
            raise SendFailed("the recipient has no e-mail address", permanent=True)
        message = EmailMessage()
        message["From"] = self._settings.sender
        message["To"] = recipient.email
        message["Subject"] = outgoing.rendered.subject or outgoing.rendered.body[:60]
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message_id = message_id_for(outgoing.idempotency_key, self._settings.sender)
        message["Message-ID"] = message_id
        message.set_content(outgoing.rendered.body)
        async with self._lock:
            try:
                client = await self._connected()
                await client.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as error:
                await self._drop()
                raise SendFailed(f"the server refused the recipient: {error}", permanent=True) from None
            except aiosmtplib.SMTPResponseException as error:
                await self._drop()
                # 5xx: the server will never take it; 4xx: try again later.
                raise SendFailed(f"SMTP {error.code}: {error.message}", permanent=500 <= error.code < 600) from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                await self._drop()
                raise SendFailed(f"SMTP connection failed: {error.__class__.__name__}: {error}", permanent=False) from None
        return Accepted(provider_message_id=message_id)

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=settings.use_tls,
            start_tls=settings.start_tls,
            timeout=settings.timeout,
        )
        await client.connect()
        if settings.username:
            await client.login(settings.username, settings.password or "")
        self._client = client
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # a connection that is already broken may fail to close; it is gone either way
                log.debug("closing a broken SMTP connection failed", exc_info=True)

    async def aclose(self) -> None:
        async with self._lock:
            client, self._client = self._client, None
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
