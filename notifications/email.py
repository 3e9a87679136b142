"""E-mail over SMTP with aiosmtplib.

A small pool of connections (`SmtpSettings.connections`) is kept and reused between messages, since
opening one per message costs a TLS handshake and a login; the relay's concurrent sends share it, one
message per connection at a time. A connection the server dropped is replaced; a failure on one lets go
of the idle ones too (the server most likely went away with all of them). Messages are composed with the
standard library's compat32 classes, several times faster than `EmailMessage`.

The Message-ID is derived from the message's idempotency key, so a message resent after a relay stopped between the server's "250 OK" and the
recording of it carries the same Message-ID: mail stores that keep one copy per Message-ID (and every
reader that threads by it) show it once. SMTP itself has no idempotency; that is as close as it gets.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr

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
    connections: int = 4
    """SMTP connections open at once, each carrying one message at a time."""


def message_id_for(idempotency_key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "courtyard.invalid"
    return f"<{short_key(idempotency_key)}@{domain}>"


def _composed(*, sender: str, to: str, subject: str, body: str, message_id: str) -> bytes:
    """The message as sent: UTF-8 text, base64 in transit, Chinese names and subjects RFC 2047-encoded.
    Built with the standard library's compat32 classes, which compose it several times faster than
    `EmailMessage` (a relay sends hundreds a second)."""
    message = MIMEText(body, "plain", "utf-8")
    name, address = parseaddr(sender)
    message["From"] = formataddr((name, address), "utf-8")
    message["To"] = to
    message["Subject"] = Header(subject, "utf-8")
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    return message.as_bytes()


class EmailSender:
    channel = NotificationChannel.EMAIL

    def __init__(self, settings: SmtpSettings) -> None:
        if settings.connections < 1:
            raise ValueError("an SMTP sender needs at least one connection")
        self._settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.connections)

    def reaches(self, recipient: Recipient) -> bool:
        return bool(recipient.email)

    async def send(self, outgoing: Outgoing) -> Accepted:
        recipient = outgoing.recipient
        if not recipient.email:
            raise SendFailed("the recipient has no e-mail address", permanent=True)
        message_id = message_id_for(outgoing.idempotency_key, self._settings.sender)
        composed = _composed(
            sender=self._settings.sender,
            to=recipient.email,
            subject=outgoing.rendered.subject or outgoing.rendered.body[:60],
            body=outgoing.rendered.body,
            message_id=message_id,
        )
        async with self._slots:
            client: aiosmtplib.SMTP | None = None
            try:
                client = await self._connection()
                await client.sendmail(parseaddr(self._settings.sender)[1], [recipient.email], composed)
            except aiosmtplib.SMTPRecipientsRefused as error:
                self._drop(client)
                raise SendFailed(f"the server refused the recipient: {error}", permanent=True) from None
            except aiosmtplib.SMTPResponseException as error:
                self._drop(client)
                # 5xx: the server will never take it; 4xx: try again later.
                raise SendFailed(f"SMTP {error.code}: {error.message}", permanent=500 <= error.code < 600) from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                self._drop(client, *self._idle)
                self._idle.clear()
                raise SendFailed(f"SMTP connection failed: {error.__class__.__name__}: {error}", permanent=False) from None
            except BaseException:
                # Cancelled mid-conversation: the connection is in an unknown state.
                self._drop(client)
                raise
            self._idle.append(client)
        return Accepted(provider_message_id=message_id)

    async def _connection(self) -> aiosmtplib.SMTP:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
            self._drop(client)
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=settings.use_tls,
            start_tls=settings.start_tls,
            timeout=settings.timeout,
        )
        try:
            await client.connect()
            if settings.username:
                await client.login(settings.username, settings.password or "")
        except BaseException:
            self._drop(client)
            raise
        return client

    @staticmethod
    def _drop(*clients: aiosmtplib.SMTP | None) -> None:
        for client in clients:
            if client is None:
                continue
            try:
                client.close()
            except Exception:  # a connection that is already broken may fail to close; it is gone either way
                log.debug("closing a broken SMTP connection failed", exc_info=True)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
