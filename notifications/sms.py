"""SMS through gateways shaped like the big Chinese SMS services (Aliyun 短信服务, Tencent Cloud SMS).

Those send no free text: a request names an approved *template code* and its *parameters*, under a
registered *sign name* (签名), and is signed with the account's secret. A gateway answers a message id
(Aliyun's BizId) at once, and later posts a *receipt* per message (回执: delivered or failed, with the
carrier's code) to a callback URL, which `/notifications/sms/receipts/<gateway>` takes.

The message's idempotency key travels as the request's `out_id` (Aliyun's OutId, Tencent's
SessionContext), which the gateway echoes in its receipt. Neither service de-duplicates on it, so a
message resent after a relay stopped mid-send first asks the gateway whether that `out_id` was already
accepted (`find`), and sends only if not.

`SandboxSmsGateway` behaves so without a network: it checks each request's signature, keeps what it
accepted by `out_id`, and writes signed receipts for the tests and the demo to post back. Production
runs it only when told to (`COURTYARD_SMS_GATEWAY=sandbox`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kernel.vocabulary import NotificationChannel
from notifications.channels import Accepted, Outgoing, Recipient, SendFailed, short_key

__all__ = [
    "SANDBOX_RECEIPT_SIGNATURE_HEADER",
    "ReceiptRejected",
    "SandboxSmsGateway",
    "SmsGateway",
    "SmsReceipt",
    "SmsRequest",
    "SmsSender",
    "sign_request",
]

SANDBOX_RECEIPT_SIGNATURE_HEADER = "x-sandbox-signature"


@dataclass(frozen=True, slots=True)
class SmsRequest:
    phone: str
    sign_name: str
    template_code: str
    params: Mapping[str, str]
    out_id: str


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    """A gateway's word on one message: delivered or not, by its id and our `out_id`."""

    provider_message_id: str
    out_id: str
    delivered: bool
    error: str | None
    reported_at: dt.datetime


class ReceiptRejected(Exception):
    """A receipt that is unsigned, mis-signed or malformed: nothing changes because of it."""


class SmsGateway(Protocol):
    name: str

    async def send(self, request: SmsRequest) -> str:
        """Submit one message; answer the gateway's message id, or raise SendFailed."""
        ...

    async def find(self, request: SmsRequest) -> str | None:
        """The id of a message with this `out_id` the gateway already accepted, if any."""
        ...

    def read_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[SmsReceipt]:
        """Check a receipt callback's signature and read it; raise ReceiptRejected otherwise."""
        ...

    async def aclose(self) -> None: ...


def sign_request(secret: bytes, params: Mapping[str, str]) -> str:
    """HMAC-SHA256 over the request's parameters sorted by name, `name=value` joined by `&` (the shape of
    the gateways' own signatures)."""
    canonical = "&".join(f"{name}={params[name]}" for name in sorted(params))
    return hmac.new(secret, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


class SmsSender:
    """The SMS channel: renders the message's template code and parameters into a gateway request."""

    channel = NotificationChannel.SMS

    def __init__(self, gateway: SmsGateway, *, sign_name: str) -> None:
        self.gateway = gateway
        self._sign_name = sign_name

    def reaches(self, recipient: Recipient) -> bool:
        return bool(recipient.phone)

    def request_for(self, outgoing: Outgoing) -> SmsRequest:
        phone = outgoing.recipient.phone
        if not phone:
            raise SendFailed("the recipient has no phone number", permanent=True)
        rendered = outgoing.rendered
        return SmsRequest(
            phone=phone,
            sign_name=self._sign_name,
            # Without an approved template of the project's own, the kind's name stands for it (the sandbox
            # takes any code; a real gateway refuses an unknown one, and the next channel is tried).
            template_code=rendered.provider_template or outgoing.kind,
            params=dict(rendered.provider_params) or {"content": rendered.body},
            out_id=short_key(outgoing.idempotency_key),
        )

    async def send(self, outgoing: Outgoing) -> Accepted:
        request = self.request_for(outgoing)
        if outgoing.resumed and (earlier := await self.gateway.find(request)) is not None:
            return Accepted(provider_message_id=earlier)
        return Accepted(provider_message_id=await self.gateway.send(request))

    async def aclose(self) -> None:
        await self.gateway.aclose()


@dataclass
class _SandboxRecord:
    request: SmsRequest
    provider_message_id: str
    accepted_at: dt.datetime


@dataclass
class SandboxSmsGateway:
    """An SMS gateway in memory for development, the demo and the tests; see the module's docstring."""

    secret_key: str
    name: str = "sandbox"
    accepted: dict[str, _SandboxRecord] = field(default_factory=dict)
    submissions: int = 0
    """Requests received, repeats included (what a provider would have billed)."""
    refuse_phones: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"courtyard", info=b"courtyard sandbox sms v1"
        ).derive(self.secret_key.encode("utf-8"))
        self._ids = itertools.count(1)

    def signed(self, request: SmsRequest) -> dict[str, str]:
        """The request as the gateway receives it: flat parameters and their signature."""
        params = {
            "PhoneNumbers": request.phone,
            "SignName": request.sign_name,
            "TemplateCode": request.template_code,
            "TemplateParam": json.dumps(dict(request.params), ensure_ascii=False, sort_keys=True),
            "OutId": request.out_id,
        }
        return {**params, "Signature": sign_request(self._key, params)}

    async def send(self, request: SmsRequest) -> str:
        submitted = self.signed(request)
        signature = submitted.pop("Signature")
        if not hmac.compare_digest(signature, sign_request(self._key, submitted)):
            raise SendFailed("the sandbox gateway refused the request's signature", permanent=True)
        self.submissions += 1
        if request.phone in self.refuse_phones:
            raise SendFailed(f"isv.MOBILE_NUMBER_ILLEGAL: {request.phone}", permanent=True)
        if (earlier := self.accepted.get(request.out_id)) is not None:
            return earlier.provider_message_id
        record = _SandboxRecord(request, f"SBX{next(self._ids):012d}", dt.datetime.now(dt.UTC))
        self.accepted[request.out_id] = record
        return record.provider_message_id

    async def find(self, request: SmsRequest) -> str | None:
        record = self.accepted.get(request.out_id)
        return record.provider_message_id if record is not None else None

    def receipt(self, out_id: str, *, delivered: bool = True, error: str | None = None) -> tuple[bytes, dict[str, str]]:
        """A signed receipt callback for the message sent with `out_id`, as the gateway would post it."""
        record = self.accepted[out_id]
        body = json.dumps(
            [
                {
                    "biz_id": record.provider_message_id,
                    "out_id": out_id,
                    "phone_number": record.request.phone,
                    "success": delivered,
                    "err_code": "DELIVERED" if delivered else (error or "UNDELIVERED"),
                    "report_time": dt.datetime.now(dt.UTC).isoformat(),
                }
            ],
            sort_keys=True,
        ).encode("utf-8")
        signature = hmac.new(self._key, body, hashlib.sha256).hexdigest()
        return body, {SANDBOX_RECEIPT_SIGNATURE_HEADER: signature, "content-type": "application/json"}

    def read_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[SmsReceipt]:
        signature = headers.get(SANDBOX_RECEIPT_SIGNATURE_HEADER)
        if not signature:
            raise ReceiptRejected("unsigned receipt")
        if not hmac.compare_digest(signature, hmac.new(self._key, body, hashlib.sha256).hexdigest()):
            raise ReceiptRejected("signature does not match")
        try:
            items = json.loads(body)
            if not isinstance(items, list):
                raise ReceiptRejected("a receipt callback is a JSON array")
            receipts = []
            for item in items:
                reported_at = dt.datetime.fromisoformat(item["report_time"])
                if reported_at.tzinfo is None:
                    raise ReceiptRejected("report_time has no time zone")
                delivered = item["success"] is True
                receipts.append(
                    SmsReceipt(
                        provider_message_id=str(item["biz_id"]),
                        out_id=str(item["out_id"]),
                        delivered=delivered,
                        error=None if delivered else str(item.get("err_code") or "UNDELIVERED"),
                        reported_at=reported_at,
                    )
                )
            return receipts
        except (ValueError, KeyError, TypeError) as error:
            raise ReceiptRejected(f"malformed receipt: {error}") from None

    async def aclose(self) -> None:
        return None
