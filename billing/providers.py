"""Payment gateways behind one small interface shaped like WeChat Pay and Alipay.

An order has our number (out_trade_no), an amount in fen, an expiry and the URL the gateway notifies;
the gateway answers with a payload for the front end (QR code text or redirect) and later posts a
signed asynchronous notification, which we verify and acknowledge in the gateway's own words. The
built-in `sandbox` gateway signs notifications with HMAC-SHA256 under a key of its own
(`COURTYARD_SANDBOX_PAYMENT_KEY`; in development derived from the service secret when unset), so
development, the demo and the tests can pay end to end without a real gateway. Production runs it only
when `COURTYARD_SANDBOX_PAYMENTS=1` says so, and then only with its own key. Like WeChat Pay and Alipay,
it answers for what it collected with a daily bill per channel (`billing.reconciliation.sandbox_statement`):
a WeChat trade bill as merchant `SandboxProvider.merchant_id`, an Alipay 业务明细 as account
`SandboxProvider.alipay_account`, both at `SandboxProvider.fee_rate`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "SANDBOX_SIGNATURE_HEADER",
    "Acknowledgement",
    "NotificationRejected",
    "OrderRequest",
    "PaymentProvider",
    "SandboxProvider",
    "VerifiedNotification",
    "provider_registry",
]

SANDBOX_SIGNATURE_HEADER = "x-sandbox-signature"


@dataclass(frozen=True)
class OrderRequest:
    out_trade_no: str
    amount_fen: int
    description: str
    notify_url: str
    expires_at: dt.datetime
    channel: str


@dataclass(frozen=True)
class VerifiedNotification:
    """A notification whose signature checked out: the gateway says this order was paid."""

    out_trade_no: str
    transaction_id: str
    amount_fen: int
    paid_at: dt.datetime


@dataclass(frozen=True)
class Acknowledgement:
    status_code: int
    media_type: str
    body: str


class NotificationRejected(Exception):
    """A notification that is unsigned, mis-signed or malformed: nothing may change because of it."""


class PaymentProvider(Protocol):
    name: str

    def order_payload(self, order: OrderRequest) -> dict[str, Any]:
        """What the front end needs to show the order (QR code text, redirect URL, …)."""

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotification:
        """Check the signature and read the notification; raise NotificationRejected otherwise."""

    def acknowledgement(self, accepted: bool, reason: str) -> Acknowledgement:
        """The answer the gateway expects (it retries until it gets a success)."""


class SandboxProvider:
    """A gateway for development and tests: JSON notifications, HMAC-SHA256 signature in a header."""

    name = "sandbox"
    # The WeChat Pay merchant account it plays in its statements (公众账号ID, 商户号) and the fee it keeps.
    app_id = "wxd678efh567hg6787"
    merchant_id = "1230000109"
    fee_rate = Decimal("0.006")
    # The Alipay merchant account (PID) it plays in its Alipay statements; it keeps the same fee there.
    alipay_account = "2088101117955611"

    def __init__(self, secret_key: str) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"courtyard", info=b"courtyard sandbox gateway v1"
        ).derive(secret_key.encode("utf-8"))

    def order_payload(self, order: OrderRequest) -> dict[str, Any]:
        return {
            "gateway": self.name,
            "out_trade_no": order.out_trade_no,
            "total_fee": order.amount_fen,
            "description": order.description,
            "code_url": f"sandbox://pay?out_trade_no={order.out_trade_no}&total_fee={order.amount_fen}",
            "notify_url": order.notify_url,
            "time_expire": order.expires_at.isoformat(),
        }

    def sign(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def notification(
        self, *, out_trade_no: str, transaction_id: str, amount_fen: int, paid_at: dt.datetime
    ) -> tuple[bytes, dict[str, str]]:
        """A signed success notification, as the sandbox gateway would post it."""
        body = json.dumps(
            {
                "out_trade_no": out_trade_no,
                "transaction_id": transaction_id,
                "total_fee": amount_fen,
                "trade_state": "SUCCESS",
                "success_time": paid_at.isoformat(),
            },
            sort_keys=True,
        ).encode("utf-8")
        return body, {SANDBOX_SIGNATURE_HEADER: self.sign(body), "content-type": "application/json"}

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotification:
        signature = headers.get(SANDBOX_SIGNATURE_HEADER)
        if not signature:
            raise NotificationRejected("unsigned notification")
        if not hmac.compare_digest(signature, self.sign(body)):
            raise NotificationRejected("signature does not match")
        try:
            data = json.loads(body)
            if data["trade_state"] != "SUCCESS":
                raise NotificationRejected(f"trade state {data['trade_state']}")
            paid_at = dt.datetime.fromisoformat(data["success_time"])
            if paid_at.tzinfo is None:
                raise NotificationRejected("success_time has no time zone")
            return VerifiedNotification(
                out_trade_no=str(data["out_trade_no"]),
                transaction_id=str(data["transaction_id"]),
                amount_fen=int(data["total_fee"]),
                paid_at=paid_at,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise NotificationRejected(f"malformed notification: {error}") from None

    def acknowledgement(self, accepted: bool, reason: str) -> Acknowledgement:
        body = {"code": "SUCCESS", "message": "OK"} if accepted else {"code": "FAIL", "message": reason}
        return Acknowledgement(200 if accepted else 400, "application/json", json.dumps(body))


def provider_registry(*, sandbox_key: str | None) -> dict[str, PaymentProvider]:
    """The gateways this deployment talks to, by the name in their notify URL; the sandbox only with a key.

    A gateway left out answers 404 on its notify URL and BAD_USER_INPUT (field `provider`) to
    `startOnlinePayment`.
    """
    providers: dict[str, PaymentProvider] = {}
    if sandbox_key is not None:
        sandbox = SandboxProvider(sandbox_key)
        providers[sandbox.name] = sandbox
    return providers
