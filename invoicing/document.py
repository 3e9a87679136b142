"""The issued invoice as the tax platform keeps it: the EInvoice document and its XML (pure).

An all-electronic invoice (数电发票) travels as XML rooted at `EInvoice`:

    EInvoice
      Header                   EIid (the number), EInvoiceTag, Version, InherentLabel/EInvoiceType (01 专票, 02 普票)
      EInvoiceData
        SellerInformation      SellerIdNum, SellerName, SellerAddr, SellerTelNum, SellerBankName, SellerBankAccNum
        BuyerInformation       BuyerIdNum (empty for a person), BuyerName, BuyerAddr, …
        BasicInformation       TotalAmWithoutTax (合计金额), TotalTaxAm (合计税额), TotalTax-includedAmount
                               (价税合计), TotalTax-includedAmountInChinese (大写), Drawer, RequestTime
        IssuItemInformation*   ItemName, SpecMod, MeaUnits, Quantity, UnPrice, Amount (net), TaxRate, ComTaxAm
                               (tax), TotaltaxIncludedAmount, TaxClassificationCode, TaxTreatment
        SpecificInformation    RedEInvoice/OriginalInvoiceNumber on a red-letter invoice
        AdditionalInformation  Remark
      TaxSupervisionInfo       InvoiceNumber, IssueTime, TaxBureauCode, TaxBureauName

Amounts are yuan with two decimals, rates decimals (0.06; 免税 for an exempt line), times Beijing time
(the platform's) to the second. `TaxTreatment` (GENERAL, SIMPLIFIED, EXEMPT) is the one element of ours:
the platform records how a line is taxed in flags of its own. The document is built and read back with
lxml, whose tree lives in C: issuing writes each invoice's XML and reads it back to check it, and with
the standard library's ElementTree those two steps were most of an invoice's CPU. The reading parser
resolves no entities, loads nothing from the network or a DTD, and a document carrying a DTD at all is
refused. `parse_einvoice` refuses a document whose lines and totals do not add up, and reads back exactly
what `einvoice_xml` wrote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree  # type: ignore[import-untyped]

from invoicing.buyers import Buyer
from invoicing.capitals import amount_in_capitals
from kernel.vocabulary import InvoiceColour, InvoiceType, PartyType, TaxTreatment

__all__ = [
    "BEIJING",
    "DocumentRejected",
    "EInvoice",
    "InvoiceContent",
    "ItemLine",
    "SellerDetails",
    "einvoice_xml",
    "parse_einvoice",
]

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_TYPE_LABELS = {InvoiceType.SPECIAL: ("01", "增值税专用发票"), InvoiceType.NORMAL: ("02", "普通发票")}
_TYPE_BY_CODE = {code: kind for kind, (code, _) in _TYPE_LABELS.items()}
_EXEMPT_RATE = "免税"
_SELLER_FIELDS = (
    ("SellerIdNum", "tax_code"),
    ("SellerName", "name"),
    ("SellerAddr", "address"),
    ("SellerTelNum", "phone"),
    ("SellerBankName", "bank_name"),
    ("SellerBankAccNum", "bank_account"),
)
_BUYER_FIELDS = tuple(("Buyer" + element.removeprefix("Seller"), attribute) for element, attribute in _SELLER_FIELDS)


class DocumentRejected(ValueError):
    """The bytes are not an EInvoice this parser can read back, or its figures do not add up."""


@dataclass(frozen=True)
class SellerDetails:
    """The seller (销售方) as printed."""

    name: str
    tax_code: str
    address: str | None = None
    phone: str | None = None
    bank_name: str | None = None
    bank_account: str | None = None


@dataclass(frozen=True)
class ItemLine:
    """One item: `name` as printed (*category*item), quantity and net unit price, net amount, rate and
    treatment, tax, and the tax-inclusive amount (net + tax)."""

    name: str
    classification_code: str
    unit: str | None
    quantity: Decimal
    unit_price: Decimal
    rate: Decimal
    treatment: TaxTreatment
    net: Decimal
    tax: Decimal
    amount: Decimal


@dataclass(frozen=True)
class InvoiceContent:
    """What is asked to be issued: everything but the number and the time of issue."""

    invoice_type: InvoiceType
    colour: InvoiceColour
    original_number: str | None
    seller: SellerDetails
    buyer: Buyer
    items: tuple[ItemLine, ...]
    net_total: Decimal
    tax_total: Decimal
    amount_total: Decimal
    drawer: str
    requested_at: dt.datetime
    remark: str | None = None

    @property
    def amount_in_capitals(self) -> str:
        """价税合计(大写)."""
        return amount_in_capitals(self.amount_total)


@dataclass(frozen=True)
class EInvoice:
    """An issued invoice: the platform's number and time of issue, and the content."""

    number: str
    issued_at: dt.datetime
    content: InvoiceContent
    tax_bureau_code: str
    tax_bureau_name: str


# --- writing ------------------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 1, -1, 0.06, 233.96."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(BEIJING).strftime(_TIME_FORMAT)


_Element = etree._Element
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _child(parent: _Element, tag: str, text: str | None = None) -> _Element:
    element = etree.SubElement(parent, tag)
    element.text = text or ""
    return element


def einvoice_xml(document: EInvoice) -> bytes:
    """The EInvoice XML of `document` (UTF-8, with declaration)."""
    body = document.content
    root = etree.Element("EInvoice")
    header = _child(root, "Header")
    _child(header, "EIid", document.number)
    _child(header, "EInvoiceTag", "SWEI3200")
    _child(header, "Version", "0.1")
    label = _child(_child(header, "InherentLabel"), "EInvoiceType")
    code, name = _TYPE_LABELS[body.invoice_type]
    _child(label, "LabelCode", code)
    _child(label, "LabelName", name)

    data = _child(root, "EInvoiceData")
    seller = _child(data, "SellerInformation")
    for tag, attribute in _SELLER_FIELDS:
        _child(seller, tag, getattr(body.seller, attribute))
    buyer = _child(data, "BuyerInformation")
    for tag, attribute in _BUYER_FIELDS:
        _child(buyer, tag, getattr(body.buyer, attribute))
    basic = _child(data, "BasicInformation")
    _child(basic, "TotalAmWithoutTax", _money(body.net_total))
    _child(basic, "TotalTaxAm", _money(body.tax_total))
    _child(basic, "TotalTax-includedAmount", _money(body.amount_total))
    _child(basic, "TotalTax-includedAmountInChinese", body.amount_in_capitals)
    _child(basic, "Drawer", body.drawer)
    _child(basic, "RequestTime", _time(body.requested_at))
    for line in body.items:
        item = _child(data, "IssuItemInformation")
        _child(item, "ItemName", line.name)
        _child(item, "SpecMod")
        _child(item, "MeaUnits", line.unit)
        _child(item, "Quantity", _plain(line.quantity))
        _child(item, "UnPrice", _plain(line.unit_price))
        _child(item, "Amount", _money(line.net))
        _child(item, "TaxRate", _EXEMPT_RATE if line.treatment is TaxTreatment.EXEMPT else _plain(line.rate))
        _child(item, "ComTaxAm", _money(line.tax))
        _child(item, "TotaltaxIncludedAmount", _money(line.amount))
        _child(item, "TaxClassificationCode", line.classification_code)
        _child(item, "TaxTreatment", line.treatment.value)
    specific = _child(data, "SpecificInformation")
    if body.colour is InvoiceColour.RED:
        _child(_child(specific, "RedEInvoice"), "OriginalInvoiceNumber", body.original_number)
    _child(_child(data, "AdditionalInformation"), "Remark", body.remark)

    supervision = _child(root, "TaxSupervisionInfo")
    _child(supervision, "InvoiceNumber", document.number)
    _child(supervision, "IssueTime", _time(document.issued_at))
    _child(supervision, "TaxBureauCode", document.tax_bureau_code)
    _child(supervision, "TaxBureauName", document.tax_bureau_name)
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


# --- reading ------------------------------------------------------------------------------------------


def parse_einvoice(xml: bytes) -> EInvoice:
    """The EInvoice in `xml`; DocumentRejected when it is not one, or when its figures do not add up
    (each item's net + tax is its amount, an exempt item has no tax, the totals are the items' sums, the
    capitals are those of the total)."""
    # A parser per call: lxml's parsers are not to be shared between threads (PDFs are drawn in threads).
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True)
    try:
        root = etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise DocumentRejected(f"not XML this parser reads: {error}") from None
    if root.getroottree().docinfo.doctype:
        raise DocumentRejected("not XML this parser reads: a DTD is not allowed")
    if root.tag != "EInvoice":
        raise DocumentRejected(f"the root element is {root.tag}, not EInvoice")
    texts = _Texts.of(root)
    data = _required(texts, "EInvoiceData")
    basic = _required(data, "BasicInformation")
    supervision = _required(texts, "TaxSupervisionInfo")
    type_code = _text(texts, "Header/InherentLabel/EInvoiceType/LabelCode")
    if type_code not in _TYPE_BY_CODE:
        raise DocumentRejected(f"unknown invoice type code {type_code!r}")
    original = _optional(data, "SpecificInformation/RedEInvoice/OriginalInvoiceNumber")
    seller = SellerDetails(**{attribute: _optional(data, f"SellerInformation/{tag}") for tag, attribute in _SELLER_FIELDS})  # type: ignore[arg-type]
    buyer_values = {attribute: _optional(data, f"BuyerInformation/{tag}") for tag, attribute in _BUYER_FIELDS}
    buyer = Buyer(PartyType.COMPANY if buyer_values["tax_code"] else PartyType.PERSON, **buyer_values)  # type: ignore[arg-type]
    items = root.find("EInvoiceData").iterchildren("IssuItemInformation")
    body = InvoiceContent(
        invoice_type=_TYPE_BY_CODE[type_code],
        colour=InvoiceColour.RED if original else InvoiceColour.BLUE,
        original_number=original,
        seller=seller,
        buyer=buyer,
        items=tuple(_item(_Texts.of(element), index) for index, element in enumerate(items, start=1)),
        net_total=_amount(basic, "TotalAmWithoutTax"),
        tax_total=_amount(basic, "TotalTaxAm"),
        amount_total=_amount(basic, "TotalTax-includedAmount"),
        drawer=_text(basic, "Drawer"),
        requested_at=_moment(basic, "RequestTime"),
        remark=_optional(data, "AdditionalInformation/Remark"),
    )
    number = _text(supervision, "InvoiceNumber")
    if _text(texts, "Header/EIid") != number:
        raise DocumentRejected("the header's EIid and the supervision's InvoiceNumber differ")
    _check_figures(body, _text(basic, "TotalTax-includedAmountInChinese"))
    return EInvoice(
        number=number,
        issued_at=_moment(supervision, "IssueTime"),
        content=body,
        tax_bureau_code=_text(supervision, "TaxBureauCode"),
        tax_bureau_name=_text(supervision, "TaxBureauName"),
    )


@dataclass(frozen=True)
class _Texts:
    """The texts of an element's descendants by their path below it, the first of each path as `find`
    answers, read in one walk of the tree (looking each of some sixty paths up apart cost more than the
    parsing); `at` views a section by its path."""

    texts: dict[str, str | None]
    prefix: str = ""

    @classmethod
    def of(cls, element: _Element) -> _Texts:
        texts: dict[str, str | None] = {}
        pending = [("", element)]
        while pending:
            prefix, parent = pending.pop()
            for child in parent.iterchildren(tag=etree.Element):
                path = prefix + child.tag
                texts.setdefault(path, child.text or None)
                pending.append((path + "/", child))
        return cls(texts)

    def at(self, path: str) -> _Texts:
        return _Texts(self.texts, f"{self.prefix}{path}/")

    def has(self, path: str) -> bool:
        return self.prefix + path in self.texts

    def get(self, path: str) -> str | None:
        return self.texts.get(self.prefix + path)


def _item(element: _Texts, index: int) -> ItemLine:
    try:
        treatment = TaxTreatment(_text(element, "TaxTreatment"))
    except ValueError:
        raise DocumentRejected(f"item {index}: unknown TaxTreatment") from None
    rate_text = _text(element, "TaxRate")
    rate = Decimal(0) if rate_text == _EXEMPT_RATE else _decimal(element, "TaxRate")
    return ItemLine(
        name=_text(element, "ItemName"),
        classification_code=_text(element, "TaxClassificationCode"),
        unit=_optional(element, "MeaUnits"),
        quantity=_decimal(element, "Quantity"),
        unit_price=_decimal(element, "UnPrice"),
        rate=rate,
        treatment=treatment,
        net=_amount(element, "Amount"),
        tax=_amount(element, "ComTaxAm"),
        amount=_amount(element, "TotaltaxIncludedAmount"),
    )


def _check_figures(body: InvoiceContent, capitals: str) -> None:
    if not body.items:
        raise DocumentRejected("an invoice has at least one item")
    for index, line in enumerate(body.items, start=1):
        if line.net + line.tax != line.amount:
            raise DocumentRejected(f"item {index}: Amount + ComTaxAm is not TotaltaxIncludedAmount")
        if line.treatment is TaxTreatment.EXEMPT and (line.rate != 0 or line.tax != 0):
            raise DocumentRejected(f"item {index}: an exempt item carries tax")
    if body.amount_total != sum((line.amount for line in body.items), Decimal("0.00")):
        raise DocumentRejected("价税合计 is not the sum of the items")
    if body.net_total != sum((line.net for line in body.items), Decimal("0.00")):
        raise DocumentRejected("合计金额 is not the sum of the items' amounts")
    if body.tax_total != sum((line.tax for line in body.items), Decimal("0.00")):
        raise DocumentRejected("合计税额 is not the sum of the items' tax")
    if capitals != body.amount_in_capitals:
        raise DocumentRejected(f"价税合计(大写) {capitals} does not say {body.amount_total}")


def _required(parent: _Texts, path: str) -> _Texts:
    if not parent.has(path):
        raise DocumentRejected(f"{path} is missing")
    return parent.at(path)


def _optional(parent: _Texts, path: str) -> str | None:
    return parent.get(path)


def _text(parent: _Texts, path: str) -> str:
    value = _optional(parent, path)
    if value is None:
        raise DocumentRejected(f"{path} is missing or empty")
    return value


def _decimal(parent: _Texts, path: str) -> Decimal:
    text = _text(parent, path)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DocumentRejected(f"{path} is not a number: {text!r}") from None
    if not value.is_finite():
        raise DocumentRejected(f"{path} is not a number: {text!r}")
    return value


def _amount(parent: _Texts, path: str) -> Decimal:
    value = _decimal(parent, path)
    if value != value.quantize(Decimal("0.01")):
        raise DocumentRejected(f"{path} is not an amount in fen")
    return value.quantize(Decimal("0.01"))


def _moment(parent: _Texts, path: str) -> dt.datetime:
    text = _text(parent, path)
    try:
        return dt.datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=BEIJING)
    except ValueError:
        raise DocumentRejected(f"{path} is not a time like 2026-11-02 17:00:06: {text!r}") from None

