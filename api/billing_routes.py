"""HTTP routes of billing outside GraphQL: printable receipts and payment-gateway notifications."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import bearer_token
from api.state import AppState
from billing.online import record_gateway_notification
from billing.receipts import get_receipt_pdf
from kernel.errors import NotFound
from register.accounts import load_principal
from schema.ids import database_id

__all__ = ["billing_routes"]

log = logging.getLogger("courtyard.payments")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def receipt_pdf(request: Request) -> Response:
    """GET /receipts/<id>.pdf with a bearer token: the unit's occupant, FINANCE and ADMIN only."""
    state: AppState = request.app.state.courtyard
    token = bearer_token(request.headers)
    claims = state.tokens.verify(token) if token else None
    now = state.clock()
    if claims is None or claims.expires_at <= now:
        return _error(401, "UNAUTHENTICATED", "Send `Authorization: Bearer <token>`.")
    receipt_id = database_id(request.path_params["receipt_id"])
    if receipt_id is None:
        return _error(404, "NOT_FOUND", "No such receipt.")
    async with state.session_factory() as session:
        principal = await load_principal(session, claims.user_id, today=now.date(), token=claims)
    if principal is None:
        return _error(401, "UNAUTHENTICATED", "Send `Authorization: Bearer <token>`.")
    try:
        receipt, pdf = await get_receipt_pdf(state.session_factory, principal, receipt_id=receipt_id)
    except NotFound:
        return _error(404, "NOT_FOUND", "No such receipt.")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="receipt-{receipt.number}.pdf"'},
    )


async def payment_notification(request: Request) -> Response:
    """POST /payments/notify/<provider>: verify, record once, answer the gateway's acknowledgement."""
    state: AppState = request.app.state.courtyard
    providers = state.services.payment_providers
    provider = providers.get(request.path_params["provider"])
    if provider is None:
        return _error(404, "NOT_FOUND", "No such payment provider.")
    body = await request.body()
    headers = {key.lower(): value for key, value in request.headers.items()}
    outcome = await record_gateway_notification(
        state.session_factory,
        now=state.clock(),
        signer=state.services.receipt_signer,
        provider=provider,
        body=body,
        headers=headers,
    )
    if outcome.accepted:
        log.info("%s notification accepted: %s (payment %s)", provider.name, outcome.reason, outcome.payment_id)
    else:
        log.warning("%s notification refused: %s", provider.name, outcome.reason)
    acknowledgement = provider.acknowledgement(outcome.accepted, outcome.reason)
    return Response(acknowledgement.body, status_code=acknowledgement.status_code, media_type=acknowledgement.media_type)


def billing_routes() -> list[Route]:
    return [
        Route("/receipts/{receipt_id}.pdf", receipt_pdf, methods=["GET"]),
        Route("/payments/notify/{provider}", payment_notification, methods=["POST"]),
    ]
