"""Who an invoice is issued to (pure): a person needs only a name; a company needs its name and its
统一社会信用代码 (validated, check character included), and may add the address, telephone and bank
account that a buyer prints on its invoices; a special VAT invoice (专票), whose input tax the buyer
credits, is issued to a company only."""

from __future__ import annotations

from dataclasses import dataclass, replace

from invoicing.credit_code import checked_credit_code
from kernel.errors import BadInput
from kernel.validation import optional_text, required_text
from kernel.vocabulary import InvoiceType, PartyType

__all__ = ["Buyer", "checked_buyer"]

NAME_LENGTH = 100
_DETAILS = (("address", "address", 200), ("phone", "phone", 40), ("bank_name", "bankName", 100), ("bank_account", "bankAccount", 50))


@dataclass(frozen=True)
class Buyer:
    """The buyer (购买方) as the invoice prints it; a person has a name only."""

    kind: PartyType
    name: str
    tax_code: str | None = None
    address: str | None = None
    phone: str | None = None
    bank_name: str | None = None
    bank_account: str | None = None


def checked_buyer(buyer: Buyer, *, invoice_type: InvoiceType, prefix: str = "") -> Buyer:
    """`buyer` with its text trimmed and its code in capitals, if the invoice may go to them; else
    BAD_USER_INPUT on the field at fault (input field names after `prefix`, such as "buyer.")."""
    name = required_text(buyer.name, f"{prefix}name", max_length=NAME_LENGTH)
    if buyer.kind is PartyType.PERSON:
        if invoice_type is InvoiceType.SPECIAL:
            raise BadInput("A special VAT invoice (专票) is issued to a company buyer only.", field="invoiceType")
        for attribute, field, _ in (("tax_code", "taxCode", 0), *_DETAILS):
            if (getattr(buyer, attribute) or "").strip():
                raise BadInput(f"A person buyer carries a name only: leave {prefix}{field} empty.", field=f"{prefix}{field}")
        return Buyer(PartyType.PERSON, name)
    if not (buyer.tax_code or "").strip():
        raise BadInput("A company buyer needs its unified social credit code (统一社会信用代码).", field=f"{prefix}taxCode")
    details = {
        attribute: optional_text(getattr(buyer, attribute), f"{prefix}{field}", max_length=length)
        for attribute, field, length in _DETAILS
    }
    tax_code = checked_credit_code(buyer.tax_code or "", field=f"{prefix}taxCode")
    return replace(buyer, name=name, tax_code=tax_code, **details)
