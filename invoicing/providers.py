"""Invoice providers: the tax platform's issuing service (开具), and the sandbox that stands in for it.

A provider is shaped like the platform's service: it is sent the content of an invoice with our request
serial (发票请求流水号, the same serial answers the same invoice, so a retry never issues twice) and
answers the issued document, with the platform's 20-digit number and time of issue, as EInvoice XML.
A red-letter invoice names the blue one it corrects; the platform's confirmation form (红字确认单) is the
provider's business.

The sandbox issues at once and in-process. Its number follows the platform's layout: the year's last two
digits, the seller's province (characters 3–4 of its credit code, those of its registering office),
a channel digit, and a 15-digit sequence, here our serial (so numbers are unique and a retry gets the
same one). It writes 9 as the channel digit, which marks its numbers as the sandbox's. It is refused in
production (`invoicing.configuration.set_invoicing_profile`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from invoicing.document import BEIJING, EInvoice, InvoiceContent, einvoice_xml

__all__ = [
    "PROVIDER_NAMES",
    "SANDBOX",
    "InvoiceProvider",
    "IssuedDocument",
    "ProviderRefused",
    "SandboxInvoiceProvider",
    "provider_named",
]

SANDBOX = "SANDBOX"
PROVIDER_NAMES = frozenset({SANDBOX})


@dataclass(frozen=True)
class IssuedDocument:
    """What the provider answers: the document and its XML exactly as issued."""

    document: EInvoice
    xml: bytes


class ProviderRefused(Exception):
    """The provider refused or could not be reached; the invoice stays unissued with this reason."""


class InvoiceProvider(Protocol):
    name: str

    async def issue(self, *, serial: int, content: InvoiceContent, now: dt.datetime) -> IssuedDocument:
        """Issue `content` once per `serial`; `now` is the caller's clock, for providers that have none."""
        ...


class SandboxInvoiceProvider:
    """Issues in-process with numbers laid out like the platform's (see the module docstring)."""

    name = SANDBOX
    channel_digit = "9"

    async def issue(self, *, serial: int, content: InvoiceContent, now: dt.datetime) -> IssuedDocument:
        if not 0 < serial < 10**15:
            raise ProviderRefused(f"request serial {serial} is out of the sandbox's range")
        if content.colour.value == "RED" and not content.original_number:
            raise ProviderRefused("a red-letter invoice names the blue invoice it corrects")
        issued_at = now.astimezone(BEIJING).replace(microsecond=0)
        province = content.seller.tax_code[2:4]
        number = f"{issued_at.year % 100:02d}{province}{self.channel_digit}{serial:015d}"
        document = EInvoice(
            number=number,
            issued_at=issued_at,
            content=content,
            tax_bureau_code=f"1{province}00000000",
            tax_bureau_name="国家税务总局（沙箱）",
        )
        return IssuedDocument(document, einvoice_xml(document))


def provider_named(name: str) -> InvoiceProvider:
    """The provider a project's profile names."""
    if name == SANDBOX:
        return SandboxInvoiceProvider()
    raise ProviderRefused(f"no invoice provider named {name!r}")
