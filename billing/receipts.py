"""Receipts: a gapless number per project, canonical content, an Ed25519 signature, and a PDF.

The signing key is derived from `COURTYARD_SECRET_KEY`: the personal-data cipher's keyed hash (itself
keyed by HKDF from the secret) of a fixed context string, through HKDF-SHA256 (info "courtyard receipt
signing v1"), gives the Ed25519 seed. So every process of a deployment, and the demo seeding, sign with
the same key and nothing extra is stored; changing the secret changes the key, after which older
receipts verify only against the old public key (the `receiptPublicKey` query tells it: keep it with the
backups, as the README says of the secret).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from reportlab.lib.pagesizes import A5  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing import texts
from billing.bulk import BulkConnection, dialect_insert
from billing.policy import may_see_unit_billing
from db.driver import DriverStatement
from db.models import BillingCounter, Payment, Project, Receipt
from db.personal_data import PersonalDataCipher
from db.row_lock_line import in_line_for_row_lock
from kernel.errors import NotFound
from kernel.principal import Principal
from kernel.vocabulary import Locale

__all__ = [
    "CJK_FONT",
    "RECEIPT_COUNTER",
    "ReceiptLine",
    "ReceiptPlace",
    "ReceiptSigner",
    "ReceiptVerification",
    "get_receipt",
    "cjk_font",
    "get_receipt_pdf",
    "next_counter_value",
    "next_counter_value_reserving",
    "receipt_content",
    "receipt_number",
    "render_receipt_pdf",
    "verify_receipt",
]

_HKDF_INFO = b"courtyard receipt signing v1"
_KEY_CONTEXT = "courtyard receipt signing key"
RECEIPT_COUNTER = "receipt"
_COUNTER = BillingCounter.__table__
# Built once: building a statement costs more than running it (every payment takes a receipt number).
_INCREMENT = DriverStatement(
    update(_COUNTER)
    .where(_COUNTER.c.project_id == bindparam("counter_project"), _COUNTER.c.name == bindparam("counter_name"))
    .values(value=_COUNTER.c.value + bindparam("count"))
    .returning(_COUNTER.c.value)
)


def receipt_number(number: int) -> str:
    """The receipt's number as printed: R- and at least six digits (R-000042). `zfill` pads as the
    format "06d" does, at half its cost: a page of payments numbers a hundred receipts."""
    return "R-" + str(number).zfill(6)


class ReceiptSigner:
    """Signs and verifies receipt content with the deployment's Ed25519 key."""

    def __init__(self, key_material: bytes) -> None:
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"courtyard", info=_HKDF_INFO).derive(key_material)
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self._public = self._private.public_key()

    @classmethod
    def from_cipher(cls, cipher: PersonalDataCipher) -> ReceiptSigner:
        """The deployment's signer, derived from the same secret as `cipher`."""
        return cls(bytes.fromhex(cipher.lookup_hash(_KEY_CONTEXT)))

    @property
    def public_key_base64(self) -> str:
        raw = self._public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def sign(self, content: str) -> str:
        return base64.b64encode(self._private.sign(content.encode("utf-8"))).decode("ascii")

    def verifies(self, content: str, signature: str, public_key: Ed25519PublicKey | None = None) -> bool:
        try:
            raw = base64.b64decode(signature, validate=True)
            (public_key or self._public).verify(raw, content.encode("utf-8"))
        except (InvalidSignature, ValueError):
            return False
        return True


async def next_counter_value(session: AsyncSession, project_id: int, name: str, *, count: int = 1) -> int:
    """Take the project's next `count` numbers in counter `name` and return the last of them.

    The counter row stays locked until commit, so numbers follow commit order and a rolled-back
    transaction gives its numbers back (no gaps). Every transaction of the project that takes a number
    waits for that lock (this process's in the order they asked: `db.row_lock_line`): take it as late
    as the transaction can.
    """
    async with in_line_for_row_lock(session, (_COUNTER.name, project_id, name)):
        return await _count(session, project_id, name, count)


async def _count(session: AsyncSession, project_id: int, name: str, count: int) -> int:
    increment = {"counter_project": project_id, "counter_name": name, "count": count}
    connection = await session.connection()
    value = await _INCREMENT.scalar(connection, increment)
    if value is None:
        await connection.execute(
            dialect_insert(session, _COUNTER)
            .values(project_id=project_id, name=name, value=0)
            .on_conflict_do_nothing(index_elements=["project_id", "name"])
        )
        value = await _INCREMENT.scalar(connection, increment)
    assert value is not None
    return int(value)


async def next_counter_value_reserving(
    session: AsyncSession, writer: BulkConnection, project_id: int, name: str, *, count: int, ids: Mapping[Table, int]
) -> tuple[int, dict[Table, list[int]]]:
    """`next_counter_value`, and `writer.reserve_id_blocks(ids)` in the same statement where the database
    allows (one round trip instead of two, with the counter's row locked until commit either way)."""
    async with in_line_for_row_lock(session, (_COUNTER.name, project_id, name)):
        value, blocks = await writer.count_and_reserve(_COUNTER, {"project_id": project_id, "name": name}, count, ids)
        if value is None:
            value = await _count(session, project_id, name, count)
    return int(value), blocks


@dataclass(frozen=True, slots=True)
class ReceiptPlace:
    """Where the paid unit is, as its receipts name it."""

    project_name: str
    building: str
    unit_number: str


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


@dataclass(frozen=True)
class ReceiptLine:
    """What a payment paid on one bill, as the receipt lists it."""

    bill_id: int
    period: str
    late_fee: Decimal
    principal: Decimal


def receipt_content(
    *,
    number: int,
    payment: Payment,
    place: ReceiptPlace,
    lines: Sequence[ReceiptLine],
    issued_at: dt.datetime,
) -> str:
    """The canonical JSON a receipt's signature covers: sorted keys, no spaces, UTF-8 text."""
    allocated = sum((line.late_fee + line.principal for line in lines), Decimal("0.00"))
    return json.dumps(
        {
            "version": 1,
            "receipt": receipt_number(number),
            "project": {"id": payment.project_id, "name": place.project_name},
            "unit": {"id": payment.unit_id, "building": place.building, "number": place.unit_number},
            "payment": {
                "id": payment.id,
                "channel": payment.channel.value,
                "externalReference": payment.external_reference,
                "payer": payment.payer_name,
                "amount": _money(payment.amount),
                "paidAt": payment.paid_at.astimezone(dt.UTC).isoformat(),
            },
            "allocations": [
                {"bill": line.bill_id, "period": line.period, "lateFee": _money(line.late_fee), "principal": _money(line.principal)}
                for line in lines
            ],
            "credit": _money(payment.amount - allocated),
            "issuedAt": issued_at.astimezone(dt.UTC).isoformat(),
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class ReceiptVerification:
    genuine: bool
    reason: str
    receipt: Receipt | None = None


async def verify_receipt(
    session_factory: async_sessionmaker[AsyncSession], *, signer: ReceiptSigner, content: str, signature: str
) -> ReceiptVerification:
    """Whether a presented receipt was signed by us, unaltered, and is the one on record."""
    if not signer.verifies(content, signature):
        return ReceiptVerification(False, "The signature does not match the content: altered or not ours.")
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    try:
        number_text = json.loads(content)["receipt"]
        project_id = int(json.loads(content)["project"]["id"])
    except (ValueError, KeyError, TypeError):
        return ReceiptVerification(False, "The content is not a receipt.")
    number = int(str(number_text).removeprefix("R-"))
    async with session_factory() as session:
        receipt = await session.scalar(select(Receipt).where(Receipt.project_id == project_id, Receipt.number == number))
    if receipt is None or hashlib.sha256(receipt.content.encode("utf-8")).hexdigest() != digest:
        return ReceiptVerification(False, "Signed by us, but no receipt on record has this content.")
    return ReceiptVerification(True, "Genuine and unaltered.", receipt)


async def get_receipt(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, receipt_id: int
) -> Receipt:
    """The receipt, if the caller may see the paid unit's billing (else NOT_FOUND)."""
    async with session_factory() as session:
        receipt = await session.get(Receipt, receipt_id)
        payment = await session.get(Payment, receipt.payment_id) if receipt else None
    if (
        receipt is None
        or payment is None
        or not may_see_unit_billing(principal, project_id=payment.project_id, unit_id=payment.unit_id)
    ):
        raise NotFound("No such receipt.", field="id")
    return receipt


async def get_receipt_pdf(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, receipt_id: int
) -> tuple[Receipt, bytes]:
    """The receipt and its PDF in the project's locale, if the caller may see the paid unit's billing."""
    receipt = await get_receipt(session_factory, principal, receipt_id=receipt_id)
    async with session_factory() as session:
        project = await session.get(Project, receipt.project_id)
    assert project is not None, "a receipt's project is never deleted"
    pdf = await asyncio.to_thread(render_receipt_pdf, receipt, project.locale, ZoneInfo(project.timezone))
    return receipt, pdf


# reportlab's built-in Adobe-GB1 CID font needs no font file (PDF readers supply the face); it covers
# Chinese and Latin text alike. Invoices print with it too.
CJK_FONT = "STSong-Light"


def cjk_font() -> str:
    """The name of the CJK font, registered with reportlab on first use."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def render_receipt_pdf(receipt: Receipt, locale: Locale = Locale.ZH_CN, zone: ZoneInfo | None = None) -> bytes:
    """A one-page A5 receipt with its lines in `locale`; times in `zone` (UTC when None).

    Bills are named by their period: database ids are not for owners.
    """
    font = cjk_font()
    words = texts.language(locale)
    template = words.RECEIPT
    money = words.receipt_money
    data = json.loads(receipt.content)
    buffer = io.BytesIO()
    width, height = A5
    pdf = canvas.Canvas(buffer, pagesize=A5, invariant=True)
    pdf.setTitle(f"{data['receipt']} {data['project']['name']}")
    y = height - 50

    def line(text: str, *, size: int = 10, gap: int = 16, x: float = 40) -> None:
        nonlocal y
        pdf.setFont(font, size)
        pdf.drawString(x, y, text)
        y -= gap

    def when(instant: str) -> str:
        moment = dt.datetime.fromisoformat(instant).astimezone(zone or dt.UTC)
        return moment.strftime("%Y-%m-%d %H:%M")

    payment = data["payment"]
    line(template["title"].format(number=data["receipt"]), size=16, gap=24)
    line(f"{data['project']['name']}", size=11, gap=18)
    line(template["unit"].format(building=data["unit"]["building"], unit=data["unit"]["number"]))
    line(template["payer"].format(payer=payment["payer"]))
    line(
        template["channel"].format(
            channel=words.CHANNELS.get(payment["channel"], payment["channel"]),
            reference=payment["externalReference"] or "-",
        )
    )
    line(template["paid_at"].format(paid_at=when(payment["paidAt"])))
    line(template["amount"].format(amount=money(payment["amount"])), size=12, gap=22)
    line(template["lines_heading"], gap=14)
    for allocation in data["allocations"]:
        line(
            template["line"].format(
                period=allocation["period"],
                late_fee=money(allocation["lateFee"]),
                principal=money(allocation["principal"]),
            ),
            gap=14,
        )
    line(template["credit"].format(credit=money(data["credit"])), gap=22)
    line(template["issued"].format(issued_at=when(data["issuedAt"])), size=8, gap=12)
    signature = receipt.signature
    line(f"Ed25519: {signature[:44]}", size=7, gap=10)
    line(f"         {signature[44:]}", size=7, gap=10)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
