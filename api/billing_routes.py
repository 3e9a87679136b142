"""HTTP routes of billing outside GraphQL: printable receipts, the daily close as a workbook, report
exports and payment-gateway notifications."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from api.auth import bearer_token
from api.state import AppState
from billing.online import record_gateway_notification
from billing.policy import manages_billing
from billing.receipts import get_receipt_pdf
from billing.reconciliation.close_report import close_report
from billing.reconciliation.close_workbook import write_close_workbook
from billing.reports.exports import SVG_MEDIA_TYPE, XLSX_MEDIA_TYPE, chart_kind, export_report, render_chart, report_kind
from kernel.errors import AccessDenied, BadInput, DomainError, NotFound
from kernel.principal import Principal
from kernel.vocabulary import Locale
from register.accounts import load_principal
from schema.ids import database_id

__all__ = ["billing_routes"]

log = logging.getLogger("courtyard.payments")


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)


async def _caller(request: Request) -> Principal | None:
    """The principal of the request's bearer token; None without a valid one."""
    state: AppState = request.app.state.courtyard
    token = bearer_token(request.headers)
    claims = state.tokens.verify(token) if token else None
    now = state.clock()
    if claims is None or claims.expires_at <= now:
        return None
    async with state.session_factory() as session:
        return await load_principal(session, claims.user_id, today=now.date(), token=claims)


def _unauthenticated() -> JSONResponse:
    return _error(401, "UNAUTHENTICATED", "Send `Authorization: Bearer <token>`.")


async def receipt_pdf(request: Request) -> Response:
    """GET /receipts/<id>.pdf with a bearer token: the unit's occupant, FINANCE and ADMIN only."""
    state: AppState = request.app.state.courtyard
    principal = await _caller(request)
    if principal is None:
        return _unauthenticated()
    receipt_id = database_id(request.path_params["receipt_id"])
    if receipt_id is None:
        return _error(404, "NOT_FOUND", "No such receipt.")
    try:
        receipt, pdf = await get_receipt_pdf(state.session_factory, principal, receipt_id=receipt_id)
    except NotFound:
        return _error(404, "NOT_FOUND", "No such receipt.")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="receipt-{receipt.number}.pdf"'},
    )


async def daily_close_workbook(request: Request) -> Response:
    """GET /reconciliation/accounts/<id>/closes.xlsx?from=YYYY-MM-DD&to=YYYY-MM-DD[&lang=en] with a bearer
    token: the account's daily closes over the period as a workbook, in Chinese or, with `lang=en`, in
    English, for FINANCE and ADMIN of its project (404 for anyone else, as for an account that does not
    exist)."""
    state: AppState = request.app.state.courtyard
    principal = await _caller(request)
    if principal is None:
        return _unauthenticated()
    account_id = database_id(request.path_params["account_id"])
    if account_id is None:
        return _error(404, "NOT_FOUND", "No such statement account.", "accountId")
    locale = Locale.EN if request.query_params.get("lang", "").strip().lower() == "en" else Locale.ZH_CN
    try:
        first_day, last_day = _day(request, "from"), _day(request, "to")
        report = await close_report(
            state.session_factory, principal, account_id=account_id, first_day=first_day, last_day=last_day, locale=locale
        )
    except NotFound as error:
        return _error(404, "NOT_FOUND", error.message, error.field)
    except BadInput as error:
        return _error(400, "BAD_USER_INPUT", error.message, error.field)
    workbook = io.BytesIO()
    await asyncio.to_thread(write_close_workbook, report, workbook)
    period = f"{report.first_day:%Y%m%d}-{report.last_day:%Y%m%d}"
    readable = quote(f"{'日结报告' if locale is Locale.ZH_CN else 'daily-closes'}-{report.account}-{period}.xlsx")
    return Response(
        workbook.getvalue(),
        media_type=XLSX_MEDIA_TYPE,
        headers={
            "content-disposition": f"attachment; filename=\"daily-closes-{account_id}-{period}.xlsx\"; filename*=UTF-8''{readable}"
        },
    )


def _day(request: Request, name: str) -> dt.date | None:
    """A day in the query string (YYYY-MM-DD); None when left out, for the report to ask for."""
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{name} is a day written YYYY-MM-DD, not {value[:40]!r}.", field=name) from None


async def _finance_caller(request: Request) -> Principal | JSONResponse:
    """The caller of a report route, or the answer refusing them: 401 without a valid token, 403 for a
    role that may never read reports (whichever project the address names)."""
    principal = await _caller(request)
    if principal is None:
        return _unauthenticated()
    if not manages_billing(principal):
        return _error(403, "FORBIDDEN", "Requires one of the roles ADMIN, FINANCE.")
    return principal


def _report_refusal(error: DomainError | AccessDenied) -> JSONResponse:
    if isinstance(error, BadInput):
        return JSONResponse({"error": {"code": "BAD_USER_INPUT", "message": error.message, "field": error.field}}, status_code=400)
    if isinstance(error, AccessDenied):
        return _error(403, "FORBIDDEN", str(error))
    return _error(404, "NOT_FOUND", "No such report.")


async def report_export(request: Request) -> Response:
    """GET /reports/<project id>/<collection|ageing|income>.xlsx with a bearer token and the report's
    arguments in the query string (as each report's `exportUrl` gives them): FINANCE and ADMIN only."""
    state: AppState = request.app.state.courtyard
    principal = await _finance_caller(request)
    if isinstance(principal, JSONResponse):
        return principal
    project_id = database_id(request.path_params["project_id"])
    report = report_kind(request.path_params["report"])
    if project_id is None or report is None:
        return _error(404, "NOT_FOUND", "No such report.")
    handle, name = tempfile.mkstemp(prefix="courtyard-report-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        try:
            filename = await export_report(
                state.session_factory,
                principal,
                report=report,
                project_id=project_id,
                arguments=dict(request.query_params),
                now=state.clock(),
                destination=path,
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    except (DomainError, AccessDenied) as error:
        return _report_refusal(error)
    return FileResponse(
        path, media_type=XLSX_MEDIA_TYPE, filename=filename, background=BackgroundTask(path.unlink, missing_ok=True)
    )


async def report_chart(request: Request) -> Response:
    """GET /reports/<project id>/charts/<chart>.svg with a bearer token and the report's arguments (and
    `lang`): one of the /finance page's charts. FINANCE and ADMIN only."""
    state: AppState = request.app.state.courtyard
    principal = await _finance_caller(request)
    if isinstance(principal, JSONResponse):
        return principal
    project_id = database_id(request.path_params["project_id"])
    chart = chart_kind(request.path_params["chart"])
    if project_id is None or chart is None:
        return _error(404, "NOT_FOUND", "No such chart.")
    try:
        svg = await render_chart(
            state.session_factory,
            principal,
            chart=chart,
            project_id=project_id,
            arguments=dict(request.query_params),
            now=state.clock(),
        )
    except (DomainError, AccessDenied) as error:
        return _report_refusal(error)
    return Response(svg, media_type=SVG_MEDIA_TYPE, headers={"Cache-Control": "no-store"})


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
        Route("/reconciliation/accounts/{account_id}/closes.xlsx", daily_close_workbook, methods=["GET"]),
        Route("/reports/{project_id}/{report}.xlsx", report_export, methods=["GET"]),
        Route("/reports/{project_id}/charts/{chart}.svg", report_chart, methods=["GET"]),
        Route("/payments/notify/{provider}", payment_notification, methods=["POST"]),
    ]
