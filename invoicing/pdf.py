"""The PDF of an issued invoice, drawn from its EInvoice document with the CJK font receipts use.

A tax document is Chinese whatever the project's locale, so its labels are the invoice's own. The
drawing is deterministic (reportlab's invariant mode): the same document gives the same bytes.

The font is the receipts' (`billing.receipts.CJK_FONT`, a CID font the reader supplies), registered once
per process as `_OnceFormattedCidFont`: reportlab writes the font's dictionary, several hundred glyph
widths that are the same in every document, anew into each PDF, which was a quarter of an invoice's CPU.
It formats it once and writes those bytes again, exactly as reportlab would have written them.
"""

from __future__ import annotations

import io
from decimal import Decimal

from reportlab.lib.pagesizes import A5, landscape  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfdoc, pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import CIDFontInfo, UnicodeCIDFont, structToPDF  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

from billing.receipts import CJK_FONT
from invoicing.document import BEIJING, EInvoice
from kernel.vocabulary import InvoiceColour, InvoiceType, TaxTreatment

__all__ = ["render_invoice_pdf"]

_TITLES = {InvoiceType.NORMAL: "电子发票（普通发票）", InvoiceType.SPECIAL: "电子发票（增值税专用发票）"}
_COLUMNS = (  # label, x of its left edge (points), right-aligned
    ("项目名称", 28, False),
    ("单位", 205, False),
    ("数量", 270, True),
    ("单价", 330, True),
    ("金额", 400, True),
    ("税率/征收率", 455, True),
    ("税额", 560, True),
)


class _Formatted(pdfdoc.PDFObject):  # type: ignore[misc]
    """A PDF object whose bytes are already known."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def format(self, document: object) -> bytes:
        return self._data


class _OnceFormattedCidFont(UnicodeCIDFont):  # type: ignore[misc]
    """reportlab's `UnicodeCIDFont`, whose font dictionary is formatted once per name it gets in a document
    (F1, F2, …) and encoding, and then written as those bytes (see the module docstring)."""

    _formatted: dict[tuple[str, str], bytes] = {}

    def addObjects(self, doc: pdfdoc.PDFDocument) -> None:  # noqa: N802 - reportlab's name
        if not isinstance(doc.encrypt, pdfdoc.NoEncryption):
            super().addObjects(doc)  # an encrypted document's strings differ per document
            return
        internal_name = f"F{len(doc.fontMapping) + 1}"
        key = (internal_name, self.encodingName)
        data = self._formatted.get(key)
        if data is None:
            font = {**CIDFontInfo[self.face.name], "Name": f"/{internal_name}", "Encoding": f"/{self.encodingName}"}
            data = self._formatted[key] = pdfdoc.format(structToPDF(font), doc)
        doc.idToObject["BasicFonts"].dict[internal_name] = doc.Reference(_Formatted(data), internal_name)
        doc.fontMapping[self.name] = f"/{internal_name}"


def _font() -> str:
    """The receipts' CJK font, registered (once) as `_OnceFormattedCidFont`; receipts drawn after get the
    same bytes through it."""
    registered = pdfmetrics.getFont(CJK_FONT) if CJK_FONT in pdfmetrics.getRegisteredFontNames() else None
    if not isinstance(registered, _OnceFormattedCidFont):
        pdfmetrics.registerFont(_OnceFormattedCidFont(CJK_FONT))
    return CJK_FONT


def _money(value: Decimal) -> str:
    return f"¥{value:.2f}"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _rate(rate: Decimal, treatment: TaxTreatment) -> str:
    return "免税" if treatment is TaxTreatment.EXEMPT else f"{_plain(rate * 100)}%"


def render_invoice_pdf(document: EInvoice) -> bytes:
    """One landscape A5 page: title, number and date, buyer and seller, the items, the totals in figures
    and in capitals, the remark and the drawer."""
    font = _font()
    body = document.content
    buffer = io.BytesIO()
    width, height = landscape(A5)
    pdf = canvas.Canvas(buffer, pagesize=(width, height), invariant=True)
    pdf.setTitle(f"{_TITLES[body.invoice_type]} {document.number}")

    # One text object for the whole page: a text object per string (what drawString makes) costs more
    # than the string itself, and a page has a hundred of them.
    writing = pdf.beginText()
    sizes: list[float] = []

    def text(x: float, y: float, words: str, size: float = 8, *, right: bool = False, centre: bool = False) -> None:
        if sizes[-1:] != [size]:
            writing.setFont(font, size)
            sizes.append(size)
        if right or centre:
            width = pdfmetrics.stringWidth(words, font, size)
            x -= width if right else width / 2
        writing.setTextOrigin(x, y)
        writing.textOut(words)

    top = height - 36
    text(width / 2, top, _TITLES[body.invoice_type], 15, centre=True)
    issued_on = document.issued_at.astimezone(BEIJING)
    text(width - 28, top + 4, f"发票号码：{document.number}", right=True)
    text(width - 28, top - 8, f"开票日期：{issued_on:%Y年%m月%d日}", right=True)
    if body.colour is InvoiceColour.RED:
        text(28, top, f"红字发票  被红冲蓝字发票号码：{body.original_number}", 8)

    y = top - 34
    pdf.setLineWidth(0.6)
    pdf.rect(24, y - 38, width - 48, 50)
    pdf.line(width / 2, y - 38, width / 2, y + 12)
    for x, label, party_name, code in (
        (30, "购买方信息", body.buyer.name, body.buyer.tax_code),
        (width / 2 + 6, "销售方信息", body.seller.name, body.seller.tax_code),
    ):
        text(x, y, label, 8)
        text(x, y - 13, f"名称：{party_name}", 8)
        text(x, y - 26, f"统一社会信用代码/纳税人识别号：{code or ''}", 7)

    y -= 58
    for label, x, right in _COLUMNS:
        text(x + (40 if right else 0), y, label, 8, right=right)
    pdf.line(24, y - 4, width - 24, y - 4)
    for line in body.items:
        y -= 14
        cells = (
            line.name,
            line.unit or "",
            _plain(line.quantity),
            _plain(line.unit_price),
            f"{line.net:.2f}",
            _rate(line.rate, line.treatment),
            f"{line.tax:.2f}" if line.treatment is not TaxTreatment.EXEMPT else "***",
        )
        for (_, x, right), cell in zip(_COLUMNS, cells, strict=True):
            text(x + (40 if right else 0), y, cell, 7.5, right=right)

    y -= 20
    pdf.line(24, y + 10, width - 24, y + 10)
    text(28, y, "合　　计", 8)
    text(440, y, _money(body.net_total), 8, right=True)
    text(600, y, _money(body.tax_total), 8, right=True)
    y -= 16
    text(28, y, f"价税合计（大写）　{body.amount_in_capitals}", 9)
    text(600, y, f"（小写）{_money(body.amount_total)}", 9, right=True)
    pdf.line(24, y - 6, width - 24, y - 6)
    y -= 20
    text(28, y, f"备注：{body.remark or ''}", 8)
    text(28, 24, f"开票人：{body.drawer}", 8)
    pdf.drawText(writing)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
