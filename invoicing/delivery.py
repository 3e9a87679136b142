"""Delivering an issued invoice to its buyer through the outbox (`notifications`).

The message is written in the transaction that issues the invoice, so an invoice is ISSUED exactly
when its delivery is queued; the relay sends it later by e-mail (both links), SMS (the links in the
text) or the in-app inbox, whichever reaches the buyer first, and records the outcome on the message
(`invoice:<id>` is its idempotency key, which is how the invoice finds its delivery status).

The links carry the invoice's download key, a random secret given with issuing: whoever holds the
link may download that one invoice's PDF or XML without signing in, as the tax platform's own links
work. They start at the project's public address (`InvoicingProfile.public_url`); without one the
message asks the owner to download the invoice in the owner app. Invoices without a party (a payer
known only by name) are not delivered: nobody can be reached.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Invoice, InvoicingProfile
from kernel.vocabulary import InvoiceColour
from notifications.kinds import MessageKind
from notifications.outbox import Envelope, enqueue_many

__all__ = ["DOWNLOAD_PREFIX", "delivery_key", "download_links", "new_download_key", "queue_deliveries"]

DOWNLOAD_PREFIX = "/invoices/download/"


def delivery_key(invoice_id: int) -> str:
    """The idempotency key of an invoice's delivery message."""
    return f"invoice:{invoice_id}"


def new_download_key() -> str:
    """32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


def download_links(public_url: str, download_key: str) -> dict[str, str]:
    base = f"{public_url.rstrip('/')}{DOWNLOAD_PREFIX}{download_key}"
    return {"pdf_link": f"{base}.pdf", "xml_link": f"{base}.xml"}


async def queue_deliveries(
    session: AsyncSession,
    invoices: Sequence[Invoice],
    profiles: Mapping[int, InvoicingProfile | None],
    *,
    now: dt.datetime,
) -> None:
    """Queue the delivery of each issued invoice of `invoices` that has a party, in the caller's transaction."""
    envelopes = []
    for invoice in invoices:
        if invoice.party_id is None or invoice.number is None or invoice.download_key is None:
            continue
        payload: dict[str, object] = {
            "number": invoice.number,
            "amount": invoice.gross_total,
            "red": invoice.colour is InvoiceColour.RED,
        }
        profile = profiles.get(invoice.project_id)
        if profile is not None and profile.public_url:
            payload.update(download_links(profile.public_url, invoice.download_key))
        envelopes.append(
            Envelope(
                project_id=invoice.project_id,
                kind=MessageKind.INVOICE_ISSUED,
                idempotency_key=delivery_key(invoice.id),
                payload=payload,
                party_id=invoice.party_id,
            )
        )
    if envelopes:
        await enqueue_many(session, envelopes, now=now)
