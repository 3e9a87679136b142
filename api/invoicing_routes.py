"""HTTP routes of invoicing outside GraphQL: an issued invoice's PDF and its EInvoice XML, for whoever may
see the invoice (someone else's, or one not issued, answers 404), and the same documents behind the
links its delivery sent (`/invoices/download/<key>.pdf`), where the download key stands in for a login."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import bearer_token
from api.state import AppState
from db.models import Invoice
from invoicing.delivery import DOWNLOAD_PREFIX
from invoicing.queries import get_invoice_pdf, get_invoice_xml, get_linked_invoice_pdf, get_linked_invoice_xml
from kernel.errors import NotFound
from kernel.principal import Principal
from register.accounts import load_principal
from schema.ids import database_id

__all__ = ["invoicing_routes"]

Fetch = Callable[..., Awaitable[tuple[Invoice, bytes]]]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _caller(request: Request, state: AppState) -> Principal | None:
    token = bearer_token(request.headers)
    claims = state.tokens.verify(token) if token else None
    now = state.clock()
    if claims is None or claims.expires_at <= now:
        return None
    async with state.session_factory() as session:
        return await load_principal(session, claims.user_id, today=now.date(), token=claims)


def _document_route(fetch: Fetch, media_type: str, suffix: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        state: AppState = request.app.state.courtyard
        principal = await _caller(request, state)
        if principal is None:
            return _error(401, "UNAUTHENTICATED", "Send `Authorization: Bearer <token>`.")
        invoice_id = database_id(request.path_params["invoice_id"])
        if invoice_id is None:
            return _error(404, "NOT_FOUND", "No such invoice.")
        try:
            invoice, body = await fetch(state.session_factory, principal, invoice_id=invoice_id)
        except NotFound:
            return _error(404, "NOT_FOUND", "No such invoice.")
        return Response(
            body, media_type=media_type, headers={"content-disposition": f'inline; filename="invoice-{invoice.number}.{suffix}"'}
        )

    return serve


LinkedFetch = Callable[..., Awaitable[tuple[Invoice, bytes]]]


def _linked_route(fetch: LinkedFetch, media_type: str, suffix: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        state: AppState = request.app.state.courtyard
        try:
            invoice, body = await fetch(state.session_factory, download_key=request.path_params["key"])
        except NotFound:
            return _error(404, "NOT_FOUND", "No such invoice.")
        return Response(
            body,
            media_type=media_type,
            headers={
                "content-disposition": f'inline; filename="invoice-{invoice.number}.{suffix}"',
                # The key is the permission: keep it out of shared caches and of the pages it leads to.
                "cache-control": "private, no-store",
                "referrer-policy": "no-referrer",
            },
        )

    return serve


def invoicing_routes() -> list[Route]:
    return [
        Route(DOWNLOAD_PREFIX + "{key}.pdf", _linked_route(get_linked_invoice_pdf, "application/pdf", "pdf"), methods=["GET"]),
        Route(DOWNLOAD_PREFIX + "{key}.xml", _linked_route(get_linked_invoice_xml, "application/xml", "xml"), methods=["GET"]),
        Route("/invoices/{invoice_id}.pdf", _document_route(get_invoice_pdf, "application/pdf", "pdf"), methods=["GET"]),
        Route("/invoices/{invoice_id}.xml", _document_route(get_invoice_xml, "application/xml", "xml"), methods=["GET"]),
    ]
