"""The issued document: the EInvoice XML the provider answers, and our parser that reads back exactly
what was issued."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.buyers import Buyer
from invoicing.capitals import amount_in_capitals
from invoicing.document import (
    DocumentRejected,
    EInvoice,
    InvoiceContent,
    ItemLine,
    SellerDetails,
    einvoice_xml,
    parse_einvoice,
)
from invoicing.tax import invoice_totals, split_tax
from kernel.vocabulary import InvoiceColour, InvoiceType, PartyType, TaxTreatment

BEIJING = dt.timezone(dt.timedelta(hours=8))
SELLER = SellerDetails("杭州湖畔物业服务有限公司", "91440300708461136T", "杭州市西湖区湖畔路1号", "0571-88880000", "工商银行杭州分行", "1202020209000012345")


def item(amount: str, rate: str = "0.06", treatment: TaxTreatment = TaxTreatment.GENERAL, name: str = "*物业管理服务*物业费", quantity: str = "1") -> ItemLine:
    split = split_tax(D(amount), rate=D(rate), treatment=treatment)
    return ItemLine(
        name=name, classification_code="3040802010000000000", unit="月", quantity=D(quantity), unit_price=abs(split.net),
        rate=D(rate), treatment=treatment, net=split.net, tax=split.tax, amount=split.amount,
    )


def content(items: list[ItemLine], *, colour: InvoiceColour = InvoiceColour.BLUE, original: str | None = None,
            buyer: Buyer | None = None, invoice_type: InvoiceType = InvoiceType.NORMAL) -> InvoiceContent:
    totals = invoice_totals(split_tax(i.amount, rate=i.rate, treatment=i.treatment) for i in items)
    return InvoiceContent(
        invoice_type=invoice_type, colour=colour, original_number=original, seller=SELLER,
        buyer=buyer or Buyer(PartyType.PERSON, "王丽"), items=tuple(items), net_total=totals.net, tax_total=totals.tax,
        amount_total=totals.amount, drawer="张会计", requested_at=dt.datetime(2026, 11, 2, 17, 0, 5, tzinfo=BEIJING),
        remark="A1-101 2026-10",
    )


def issued(body: InvoiceContent, number: str = "26440000000000000042") -> EInvoice:
    return EInvoice(number=number, issued_at=dt.datetime(2026, 11, 2, 17, 0, 6, tzinfo=BEIJING), content=body,
                    tax_bureau_code="14400000000", tax_bureau_name="国家税务总局（沙箱）")


def test_the_xml_has_the_einvoice_parts_with_totals_and_items() -> None:
    document = issued(content([item("248.00"), item("52.20", "0.13", name="*供电*电费")]))

    xml = einvoice_xml(document).decode("utf-8")

    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<EInvoice>')
    for fragment in (
        "<EIid>26440000000000000042</EIid>",
        "<SellerIdNum>91440300708461136T</SellerIdNum>",
        "<BuyerName>王丽</BuyerName>",
        "<TotalAmWithoutTax>280.15</TotalAmWithoutTax>",  # 233.96 + 46.19
        "<TotalTaxAm>20.05</TotalTaxAm>",  # 14.04 + 6.01
        "<TotalTax-includedAmount>300.20</TotalTax-includedAmount>",
        "<TotalTax-includedAmountInChinese>叁佰圆零贰角</TotalTax-includedAmountInChinese>",
        "<ItemName>*供电*电费</ItemName>",
        "<TaxRate>0.13</TaxRate>",
        "<ComTaxAm>6.01</ComTaxAm>",
        "<TaxClassificationCode>3040802010000000000</TaxClassificationCode>",
        "<InvoiceNumber>26440000000000000042</InvoiceNumber>",
        "<IssueTime>2026-11-02 17:00:06</IssueTime>",
    ):
        assert fragment in xml, fragment


def test_an_exempt_line_prints_mian_shui_for_its_rate() -> None:
    xml = einvoice_xml(issued(content([item("10.00", "0", TaxTreatment.EXEMPT)]))).decode("utf-8")
    assert "<TaxRate>免税</TaxRate>" in xml


def test_a_red_invoice_names_the_blue_one_and_reads_back() -> None:
    blue_number = "26440000000000000042"
    red = issued(content([item("-20.00", quantity="-1")], colour=InvoiceColour.RED, original=blue_number), "26440000000000000043")

    xml = einvoice_xml(red)

    assert f"<OriginalInvoiceNumber>{blue_number}</OriginalInvoiceNumber>".encode() in xml
    assert "负贰拾圆整".encode() in xml
    assert parse_einvoice(xml) == red


def test_a_company_buyer_of_a_special_invoice_reads_back() -> None:
    buyer = Buyer(PartyType.COMPANY, "深圳某某科技有限公司", "91110000100005220B", "深圳市南山区", "0755-1234", "招商银行", "755900000001")
    document = issued(content([item("1060.00")], buyer=buyer, invoice_type=InvoiceType.SPECIAL))

    assert parse_einvoice(einvoice_xml(document)) == document


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        (b"<EInvoice><Header/></EInvoice>", "EInvoiceData"),
        (b"not xml", "not XML"),
        (b'<!DOCTYPE x [<!ENTITY e "boom">]><EInvoice>&e;</EInvoice>', "not XML"),  # no entities, ever
        (b'<!DOCTYPE EInvoice SYSTEM "http://127.0.0.1:9/e.dtd"><EInvoice/>', "DTD is not allowed"),  # nor a DTD to fetch
        (b'<!DOCTYPE EInvoice [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><EInvoice>&b;</EInvoice>', "not XML"),
        (b"<Invoice/>", "EInvoice"),
    ],
)
def test_what_is_not_an_einvoice_is_refused_with_the_reason(xml: bytes, problem: str) -> None:
    with pytest.raises(DocumentRejected) as refused:
        parse_einvoice(xml)
    assert problem in str(refused.value)


def test_a_document_whose_totals_do_not_add_up_is_refused() -> None:
    xml = einvoice_xml(issued(content([item("248.00")]))).replace(b"<TotalTaxAm>14.04</TotalTaxAm>", b"<TotalTaxAm>14.05</TotalTaxAm>")
    with pytest.raises(DocumentRejected) as refused:
        parse_einvoice(xml)
    assert "合计税额" in str(refused.value)


# --- the round trip, over generated documents -------------------------------------------------------

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=30).map(str.strip).filter(bool)
optional_texts = st.none() | texts


@st.composite
def items(draw: st.DrawFn) -> ItemLine:
    treatment = draw(st.sampled_from(list(TaxTreatment)))
    rate = "0" if treatment is TaxTreatment.EXEMPT else draw(st.sampled_from(["0.03", "0.05"] if treatment is TaxTreatment.SIMPLIFIED else ["0", "0.06", "0.09", "0.13"]))
    amount = D(draw(st.integers(min_value=1, max_value=10**9))).scaleb(-2)
    return item(str(amount), rate, treatment, name=draw(texts))


@st.composite
def documents(draw: st.DrawFn) -> EInvoice:
    company = draw(st.booleans())
    buyer = (
        Buyer(PartyType.COMPANY, draw(texts), "91110000100005220B", draw(optional_texts), draw(optional_texts), draw(optional_texts), draw(optional_texts))
        if company
        else Buyer(PartyType.PERSON, draw(texts))
    )
    body = content(draw(st.lists(items(), min_size=1, max_size=8)), buyer=buyer)
    body = InvoiceContent(**{**body.__dict__, "remark": draw(optional_texts), "drawer": draw(texts)})
    number = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=20, max_size=20)))
    return issued(body, number)


@given(documents())
def test_the_parser_reads_back_exactly_what_was_issued(document: EInvoice) -> None:
    assert parse_einvoice(einvoice_xml(document)) == document


def test_capitals_in_the_document_are_those_of_its_total() -> None:
    document = issued(content([item("1005.05")]))
    assert document.content.amount_in_capitals == amount_in_capitals(D("1005.05")) == "壹仟零伍圆零伍分"
