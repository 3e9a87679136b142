"""Who an invoice may be issued to: a person by name only, a company by name and a valid credit code, a
special VAT invoice (专票) to a company only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.buyers import Buyer, checked_buyer
from kernel.errors import BadInput
from kernel.vocabulary import InvoiceType, PartyType

COMPANY_CODE = "91440300708461136T"


def test_a_person_is_named_and_nothing_else() -> None:
    buyer = checked_buyer(Buyer(PartyType.PERSON, "  王丽 "), invoice_type=InvoiceType.NORMAL)
    assert buyer == Buyer(PartyType.PERSON, "王丽")


def test_a_company_carries_its_code_in_capitals_and_its_optional_details() -> None:
    buyer = checked_buyer(
        Buyer(PartyType.COMPANY, "深圳某某科技有限公司", tax_code="91440300708461136t", address=" 深圳市南山区科技园 ", bank_account=""),
        invoice_type=InvoiceType.SPECIAL,
    )
    assert buyer == Buyer(PartyType.COMPANY, "深圳某某科技有限公司", tax_code=COMPANY_CODE, address="深圳市南山区科技园")


@pytest.mark.parametrize(
    ("buyer", "invoice_type", "field", "problem"),
    [
        (Buyer(PartyType.PERSON, " "), InvoiceType.NORMAL, "buyer.name", "must not be empty"),
        (Buyer(PartyType.PERSON, "王丽", tax_code=COMPANY_CODE), InvoiceType.NORMAL, "buyer.taxCode", "person"),
        (Buyer(PartyType.PERSON, "王丽", bank_account="6222020200112233445"), InvoiceType.NORMAL, "buyer.bankAccount", "person"),
        (Buyer(PartyType.COMPANY, "某某公司"), InvoiceType.NORMAL, "buyer.taxCode", "credit code"),
        (Buyer(PartyType.COMPANY, "某某公司", tax_code="91440300708461136X"), InvoiceType.NORMAL, "buyer.taxCode", "check character"),
        (Buyer(PartyType.PERSON, "王丽"), InvoiceType.SPECIAL, "invoiceType", "company"),
        (Buyer(PartyType.COMPANY, "某" * 101, tax_code=COMPANY_CODE), InvoiceType.NORMAL, "buyer.name", "at most 100"),
    ],
)
def test_a_buyer_who_may_not_have_the_invoice_is_refused_on_the_field(
    buyer: Buyer, invoice_type: InvoiceType, field: str, problem: str
) -> None:
    with pytest.raises(BadInput) as refused:
        checked_buyer(buyer, invoice_type=invoice_type, prefix="buyer.")
    assert refused.value.field == field
    assert problem in refused.value.message


@given(st.sampled_from(list(PartyType)), st.sampled_from(list(InvoiceType)), st.booleans())
def test_a_special_invoice_goes_to_companies_only(kind: PartyType, invoice_type: InvoiceType, with_code: bool) -> None:
    buyer = Buyer(kind, "买方", tax_code=COMPANY_CODE if with_code else None)
    allowed = kind is PartyType.COMPANY and with_code or kind is PartyType.PERSON and not with_code
    allowed = allowed and (invoice_type is InvoiceType.NORMAL or kind is PartyType.COMPANY)
    try:
        checked_buyer(buyer, invoice_type=invoice_type)
    except BadInput:
        assert not allowed
    else:
        assert allowed
