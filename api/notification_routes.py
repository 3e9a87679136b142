"""The callback SMS gateways post their receipts (回执) to. The gateway's signature admits a receipt,
not a login; a receipt that does not verify changes nothing and is answered 400."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.state import AppState
from notifications.receipts import record_sms_receipts
from notifications.sms import ReceiptRejected

__all__ = ["MAX_RECEIPT_BYTES", "notification_routes"]

log = logging.getLogger("courtyard.notifications")

MAX_RECEIPT_BYTES = 256 * 1024


async def sms_receipts(request: Request) -> Response:
    state: AppState = request.app.state.courtyard
    gateway = state.sms_gateways.get(request.path_params["gateway"])
    if gateway is None:
        return JSONResponse({"code": "NOT_FOUND", "message": "no such SMS gateway"}, status_code=404)
    body = await request.body()
    if len(body) > MAX_RECEIPT_BYTES:
        return JSONResponse({"code": "FAIL", "message": "too large"}, status_code=413)
    try:
        receipts = gateway.read_receipts(body, request.headers)
    except ReceiptRejected as rejected:
        log.warning("SMS receipt refused (%s): %s", gateway.name, rejected)
        return JSONResponse({"code": "FAIL", "message": str(rejected)}, status_code=400)
    await record_sms_receipts(state.session_factory, receipts, now=state.clock())
    # The gateways resend until they get their success answer.
    return JSONResponse({"code": 0, "msg": "成功"})


def notification_routes() -> list[Route]:
    return [Route("/notifications/sms/receipts/{gateway}", sms_receipts, methods=["POST"])]
