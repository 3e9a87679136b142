"""The invoice's PDF: the same CJK font as receipts, and everything the XML says that a reader checks."""

from __future__ import annotations

import io

import pypdf
import pytest
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]

from billing.receipts import CJK_FONT
from invoicing.buyers import Buyer
from invoicing.pdf import render_invoice_pdf
from kernel.vocabulary import InvoiceColour, InvoiceType, PartyType, TaxTreatment
from tests.unit.invoicing.test_document import content, issued, item


def text_of(pdf: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def fonts_of(pdf: bytes) -> set[str]:
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    return {str(font["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}


def test_a_blue_invoice_prints_its_number_parties_items_and_totals_in_words_and_figures() -> None:
    buyer = Buyer(PartyType.COMPANY, "深圳某某科技有限公司", "91110000100005220B")
    document = issued(
        content([item("248.00"), item("10.00", "0", TaxTreatment.EXEMPT, name="*物业管理服务*代收费")], buyer=buyer, invoice_type=InvoiceType.SPECIAL)
    )

    pdf = render_invoice_pdf(document)

    text = text_of(pdf)
    for words in (
        "电子发票（增值税专用发票）", "26440000000000000042", "2026年11月02日", "深圳某某科技有限公司", "91110000100005220B",
        "杭州湖畔物业服务有限公司", "91440300708461136T", "*物业管理服务*物业费", "6%", "免税", "233.96", "¥243.96", "¥14.04",
        "贰佰伍拾捌圆整", "¥258.00", "张会计", "A1-101 2026-10",
    ):
        assert words in text, (words, text)
    assert "/STSong-Light" in fonts_of(pdf)  # the receipts' CID font: no font file to ship


def test_a_red_invoice_prints_negative_figures_and_the_blue_number() -> None:
    document = issued(
        content([item("-20.00", quantity="-1")], colour=InvoiceColour.RED, original="26440000000000000042"), "26440000000000000043"
    )

    text = text_of(render_invoice_pdf(document))

    for words in ("红字", "26440000000000000042", "¥-18.87", "¥-1.13", "负贰拾圆整", "¥-20.00"):
        assert words in text, (words, text)


def test_the_same_invoice_renders_the_same_bytes() -> None:
    document = issued(content([item("248.00")]))
    assert render_invoice_pdf(document) == render_invoice_pdf(document)


def test_the_font_formatted_once_writes_the_bytes_reportlab_writes_for_every_document(monkeypatch: pytest.MonkeyPatch) -> None:
    # given two different invoices drawn with the font whose dictionary is formatted once per process
    blue = issued(content([item("248.00"), item("20.40", "0.13", name="*电力*公摊电费")]))
    red = issued(content([item("-20.00", quantity="-1")], colour=InvoiceColour.RED, original="26440000000000000042"), "26440000000000000043")
    fast = [render_invoice_pdf(document) for document in (blue, red, blue)]

    # when the same invoices are drawn with reportlab's own CID font instead
    monkeypatch.setitem(pdfmetrics._fonts, CJK_FONT, UnicodeCIDFont(CJK_FONT))
    monkeypatch.setattr("invoicing.pdf._font", lambda: CJK_FONT)
    plain = [render_invoice_pdf(document) for document in (blue, red, blue)]

    # then every byte is the same
    assert fast == plain and fast[0] != fast[1]
