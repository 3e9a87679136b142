"""Receipt signatures and the sandbox gateway's notification signatures."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.providers import (
    SANDBOX_SIGNATURE_HEADER,
    NotificationRejected,
    SandboxProvider,
)
from billing.receipts import ReceiptSigner, receipt_number
from db.personal_data import PersonalDataCipher

PAID_AT = dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("number", "printed"), [(1, "R-000001"), (42, "R-000042"), (999_999, "R-999999"), (1_234_567, "R-1234567")]
)
def test_a_receipt_number_is_printed_with_at_least_six_digits(number: int, printed: str) -> None:
    assert receipt_number(number) == printed


def test_a_receipt_signature_verifies_only_the_content_it_signed() -> None:
    signer = ReceiptSigner.from_cipher(PersonalDataCipher("receipt-secret-0123456789"))
    signature = signer.sign('{"amount":"100.00"}')

    assert signer.verifies('{"amount":"100.00"}', signature)
    assert not signer.verifies('{"amount":"1000.00"}', signature)
    assert not signer.verifies('{"amount":"100.00"}', "not base64!")


def test_the_receipt_key_follows_the_secret() -> None:
    one, same, other = (
        ReceiptSigner.from_cipher(PersonalDataCipher(secret))
        for secret in ("secret-one-0123456789", "secret-one-0123456789", "secret-two-0123456789")
    )

    assert one.public_key_base64 == same.public_key_base64 != other.public_key_base64
    assert not other.verifies("x", one.sign("x"))


def test_a_sandbox_notification_round_trips_through_verification() -> None:
    gateway = SandboxProvider("gateway-secret-0123456789")
    body, headers = gateway.notification(out_trade_no="CY1", transaction_id="42", amount_fen=26820, paid_at=PAID_AT)

    notice = gateway.verify_notification(body, headers)

    assert (notice.out_trade_no, notice.transaction_id, notice.amount_fen, notice.paid_at) == ("CY1", "42", 26820, PAID_AT)


@pytest.mark.parametrize("headers", [{}, {SANDBOX_SIGNATURE_HEADER: "0" * 64}])
def test_an_unsigned_or_mis_signed_notification_is_rejected(headers: dict[str, str]) -> None:
    gateway = SandboxProvider("gateway-secret-0123456789")
    body, _ = gateway.notification(out_trade_no="CY1", transaction_id="42", amount_fen=1, paid_at=PAID_AT)

    with pytest.raises(NotificationRejected):
        gateway.verify_notification(body, headers)


def test_the_gateway_hears_success_or_failure_in_its_own_words() -> None:
    gateway = SandboxProvider("gateway-secret-0123456789")

    assert gateway.acknowledgement(True, "ok").status_code == 200
    assert gateway.acknowledgement(False, "bad signature").body == '{"code": "FAIL", "message": "bad signature"}'
