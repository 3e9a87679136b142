"""Who may do what, one table: every root query field (and `node` for every Node type), mutation,
subscription and ID-taking HTTP route × every role × the caller's own object, someone else's in the
same project, another project's. The operations are read from the schema and the app's routes: one
without a row in `EXPECTED` fails, and so does a row for an operation that is gone.

The cells follow DESIGN.md §5–§6 and the operations' own descriptions:
- A  allowed: the data is returned (a query shows the target, a mutation answers its success type, a
     subscription's first message is an event, a route answers 200);
- N  NOT_FOUND: a typed NOT_FOUND error; for queries null or left out of the list; 404 for routes; a
     NOT_FOUND error for subscriptions. It is the answer for objects the caller may not see or touch;
- F  FORBIDDEN: a top-level error (403 for routes): the role may not call the operation at all, so the
     answer does not depend on the object;
- U  UNAUTHENTICATED: a top-level error (401 for routes).
Each cell is a string of three outcomes: own, other, foreign (see authorization_world.py for who owns
what). A refused mutation must write nothing: the row count of every table, and the rows of the tables
the operation writes, are the same after it.

The world is built once per database (this file runs SQLite, test_authorization_table_postgresql.py the
same tests on PostgreSQL); operations that use their target up get a fresh one per cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import graphql
import pytest
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.engine import Dialect
from starlette.routing import Route
from strawberry import relay

from api.app import create_app
from api.live import TRACK_HTML
from api.settings import Settings
from db.base import Base
from db.models import Invoice, TechnicianDayOff, TechnicianShift
from kernel.vocabulary import AbsenceReason
from schema import build_schema
from tests.conftest import TEST_SECRET, PostgresServer
from tests.integration.authorization_world import (
    BILLING_PERIOD,
    CALLERS,
    OWNERSHIPS,
    PASSWORD,
    ROLES,
    AuthorizationWorld,
    multipart,
    readings_csv,
    serve_authorization_world,
)
from tests.integration.live_client import live_socket
from tests.unit.reconciliation.statements import wechat_bill, wechat_payment

# fmt: off
#                                      ADMIN  FINANCE DISPATCHER TECHNICIAN OWNER  ANONYMOUS
EXPECTED: Final[dict[str, tuple[str, str, str, str, str, str]]] = {
    # --- queries: null / left out for what the caller may not see -------------------------------
    "Query.viewer":                    ("AAA", "AAA", "AAA", "AAA", "AAA", "UUU"),
    "Query.projects":                  ("AAN", "AAN", "AAN", "AAN", "AAN", "UUU"),
    "Query.units":                     ("AAN", "AAN", "AAN", "AAN", "ANN", "UUU"),
    "Query.technicians":               ("AAN", "AAN", "AAN", "ANN", "FFF", "UUU"),
    "Query.tickets":                   ("AAN", "AAN", "AAN", "ANN", "ANN", "UUU"),
    "Query.dispatchSettings":          ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Query.dayRoutes":                 ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Query.myRoute":                   ("FFF", "FFF", "FFF", "AAA", "FFF", "UUU"),
    "Query.equipment":                 ("AAN", "AAN", "AAN", "AAN", "FFF", "UUU"),
    "Query.dispatchAnalytics":         ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Query.feeRules":                  ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.discountRules":             ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.waivers":                   ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.billingPolicy":             ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.flaggedReadings":           ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.billRuns":                  ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.bills":                     ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.payments":                  ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.unitStatement":             ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.ledgerCheck":               ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.verifyReceipt":             ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.statementAccounts":         ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.reconciliationExceptions":  ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.reconciliationMatches":     ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.dailyCloses":               ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.reconciliationRules":       ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.dunningPolicy":             ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.dunningWorkQueue":          ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.dunningDay":                ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.overdueRisks":              ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.riskScorecard":             ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.collectionRate":            ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.arrearsAgeing":             ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.incomeReport":              ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.receiptPublicKey":          ("AAA", "AAA", "AAA", "AAA", "AAA", "UUU"),
    "Query.myNotifications":           ("NNN", "NNN", "NNN", "NNN", "ANN", "UUU"),  # each their own inbox only
    "Query.myNotificationPreferences": ("AAA", "AAA", "AAA", "AAA", "AAA", "UUU"),  # the caller's own
    "Query.notificationTemplates":     ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Query.previewNotificationTemplate": ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Query.node(Notification)":        ("NNN", "NNN", "NNN", "NNN", "ANN", "UUU"),
    "Query.announcements":             ("AAN", "AAN", "AAN", "FFF", "FFF", "UUU"),
    "Query.myAnnouncements":           ("NNN", "NNN", "NNN", "NNN", "ANN", "UUU"),  # those published to the caller
    "Query.node(Announcement)":        ("AAN", "AAN", "AAN", "NNN", "ANN", "UUU"),  # staff, and its recipients
    "Query.invoices":                  ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.invoiceTitles":             ("FFF", "FFF", "FFF", "FFF", "ANN", "UUU"),  # owners keep their own
    "Query.invoicingConfiguration":    ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.invoiceBatches":            ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Query.node(Project)":             ("AAN", "AAN", "AAN", "AAN", "AAN", "UUU"),
    "Query.node(Building)":            ("AAN", "AAN", "AAN", "AAN", "AAN", "UUU"),
    "Query.node(Unit)":                ("AAN", "AAN", "AAN", "AAN", "ANN", "UUU"),
    "Query.node(Party)":               ("AAN", "AAN", "AAN", "NNN", "ANN", "UUU"),
    "Query.node(Occupancy)":           ("AAN", "AAN", "AAN", "NNN", "ANN", "UUU"),
    "Query.node(Technician)":          ("AAN", "AAN", "AAN", "ANN", "NNN", "UUU"),
    "Query.node(Ticket)":              ("AAN", "AAN", "AAN", "ANN", "ANN", "UUU"),
    "Query.node(Equipment)":           ("AAN", "AAN", "AAN", "AAN", "NNN", "UUU"),
    "Query.node(FeeRule)":             ("AAN", "AAN", "NNN", "NNN", "NNN", "UUU"),
    "Query.node(DiscountRule)":        ("AAN", "AAN", "NNN", "NNN", "NNN", "UUU"),
    "Query.node(Waiver)":              ("AAN", "AAN", "NNN", "NNN", "NNN", "UUU"),
    "Query.node(MeterReading)":        ("AAN", "AAN", "NNN", "NNN", "NNN", "UUU"),
    "Query.node(BillRun)":             ("AAN", "AAN", "NNN", "NNN", "NNN", "UUU"),
    "Query.node(Bill)":                ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.node(Payment)":             ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.node(Receipt)":             ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.node(Adjustment)":          ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.node(PaymentIntent)":       ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.node(Invoice)":             ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "Query.node(InvoiceTitle)":        ("NNN", "NNN", "NNN", "NNN", "ANN", "UUU"),
    "Query.node(InvoiceBatch)":        ("AAN", "AAN", "NNN", "NNN", "NNN", "UUU"),
    # --- subscriptions: checked at the handshake's first message ----------------------------------
    "Subscription.ticketUpdates":      ("AAN", "AAN", "AAN", "FFF", "ANN", "UUU"),
    "Subscription.dispatchBoard":      ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Subscription.myAssignments":      ("FFF", "FFF", "FFF", "AAA", "FFF", "UUU"),
    "Subscription.myNotifications":    ("AAA", "AAA", "AAA", "AAA", "AAA", "UUU"),  # the caller's own inbox
    "Subscription.announcementCounters": ("AAN", "AAN", "AAN", "FFF", "FFF", "UUU"),
    # --- HTTP routes taking an object's ID ---------------------------------------------------------
    "GET /receipts/{receipt_id}.pdf":  ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "GET /reconciliation/accounts/{account_id}/closes.xlsx": ("AAN", "AAN", "NNN", "NNN", "NNN", "UUU"),
    "GET /reports/{project_id}/{report}.xlsx": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "GET /reports/{project_id}/charts/{chart}.svg": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "GET /invoices/{invoice_id}.pdf":  ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    "GET /invoices/{invoice_id}.xml":  ("AAN", "AAN", "NNN", "NNN", "ANN", "UUU"),
    # A delivered invoice link: its download key is the permission, whoever holds it (a login or none).
    "GET /invoices/download/{key}.pdf": ("AAA", "AAA", "AAA", "AAA", "AAA", "AAA"),
    "GET /invoices/download/{key}.xml": ("AAA", "AAA", "AAA", "AAA", "AAA", "AAA"),
    "GET /attachments/{attachment_id:int}": ("AAN", "AAN", "AAN", "ANN", "ANN", "UUU"),
    "GET /track/{ticket}":             ("AAA", "AAA", "AAA", "AAA", "AAA", "AAA"),  # the same page for every ticket
    # --- mutations: a refused one writes nothing --------------------------------------------------
    "Mutation.login":                  ("AAA", "AAA", "AAA", "AAA", "AAA", "AAA"),
    "Mutation.logout":                 ("AAA", "AAA", "AAA", "AAA", "AAA", "UUU"),  # the caller's own token
    "Mutation.changePassword":         ("AAA", "AAA", "AAA", "AAA", "AAA", "UUU"),  # the caller's own password
    "Mutation.issuePasswordReset":     ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.resetPassword":          ("AAA", "AAA", "AAA", "AAA", "AAA", "AAA"),  # whoever holds the code
    "Mutation.createProject":          ("AAA", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.updateProject":          ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createBuilding":         ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.updateBuilding":         ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createUnit":             ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.updateUnit":             ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createParty":            ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.updateParty":            ("AAN", "FFF", "FFF", "FFF", "ANN", "UUU"),  # admins, and a person their own
    "Mutation.createOccupancy":        ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.updateOccupancy":        ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.importUnits":            ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createTechnician":       ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.updateTechnician":       ("AAN", "FFF", "AAN", "ANN", "FFF", "UUU"),  # a technician their own shift
    "Mutation.submitTicket":           ("AAN", "FFF", "AAN", "FFF", "ANN", "UUU"),
    "Mutation.transitionTicket":       ("AAN", "FFF", "AAN", "ANN", "ANN", "UUU"),  # each role its own action
    "Mutation.assignTicket":           ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.categorizeTicket":       ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.optimizeDispatch":       ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.pinVisit":               ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.setTechnicianShift":     ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),  # a technician reads, never sets, their own
    "Mutation.clearTechnicianShift":   ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.setTechnicianDayOff":    ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),  # a technician reads, never sets, their own
    "Mutation.clearTechnicianDayOff":  ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.setOwnerAvailability":   ("AAN", "FFF", "AAN", "FFF", "ANN", "UUU"),  # an owner on their own tickets
    "Mutation.updateDispatchSettings": ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createEquipment":        ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.updateEquipment":        ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.recordMaintenance":      ("AAN", "FFF", "AAN", "FFF", "FFF", "UUU"),
    "Mutation.createFeeRule":          ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.reviseFeeRule":          ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.retireFeeRule":          ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createDiscountRule":     ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createWaiver":           ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.setBillingPolicy":       ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.recordMeterReading":     ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.importMeterReadings":    ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.runBilling":             ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createAdjustment":       ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.recordPayment":          ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.recordBatchPayment":     ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.refundPayment":          ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.reversePayment":         ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createPaymentIntent":    ("AAN", "AAN", "FFF", "FFF", "ANN", "UUU"),  # finance staff, and owners their own bills
    "Mutation.createStatementAccount": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.importStatement":        ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.reconcile":              ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.resolveReconciliationException": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.closeReconciliationDay": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createReconciliationRule": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.updateReconciliationRule": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.disableReconciliationRule": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.enableReconciliationRule": ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.setDunningPolicy":       ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.runDunning":             ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.trainRiskScorecard":     ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.setBillDispute":         ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.setPaymentPlan":         ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.recordDunningCall":      ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.markNotificationRead":   ("NNN", "NNN", "NNN", "NNN", "ANN", "UUU"),
    "Mutation.updateMyNotificationPreferences": ("AAA", "AAA", "AAA", "AAA", "AAA", "UUU"),  # the caller's own
    "Mutation.recordWechatConsent":    ("AAA", "AAA", "AAA", "AAA", "AAA", "UUU"),  # the caller's own
    "Mutation.saveNotificationTemplate": ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createAnnouncement":     ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.updateAnnouncement":     ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.publishAnnouncement":    ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.recallAnnouncement":     ("AAN", "FFF", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.markAnnouncementRead":   ("NNN", "NNN", "NNN", "NNN", "ANN", "UUU"),  # its recipients only
    "Mutation.setInvoicingProfile":    ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.setInvoiceSeller":       ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.setTaxMapping":          ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
    "Mutation.createInvoiceTitle":     ("FFF", "FFF", "FFF", "FFF", "AAA", "UUU"),  # for the caller's own party
    "Mutation.updateInvoiceTitle":     ("FFF", "FFF", "FFF", "FFF", "ANN", "UUU"),
    "Mutation.deleteInvoiceTitle":     ("FFF", "FFF", "FFF", "FFF", "ANN", "UUU"),
    "Mutation.requestInvoice":         ("AAN", "AAN", "FFF", "FFF", "ANN", "UUU"),  # owners for their own payments
    "Mutation.issueInvoiceBatch":      ("AAN", "AAN", "FFF", "FFF", "FFF", "UUU"),
}
# fmt: on

# Routes with a parameter that is not an object's ID, and why they are not in the table.
NOT_OBJECT_ROUTES: Final = {
    "POST /payments/notify/{provider}": "names a payment gateway; the gateway's signature, not a role, admits it",
    "POST /notifications/sms/receipts/{gateway}": "names an SMS gateway; the gateway's signature, not a role, admits it",
}

OUTCOMES: Final = {
    "A": "allowed",
    "N": "NOT_FOUND",
    "F": "FORBIDDEN",
    "U": "UNAUTHENTICATED",
}


# --- what the schema and the app offer -------------------------------------------------------------


def schema_operations() -> set[str]:
    """Every root field of the schema, with `node` once per Node type."""
    schema = graphql.build_schema(build_schema(production=False).as_str())
    assert schema.query_type and schema.mutation_type and schema.subscription_type
    node_types = schema.get_possible_types(schema.get_type("Node"))  # type: ignore[arg-type]
    return (
        {f"Query.{name}" for name in schema.query_type.fields if name != "node"}
        | {f"Query.node({node_type.name})" for node_type in node_types}
        | {f"Mutation.{name}" for name in schema.mutation_type.fields}
        | {f"Subscription.{name}" for name in schema.subscription_type.fields}
    )


def routes_with_parameters() -> set[str]:
    app = create_app(Settings(database_url="sqlite+aiosqlite://", secret_key=TEST_SECRET))
    return {
        f"{method} {route.path}"
        for route in app.routes
        if isinstance(route, Route) and "{" in route.path
        for method in sorted((route.methods or set()) - {"HEAD"})
    }


@functools.cache
def operations() -> frozenset[str]:
    return frozenset(schema_operations() | (routes_with_parameters() - set(NOT_OBJECT_ROUTES)))


# --- one cell --------------------------------------------------------------------------------------


@dataclass
class Cell:
    aw: AuthorizationWorld
    role: str
    ownership: str
    caller: str | None = None  # who calls in the role's name: its caller in Lakeside unless named

    @property
    def token(self) -> str | None:
        return self.aw.token(self.caller if self.caller is not None else CALLERS[self.role])

    def gid(self, kind: str) -> str:
        return self.aw.gid(kind, self.ownership)

    def pk(self, kind: str) -> int:
        return self.aw.pk(kind, self.ownership)

    def serial(self) -> int:
        return self.aw.serial()

    def pick(self, own: Any, other: Any, foreign: Any) -> Any:
        return {"own": own, "other": other, "foreign": foreign}[self.ownership]


Variables = Callable[[Cell], dict[str, Any] | Awaitable[dict[str, Any]]]
Shows = Callable[[Cell, Any], bool]
Observed = tuple[str, str]  # (outcome letter or "?", what happened)


async def _resolve(variables: Variables, cell: Cell) -> dict[str, Any]:
    value = variables(cell)
    return await value if inspect.isawaitable(value) else value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def lists(kind: str) -> Shows:
    """A list query shows the target when its global ID is among the answer's values."""
    return lambda cell, value: cell.gid(kind) in set(_strings(value))


def answers(cell: Cell, value: Any) -> bool:
    return value is not None


def nonempty(cell: Cell, value: Any) -> bool:
    """A project's list shows the target project when it lists anything: the world gives each project rows."""
    return any(True for _ in _strings(value))


def _top_level(result: dict[str, Any]) -> Observed | None:
    errors = result.get("errors") or []
    if not errors:
        return None
    codes = sorted({(error.get("extensions") or {}).get("code", "?") for error in errors})
    letter = {"FORBIDDEN": "F", "UNAUTHENTICATED": "U"}.get(codes[0], "?") if len(codes) == 1 else "?"
    return letter, f"top-level {', '.join(codes)}: {errors[0].get('message')}"


@dataclass(frozen=True)
class GraphQLProbe:
    """A query (`shows` says whether the answer shows the target) or a mutation (`writes`: the tables it
    changes, which a refusal must leave as they were); `files` makes it a multipart upload."""

    document: str
    variables: Variables = lambda cell: {}
    shows: Shows | None = None
    writes: tuple[str, ...] = ()
    files: Callable[[Cell], dict[str, tuple[str, bytes]]] | None = None

    @property
    def is_mutation(self) -> bool:
        return self.shows is None

    async def prepare(self, cell: Cell) -> dict[str, Any]:
        return await _resolve(self.variables, cell)

    async def observe(self, cell: Cell, field: str, variables: dict[str, Any]) -> Observed:
        if self.files is not None:
            result = await multipart(cell.aw.client, cell.token, self.document, variables, self.files(cell))
        else:
            headers = {"Authorization": f"Bearer {cell.token}"} if cell.token else {}
            response = await cell.aw.client.post(
                "/graphql", json={"query": self.document, "variables": variables}, headers=headers
            )
            assert response.status_code == 200, response.text
            result = response.json()
        if (refused := _top_level(result)) is not None:
            return refused
        value = result["data"][field]
        if self.shows is not None:
            return ("A", "shown") if self.shows(cell, value) else ("N", f"not shown: {value}")
        code = value.get("code")
        if code is None:
            return "A", value["__typename"]
        return ("N" if code == "NOT_FOUND" else "?"), f"{value['__typename']} {code}: {value.get('message')}"


@dataclass(frozen=True)
class SubscriptionProbe:
    document: str
    variables: Variables

    async def prepare(self, cell: Cell) -> dict[str, Any]:
        return await _resolve(self.variables, cell)

    async def observe(self, cell: Cell, field: str, variables: dict[str, Any]) -> Observed:
        async with live_socket(cell.aw.app, cell.token) as socket:
            await socket.subscribe(self.document, variables)
            message = await socket.message()
        payload = message.get("payload")
        errors = payload if isinstance(payload, list) else (payload or {}).get("errors")
        if not errors:
            event = (payload or {}).get("data", {}).get(field) if message["type"] in ("next", "data") else None
            return ("A" if event is not None else "?"), f"{message['type']}: {payload}"
        codes = sorted({(error.get("extensions") or {}).get("code", "?") for error in errors})
        letter = {"FORBIDDEN": "F", "UNAUTHENTICATED": "U", "NOT_FOUND": "N"}.get(codes[0], "?")
        return (letter if len(codes) == 1 else "?"), f"{message['type']} {', '.join(codes)}: {errors[0].get('message')}"


@dataclass(frozen=True)
class RouteProbe:
    path: Callable[[Cell], str]
    body: bytes | None = None  # what an allowed answer must be, when it is known in advance

    async def prepare(self, cell: Cell) -> dict[str, Any]:
        return {"path": self.path(cell)}

    async def observe(self, cell: Cell, field: str, variables: dict[str, Any]) -> Observed:
        headers = {"Authorization": f"Bearer {cell.token}"} if cell.token else {}
        response = await cell.aw.client.get(variables["path"], headers=headers)
        letter = {200: "A", 401: "U", 403: "F", 404: "N"}.get(response.status_code, "?")
        if letter == "A" and self.body is not None and response.content != self.body:
            return "?", "200 with a body that differs from the page every ticket gets"
        return letter, f"HTTP {response.status_code}"


@dataclass(frozen=True)
class InvoiceLinkProbe(RouteProbe):
    """The link an invoice's delivery sent: its path holds the cell's invoice's download key, read when
    the cell is prepared (`path` gives the document's suffix)."""

    async def prepare(self, cell: Cell) -> dict[str, Any]:
        async with cell.aw.state.session_factory() as session:
            key = await session.scalar(select(Invoice.download_key).where(Invoice.id == cell.pk("Invoice")))
        assert key is not None, "the world's invoices are issued"
        return {"path": f"/invoices/download/{key}.{self.path(cell)}"}


# --- how each operation is called ------------------------------------------------------------------

RESULT = "{ __typename ... on Error { code message field } }"
def node(type_name: str) -> GraphQLProbe:
    return GraphQLProbe("query ($id: ID!) { node(id: $id) { id } }", lambda c: {"id": c.gid(type_name)}, answers)


def project(cell: Cell) -> dict[str, Any]:
    return {"p": cell.gid("Project")}


def mutation(field: str, arguments: str, variables: Variables, *writes: str, **extra: Any) -> GraphQLProbe:
    return GraphQLProbe(f"mutation ({arguments}) {{ {field}{_call(arguments)} {RESULT} }}", variables, None, writes, **extra)


def _call(arguments: str) -> str:
    """`$input: X!` → `(input: $input)`; argument names are the variable names."""
    names = [part.split(":")[0].strip().lstrip("$") for part in arguments.split(",") if part.strip()]
    return "(" + ", ".join(f"{name}: ${name}" for name in names) + ")" if names else ""


def _ticket_action(cell: Cell) -> str:
    # What each role is there to do to an ASSIGNED ticket: the technician accepts it, everyone else cancels.
    return "ACCEPT" if cell.role == "TECHNICIAN" else "CANCEL"


async def _transition(cell: Cell) -> dict[str, Any]:
    return {"ticketId": await cell.aw.fresh_ticket(cell.ownership, assigned=True), "action": _ticket_action(cell)}


async def _assign(cell: Cell) -> dict[str, Any]:
    return {"ticketId": await cell.aw.fresh_ticket(cell.ownership, assigned=False), "technicianId": cell.gid("Technician")}


async def _unpin(cell: Cell) -> dict[str, Any]:
    return {"ticketId": await cell.aw.fresh_ticket(cell.ownership, assigned=False)}


async def _stored_shift(cell: Cell) -> dict[str, Any]:
    """The target technician's Saturday hours, stored again for every cell (an allowed call removes them)."""
    async with cell.aw.state.session_factory() as session, session.begin():
        technician = cell.pk("Technician")
        stored = await session.scalar(
            select(TechnicianShift).where(TechnicianShift.technician_id == technician, TechnicianShift.weekday == 6)
        )
        if stored is None:
            session.add(TechnicianShift(technician_id=technician, weekday=6, starts_minute=540, ends_minute=1020, breaks=[]))
    return {"technicianId": cell.gid("Technician"), "weekday": 6}


def _day_off(cell: Cell) -> dt.date:
    return (cell.aw.state.clock() + dt.timedelta(days=30)).date()


async def _stored_day_off(cell: Cell) -> dict[str, Any]:
    """The target technician's day off in a month, stored again for every cell (an allowed call removes it)."""
    async with cell.aw.state.session_factory() as session, session.begin():
        technician, day = cell.pk("Technician"), _day_off(cell)
        stored = await session.scalar(
            select(TechnicianDayOff).where(TechnicianDayOff.technician_id == technician, TechnicianDayOff.on_date == day)
        )
        if stored is None:
            session.add(TechnicianDayOff(technician_id=technician, on_date=day, reason=AbsenceReason.LEAVE))
    return {"technicianId": cell.gid("Technician"), "onDate": day.isoformat()}


def _availability(cell: Cell) -> dict[str, Any]:
    opens = cell.aw.state.clock() + dt.timedelta(hours=1)
    return {
        "ticketId": cell.gid("Ticket"),
        "availableFrom": opens.isoformat(),
        "availableUntil": (opens + dt.timedelta(hours=2)).isoformat(),
    }


async def _categorize(cell: Cell) -> dict[str, Any]:
    return {"input": {"ticketId": await cell.aw.fresh_ticket(cell.ownership, assigned=False), "category": "ELECTRICAL"}}


async def _revise(cell: Cell) -> dict[str, Any]:
    rule = await cell.aw.fresh_fee_rule(cell.ownership)
    version = {"name": "服务费 2027", "effectiveFrom": "2027-01-01", "amountPerCycle": "12.00", "scope": {"unitKinds": ["APARTMENT"]}}
    return {"input": {"ruleId": rule, **version}}


async def _retire(cell: Cell) -> dict[str, Any]:
    return {"ruleId": await cell.aw.fresh_fee_rule(cell.ownership), "effectiveTo": "2026-12-31"}


async def _refund(cell: Cell) -> dict[str, Any]:
    payment = await cell.aw.fresh_payment(cell.ownership, with_credit=True)
    return {"input": {"paymentId": payment, "amount": "1.00", "reason": "多收退回"}}


async def _reverse(cell: Cell) -> dict[str, Any]:
    payment = await cell.aw.fresh_payment(cell.ownership, with_credit=False)
    return {"input": {"paymentId": payment, "reason": "误收冲正"}}


def _units_file(cell: Cell) -> dict[str, tuple[str, bytes]]:
    row = f"I{cell.serial()},0101,1,45.5,商铺,,,\n"
    return {"file": ("units.csv", ("楼栋,房号,楼层,建筑面积,类型,业主姓名,联系电话,身份证号\n" + row).encode("utf-8"))}


def _readings_file(cell: Cell) -> dict[str, tuple[str, bytes]]:
    building, number = cell.pick(("A1", "101"), ("A1", "102"), ("B1", "101"))
    return {"file": ("readings.csv", readings_csv([(building, number, f"gas{cell.serial()}", "5", "2026-11-01 10:00")]))}


def _payment(cell: Cell) -> dict[str, Any]:
    return {"unitId": cell.gid("Unit"), "amount": "1.00", "channel": "CASH", "payerName": "王丽", "idempotencyKey": f"cell-{cell.serial()}"}


def _verify(cell: Cell) -> dict[str, Any]:
    return dict(cell.aw.receipts[cell.ownership])


def _shows_receipt(cell: Cell, value: Any) -> bool:
    return bool(value["genuine"]) and value["receipt"] is not None and value["receipt"]["id"] == cell.gid("Receipt")


_CREATE_ACCOUNT = (
    "mutation ($input: CreateStatementAccountInput!) { createStatementAccount(input: $input) { ... on StatementAccount { id } ... on Error { code } } }"
)
_IMPORT = "mutation ($a: ID!, $file: Upload!) { importStatement(accountId: $a, file: $file) { ... on StatementImport { lineCount } ... on Error { code } } }"
_RECONCILE = "mutation ($p: ID!) { reconcile(projectId: $p, from: \"2026-11-01\", to: \"2026-11-01\") { ... on ReconciliationRun { newMatches } ... on Error { code } } }"
_OPEN_CHANNEL_ONLY = (
    "query ($p: ID!) { reconciliationExceptions(projectId: $p, filter: {status: OPEN, kinds: [CHANNEL_ONLY]}, first: 100)"
    " { edges { node { id lines { orderNo } } } } }"
)


def _project_finance(cell: Cell) -> str:
    return cell.pick("finance_a", "finance_a", "admin_b")


async def _statement_account(cell: Cell) -> str:
    """A fresh WeChat statement account in the cell's project, made by its finance staff."""
    created = await cell.aw.call(
        _project_finance(cell), _CREATE_ACCOUNT, {"input": {"projectId": cell.gid("Project"), "name": f"MCH{cell.serial()}", "kind": "WECHAT"}}
    )
    return str(created["id"])


def _channel_only_bill(number: int) -> bytes:
    return wechat_bill([wechat_payment(number, "12.00", time="2026-11-01 10:00:00")])


async def _import_statement(cell: Cell) -> dict[str, Any]:
    return {"accountId": await _statement_account(cell), "file": None}


def _statement_file(cell: Cell) -> dict[str, tuple[str, bytes]]:
    return {"file": ("wechat.csv", _channel_only_bill(cell.serial()))}


async def _reconcile(cell: Cell) -> dict[str, Any]:
    await _statement_account(cell)
    return {"projectId": cell.gid("Project"), "from": "2026-11-01", "to": "2026-11-01"}


async def _open_exception(cell: Cell) -> dict[str, Any]:
    """A fresh CHANNEL_ONLY exception in the cell's project: a WeChat line no payment has, matched."""
    finance, account, number = _project_finance(cell), await _statement_account(cell), cell.serial()
    imported = await multipart(
        cell.aw.client, cell.aw.token(finance), _IMPORT, {"a": account, "file": None}, {"file": ("w.csv", _channel_only_bill(number))}
    )
    assert imported["data"]["importStatement"] == {"lineCount": 1}, imported
    await cell.aw.call(finance, _RECONCILE, {"p": cell.gid("Project")})
    found = await cell.aw.call(finance, _OPEN_CHANNEL_ONLY, {"p": cell.gid("Project")})
    order = wechat_payment(number, "12.00")["商户订单号"]
    exception = next(
        edge["node"]["id"] for edge in found["edges"] if [line["orderNo"] for line in edge["node"]["lines"]] == [order]
    )
    return {"input": {"exceptionId": exception, "action": "WRITE_OFF", "reason": "核实无误", "approvedBy": "李强"}}


async def _close_day(cell: Cell) -> dict[str, Any]:
    await _statement_account(cell)
    day = dt.date(2025, 1, 1) + dt.timedelta(days=cell.serial())
    return {"projectId": cell.gid("Project"), "day": day.isoformat()}


async def _delete_title(cell: Cell) -> dict[str, Any]:
    return {"id": await cell.aw.fresh_invoice_title(cell.ownership)}


def _login(cell: Cell) -> dict[str, Any]:
    return {"email": cell.pick("alice", "bob", "carol") + "@example.test", "password": PASSWORD}


def _reset_target(cell: Cell) -> dict[str, Any]:
    return {"email": cell.pick("alice", "bob", "carol") + "@example.test"}


async def _reset(cell: Cell) -> dict[str, Any]:
    # The same password again: later cells still log in with it (the clock stands still, so the world's
    # tokens, issued at the reset's instant, still count).
    email = cell.pick("alice", "bob", "carol") + "@example.test"
    issued = await cell.aw.call(
        cell.pick("admin_a", "admin_a", "admin_b"),
        "mutation ($email: String!) { issuePasswordReset(email: $email) { ... on PasswordResetPayload { resetCode } } }",
        {"email": email},
    )
    return {"email": email, "code": issued["resetCode"], "newPassword": PASSWORD}


def _draft(cell: Cell) -> str:
    """The cell's project's draft announcement (drafts stay drafts when changed)."""
    return str(relay.GlobalID("Announcement", str(cell.pk("AnnouncementDraft"))))


async def _fresh_announcement(cell: Cell, *, published: bool) -> dict[str, Any]:
    return {"id": await cell.aw.fresh_announcement(cell.ownership, published=published)}


PROBES: Final[dict[str, GraphQLProbe | SubscriptionProbe | RouteProbe]] = {
    "Query.viewer": GraphQLProbe("{ viewer { email } }", shows=answers),
    "Query.projects": GraphQLProbe("{ projects { id } }", shows=lists("Project")),
    "Query.units": GraphQLProbe(
        "query ($p: ID!) { units(projectId: $p, first: 100) { edges { node { id } } } }", project, lists("Unit")
    ),
    "Query.technicians": GraphQLProbe("query ($p: ID!) { technicians(projectId: $p) { id } }", project, lists("Technician")),
    "Query.tickets": GraphQLProbe(
        "{ tickets(filter: {status: [ACCEPTED]}, first: 100) { edges { node { id } } } }", shows=lists("Ticket")
    ),
    "Query.dispatchSettings": GraphQLProbe(
        "query ($p: ID!) { dispatchSettings(projectId: $p) { autoDispatch } }", project, answers
    ),
    "Query.dayRoutes": GraphQLProbe("query ($p: ID!) { dayRoutes(projectId: $p) { cost } }", project, answers),
    "Query.myRoute": GraphQLProbe("{ myRoute { travelMeters } }", shows=answers),
    "Query.equipment": GraphQLProbe("query ($p: ID!) { equipment(projectId: $p) { id } }", project, lists("Equipment")),
    "Query.dispatchAnalytics": GraphQLProbe(
        "query ($p: ID!) { dispatchAnalytics(projectId: $p, period: DAY) { ticketCount } }", project, answers
    ),
    "Query.feeRules": GraphQLProbe("query ($p: ID!) { feeRules(projectId: $p) { id } }", project, lists("FeeRule")),
    "Query.discountRules": GraphQLProbe(
        "query ($p: ID!) { discountRules(projectId: $p) { id } }", project, lists("DiscountRule")
    ),
    "Query.waivers": GraphQLProbe("query ($p: ID!) { waivers(projectId: $p) { id } }", project, lists("Waiver")),
    "Query.billingPolicy": GraphQLProbe("query ($p: ID!) { billingPolicy(projectId: $p) { dueDays } }", project, answers),
    "Query.flaggedReadings": GraphQLProbe(
        "query ($p: ID!) { flaggedReadings(projectId: $p) { edges { node { id } } } }", project, lists("MeterReading")
    ),
    "Query.billRuns": GraphQLProbe("query ($p: ID!) { billRuns(projectId: $p) { id } }", project, lists("BillRun")),
    "Query.bills": GraphQLProbe(
        "query ($u: ID!) { bills(filter: {unitId: $u}, first: 100) { edges { node { id } } } }",
        lambda c: {"u": c.gid("Unit")},
        lists("Bill"),
    ),
    "Query.payments": GraphQLProbe(
        "query ($u: ID!) { payments(filter: {unitId: $u}, first: 100) { edges { node { id } } } }",
        lambda c: {"u": c.gid("Unit")},
        lists("Payment"),
    ),
    "Query.unitStatement": GraphQLProbe(
        "query ($u: ID!) { unitStatement(unitId: $u) { balance } }", lambda c: {"u": c.gid("Unit")}, answers
    ),
    "Query.ledgerCheck": GraphQLProbe("query ($p: ID!) { ledgerCheck(projectId: $p) { ok } }", project, answers),
    "Query.verifyReceipt": GraphQLProbe(
        "query ($content: String!, $signature: String!) "
        "{ verifyReceipt(content: $content, signature: $signature) { genuine receipt { id } } }",
        _verify,
        _shows_receipt,
    ),
    "Query.receiptPublicKey": GraphQLProbe("{ receiptPublicKey }", shows=answers),
    "Query.statementAccounts": GraphQLProbe("query ($p: ID!) { statementAccounts(projectId: $p) { id } }", project, nonempty),
    "Query.reconciliationExceptions": GraphQLProbe(
        "query ($p: ID!) { reconciliationExceptions(projectId: $p) { edges { node { id } } } }", project, nonempty
    ),
    "Query.reconciliationMatches": GraphQLProbe(
        "query ($p: ID!) { reconciliationMatches(projectId: $p) { edges { node { id } } } }", project, nonempty
    ),
    "Query.dailyCloses": GraphQLProbe("query ($p: ID!) { dailyCloses(projectId: $p) { day } }", project, nonempty),
    "Query.reconciliationRules": GraphQLProbe(
        "query ($p: ID!) { reconciliationRules(projectId: $p, includeDisabled: true) { id } }", project, lists("ReconciliationRule")
    ),
    "Query.collectionRate": GraphQLProbe(
        'query ($p: ID!) { collectionRate(projectId: $p, from: "2025-01", to: "2025-12") { asOf } }', project, answers
    ),
    "Query.arrearsAgeing": GraphQLProbe("query ($p: ID!) { arrearsAgeing(projectId: $p) { asOf } }", project, answers),
    "Query.incomeReport": GraphQLProbe(
        'query ($p: ID!) { incomeReport(projectId: $p, from: "2025-01-01", to: "2025-01-31") { totalReceived } }',
        project,
        answers,
    ),
    "Query.invoices": GraphQLProbe(
        "query ($u: ID!) { invoices(filter: {unitId: $u}, first: 100) { edges { node { id } } } }",
        lambda c: {"u": c.gid("Unit")},
        lists("Invoice"),
    ),
    "Query.invoiceTitles": GraphQLProbe("{ invoiceTitles { id } }", shows=lists("InvoiceTitle")),
    "Query.invoiceBatches": GraphQLProbe("query ($p: ID!) { invoiceBatches(projectId: $p) { id } }", project, lists("InvoiceBatch")),
    "Query.invoicingConfiguration": GraphQLProbe(
        "query ($p: ID!) { invoicingConfiguration(projectId: $p) { sellers { name } } }", project, answers
    ),
    **{
        f"Query.node({type_name})": node(type_name)
        for type_name in (
            "Project", "Building", "Unit", "Party", "Occupancy", "Technician", "Ticket", "Equipment", "FeeRule",
            "DiscountRule", "Waiver", "MeterReading", "BillRun", "Bill", "Payment", "Receipt", "Adjustment",
            "PaymentIntent", "Notification", "Announcement",
            "PaymentIntent", "Invoice", "InvoiceTitle", "InvoiceBatch",
        )
    },
    "Query.announcements": GraphQLProbe(
        "query ($p: ID!) { announcements(projectId: $p, first: 100) { edges { node { id } } } }", project, lists("Announcement")
    ),
    "Query.myAnnouncements": GraphQLProbe(
        "{ myAnnouncements(first: 100) { edges { node { id } } } }", shows=lists("Announcement")
    ),
    "Subscription.announcementCounters": SubscriptionProbe(
        "subscription ($a: ID!) { announcementCounters(announcementId: $a) { recipients read } }",
        lambda c: {"a": c.gid("Announcement")},
    ),
    "Mutation.createAnnouncement": mutation(
        "createAnnouncement", "$input: CreateAnnouncementInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "title": "电梯维保", "body": "周三上午电梯维保。", "audience": {}}},
        "announcement",
    ),
    "Mutation.updateAnnouncement": mutation(
        "updateAnnouncement", "$input: UpdateAnnouncementInput!",
        lambda c: {"input": {"id": _draft(c), "title": "电梯维保（改）"}},
        "announcement",
    ),
    "Mutation.publishAnnouncement": mutation(
        "publishAnnouncement", "$id: ID!",
        lambda c: _fresh_announcement(c, published=False), "announcement", "announcement_recipient", "message",
    ),
    "Mutation.recallAnnouncement": mutation(
        "recallAnnouncement", "$id: ID!", lambda c: _fresh_announcement(c, published=True), "announcement", "message",
    ),
    "Mutation.markAnnouncementRead": mutation(
        "markAnnouncementRead", "$id: ID!", lambda c: {"id": c.gid("Announcement")},
        "announcement", "announcement_recipient", "message",
    ),
    "Query.myNotifications": GraphQLProbe(
        "{ myNotifications(first: 100) { edges { node { id } } } }", shows=lists("Notification")
    ),
    "Query.myNotificationPreferences": GraphQLProbe("{ myNotificationPreferences { channels } }", shows=answers),
    "Query.notificationTemplates": GraphQLProbe(
        "query ($p: ID!) { notificationTemplates(projectId: $p) { body } }", project, nonempty
    ),
    "Query.previewNotificationTemplate": GraphQLProbe(
        "query ($p: ID!) { previewNotificationTemplate(projectId: $p, kind: ANNOUNCEMENT, channel: IN_APP, locale: ZH_CN)"
        " { ... on TemplatePreview { body } } }",
        project,
        lambda cell, value: bool(value and value.get("body")),
    ),
    "Subscription.myNotifications": SubscriptionProbe(
        "subscription { myNotifications(afterSeq: 0) { seq title } }", lambda c: {}
    ),
    "Mutation.markNotificationRead": mutation(
        "markNotificationRead", "$id: ID!", lambda c: {"id": c.gid("Notification")}, "message",
    ),
    "Mutation.updateMyNotificationPreferences": mutation(
        "updateMyNotificationPreferences", "$input: UpdateNotificationPreferencesInput!",
        lambda c: {"input": {"quietHoursStart": "22:30", "quietHoursEnd": "07:30"}}, "notification_preference",
    ),
    "Mutation.recordWechatConsent": mutation(
        "recordWechatConsent", "$input: RecordWechatConsentInput!",
        lambda c: {"input": {"openId": "o-owner-0001", "kinds": ["BILL_REMINDER"]}}, "wechat_consent",
    ),
    "Mutation.saveNotificationTemplate": mutation(
        "saveNotificationTemplate", "$input: NotificationTemplateInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "kind": "BILL_REMINDER", "channel": "SMS", "locale": "ZH_CN",
                             "body": "{{ amount_due | yuan }}"}},
        "notification_template",
    ),
    "Subscription.ticketUpdates": SubscriptionProbe(
        "subscription ($t: ID!) { ticketUpdates(ticketId: $t, afterSeq: 0) { seq type ticketId } }",
        lambda c: {"t": c.gid("Ticket")},
    ),
    "Subscription.dispatchBoard": SubscriptionProbe(
        "subscription ($p: ID!) { dispatchBoard(projectId: $p, afterSeq: 0) { seq type ticketId } }", project
    ),
    "Subscription.myAssignments": SubscriptionProbe(
        "subscription { myAssignments(afterSeq: 0) { seq type ticketId } }", lambda c: {}
    ),
    "GET /receipts/{receipt_id}.pdf": RouteProbe(lambda c: f"/receipts/{c.pk('Receipt')}.pdf"),
    "GET /reconciliation/accounts/{account_id}/closes.xlsx": RouteProbe(
        lambda c: f"/reconciliation/accounts/{c.pk('StatementAccount')}/closes.xlsx?from=2026-10-01&to=2026-10-31"
    ),
    "GET /reports/{project_id}/{report}.xlsx": RouteProbe(lambda c: f"/reports/{c.pk('Project')}/ageing.xlsx"),
    "GET /reports/{project_id}/charts/{chart}.svg": RouteProbe(lambda c: f"/reports/{c.pk('Project')}/charts/ageing.svg"),
    "GET /invoices/{invoice_id}.pdf": RouteProbe(lambda c: f"/invoices/{c.pk('Invoice')}.pdf"),
    "GET /invoices/{invoice_id}.xml": RouteProbe(lambda c: f"/invoices/{c.pk('Invoice')}.xml"),
    "GET /invoices/download/{key}.pdf": InvoiceLinkProbe(lambda c: "pdf"),
    "GET /invoices/download/{key}.xml": InvoiceLinkProbe(lambda c: "xml"),
    "GET /attachments/{attachment_id:int}": RouteProbe(lambda c: f"/attachments/{c.pk('Attachment')}"),
    "GET /track/{ticket}": RouteProbe(lambda c: f"/track/{c.gid('Ticket')}", TRACK_HTML.encode("utf-8")),
    "Mutation.login": GraphQLProbe(
        "mutation ($email: String!, $password: String!) "
        "{ login(email: $email, password: $password) { __typename ... on Error { code message } } }",
        _login,
    ),
    "Mutation.logout": GraphQLProbe("mutation { logout { __typename } }"),
    "Mutation.changePassword": mutation(
        "changePassword", "$currentPassword: String!, $newPassword: String!",
        lambda c: {"currentPassword": PASSWORD, "newPassword": PASSWORD}, "app_user",
    ),
    "Mutation.issuePasswordReset": mutation("issuePasswordReset", "$email: String!", _reset_target, "app_user"),
    "Mutation.resetPassword": mutation(
        "resetPassword", "$email: String!, $code: String!, $newPassword: String!", _reset, "app_user",
    ),
    "Mutation.createProject": mutation(
        "createProject", "$input: CreateProjectInput!", lambda c: {"input": {"name": f"新项目 {c.serial()}"}},
        "project", "role_grant",
    ),
    "Mutation.updateProject": mutation(
        "updateProject", "$input: UpdateProjectInput!",
        lambda c: {"input": {"id": c.gid("Project"), "timezone": "Asia/Shanghai"}}, "project",
    ),
    "Mutation.createBuilding": mutation(
        "createBuilding", "$input: CreateBuildingInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "name": f"C{c.serial()}"}}, "building",
    ),
    "Mutation.updateBuilding": mutation(
        "updateBuilding", "$input: UpdateBuildingInput!",
        lambda c: {"input": {"id": c.gid("Building"), "name": c.pick("A1", "A2", "B1")}}, "building",
    ),
    "Mutation.createUnit": mutation(
        "createUnit", "$input: CreateUnitInput!",
        lambda c: {"input": {"buildingId": c.gid("Building"), "number": f"X{c.serial()}", "floor": 9, "floorArea": "9.5", "kind": "STORAGE"}},
        "unit",
    ),
    "Mutation.updateUnit": mutation(
        "updateUnit", "$input: UpdateUnitInput!",
        lambda c: {"input": {"id": c.gid("Unit"), "occupancyStatus": "SELF_OCCUPIED"}}, "unit",
    ),
    "Mutation.createParty": mutation(
        "createParty", "$input: CreatePartyInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "name": "孙丽"}}, "party",
    ),
    "Mutation.updateParty": mutation(
        "updateParty", "$input: UpdatePartyInput!",
        lambda c: {"input": {"id": c.gid("Party"), "email": c.pick("alice", "bob", "carol") + "@mail.example"}}, "party",
    ),
    "Mutation.createOccupancy": mutation(
        "createOccupancy", "$input: CreateOccupancyInput!",
        lambda c: {
            "input": {
                "unitId": c.gid("Unit"), "partyId": c.aw.world.gid(c.pick("Party:spare_lakeside", "Party:spare_lakeside", "Party:spare_hillside")),
                "relation": "TENANT", "startDate": "2025-01-01", "endDate": "2025-06-30",
            }
        },
        "occupancy",
    ),
    "Mutation.updateOccupancy": mutation(
        "updateOccupancy", "$input: UpdateOccupancyInput!",
        lambda c: {"input": {"id": c.gid("Occupancy"), "endDate": "2099-12-31"}}, "occupancy",
    ),
    "Mutation.importUnits": mutation(
        "importUnits", "$projectId: ID!, $file: Upload!", lambda c: {"projectId": c.gid("Project"), "file": None},
        "building", "unit", "party", "occupancy", files=_units_file,
    ),
    "Mutation.createTechnician": mutation(
        "createTechnician", "$input: CreateTechnicianInput!",
        lambda c: {
            "input": {"projectId": c.gid("Project"), "name": "郑师傅", "skills": ["HVAC"], "homeLatitude": 30.27,
                      "homeLongitude": 120.15, "onShift": False}
        },
        "technician",
    ),
    "Mutation.updateTechnician": mutation(
        "updateTechnician", "$input: UpdateTechnicianInput!",
        lambda c: {"input": {"id": c.gid("Technician"), "onShift": True}}, "technician",
    ),
    "Mutation.submitTicket": mutation(
        "submitTicket", "$input: SubmitTicketInput!",
        lambda c: {"input": {"unitId": c.gid("Unit"), "description": "门锁坏了", "category": "LOCKSMITH"}},
        "ticket", "ticket_event",
    ),
    "Mutation.transitionTicket": mutation(
        "transitionTicket", "$ticketId: ID!, $action: TicketAction!", _transition, "ticket", "ticket_event",
    ),
    "Mutation.assignTicket": mutation("assignTicket", "$ticketId: ID!, $technicianId: ID!", _assign, "ticket"),
    # Unpinning: a pin to the cell's technician would depend on their skills, which the cells do not choose.
    "Mutation.pinVisit": mutation("pinVisit", "$ticketId: ID!", _unpin),
    "Mutation.setTechnicianShift": mutation(
        "setTechnicianShift", "$input: SetTechnicianShiftInput!",
        lambda c: {"input": {"technicianId": c.gid("Technician"), "weekday": 3, "startsAt": "08:00:00", "endsAt": "17:00:00"}},
        "technician_shift",
    ),
    "Mutation.clearTechnicianShift": mutation(
        "clearTechnicianShift", "$technicianId: ID!, $weekday: Int", _stored_shift, "technician_shift",
    ),
    "Mutation.setTechnicianDayOff": mutation(
        "setTechnicianDayOff", "$input: SetTechnicianDayOffInput!",
        lambda c: {"input": {"technicianId": c.gid("Technician"), "onDate": _day_off(c).isoformat(), "reason": "LEAVE"}},
        "technician_day_off",
    ),
    "Mutation.clearTechnicianDayOff": mutation(
        "clearTechnicianDayOff", "$technicianId: ID!, $onDate: Date!", _stored_day_off, "technician_day_off",
    ),
    "Mutation.setOwnerAvailability": mutation(
        "setOwnerAvailability", "$ticketId: ID!, $availableFrom: DateTime, $availableUntil: DateTime", _availability,
        "owner_availability",
    ),
    "Mutation.categorizeTicket": mutation(
        "categorizeTicket", "$input: CategorizeTicketInput!", _categorize, "ticket", "classifier_correction",
    ),
    "Mutation.optimizeDispatch": mutation(
        "optimizeDispatch", "$projectId: ID!, $apply: Boolean!", lambda c: {"projectId": c.gid("Project"), "apply": True},
        "ticket",
    ),
    "Mutation.updateDispatchSettings": mutation(
        "updateDispatchSettings", "$input: UpdateDispatchSettingsInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "autoDispatch": False}}, "project",
    ),
    "Mutation.createEquipment": mutation(
        "createEquipment", "$input: CreateEquipmentInput!",
        lambda c: {
            "input": {"projectId": c.gid("Project"), "name": f"电梯 {c.serial()}", "kind": "LIFT", "installDate": "2025-01-01",
                      "maintenanceIntervalDays": 30}
        },
        "equipment",
    ),
    "Mutation.updateEquipment": mutation(
        "updateEquipment", "$input: UpdateEquipmentInput!",
        lambda c: {"input": {"id": c.gid("Equipment"), "location": "地下一层泵房"}}, "equipment",
    ),
    "Mutation.recordMaintenance": mutation(
        "recordMaintenance", "$input: RecordMaintenanceInput!",
        lambda c: {"input": {"equipmentId": c.gid("Equipment"), "performedOn": "2026-11-01", "notes": "例行保养"}},
        "equipment", "maintenance_record",
    ),
    "Mutation.createFeeRule": mutation(
        "createFeeRule", "$input: CreateFeeRuleInput!",
        lambda c: {
            "input": {"projectId": c.gid("Project"), "code": f"NEW{c.serial()}", "kind": "FIXED", "name": "垃圾清运费",
                      "effectiveFrom": "2027-01-01", "amountPerCycle": "5.00"}
        },
        "fee_rule", "fee_rule_version",
    ),
    "Mutation.reviseFeeRule": mutation("reviseFeeRule", "$input: ReviseFeeRuleInput!", _revise, "fee_rule_version"),
    "Mutation.retireFeeRule": mutation("retireFeeRule", "$ruleId: ID!, $effectiveTo: Date!", _retire, "fee_rule_version"),
    "Mutation.createDiscountRule": mutation(
        "createDiscountRule", "$input: CreateDiscountRuleInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "name": "老人优惠", "percent": "5", "ruleCodes": ["PROPERTY"]}},
        "discount_rule",
    ),
    "Mutation.createWaiver": mutation(
        "createWaiver", "$input: CreateWaiverInput!",
        lambda c: {"input": {"unitId": c.gid("Unit"), "ruleCode": "PROPERTY", "period": "2027-01", "amount": "1.00", "reason": "停水补偿"}},
        "waiver",
    ),
    "Mutation.setBillingPolicy": mutation(
        "setBillingPolicy", "$input: SetBillingPolicyInput!", lambda c: {"input": {"projectId": c.gid("Project")}},
        "billing_policy", "late_fee_policy_version",
    ),
    "Mutation.recordMeterReading": mutation(
        "recordMeterReading", "$input: RecordMeterReadingInput!",
        lambda c: {
            "input": {"unitId": c.gid("Unit"), "meterType": f"gas{c.serial()}", "reading": "5", "readAt": "2026-11-01T10:00:00+08:00"}
        },
        "meter_reading",
    ),
    "Mutation.importMeterReadings": mutation(
        "importMeterReadings", "$projectId: ID!, $file: Upload!", lambda c: {"projectId": c.gid("Project"), "file": None},
        "meter_reading", files=_readings_file,
    ),
    "Mutation.runBilling": mutation(
        "runBilling", "$projectId: ID!, $period: String!, $dryRun: Boolean!",
        lambda c: {"projectId": c.gid("Project"), "period": BILLING_PERIOD, "dryRun": False},
        "bill_run", "bill", "bill_line",
    ),
    "Mutation.createAdjustment": mutation(
        "createAdjustment", "$input: CreateAdjustmentInput!",
        lambda c: {"input": {"billId": c.gid("Bill"), "kind": "DEBIT", "amount": "1.00", "reason": "补收"}},
        "adjustment", "bill",
    ),
    "Mutation.recordPayment": mutation(
        "recordPayment", "$input: RecordPaymentInput!", lambda c: {"input": _payment(c)},
        "payment", "payment_allocation", "bill", "receipt",
    ),
    "Mutation.recordBatchPayment": mutation(
        "recordBatchPayment", "$input: RecordBatchPaymentInput!",
        lambda c: {
            "input": {"projectId": c.gid("Project"), "channel": "CASH", "payerName": "王丽", "idempotencyKey": f"batch-{c.serial()}",
                      "items": [{"unitId": c.gid("Unit"), "amount": "1.00"}]}
        },
        "payment_batch", "payment", "payment_allocation", "bill",
    ),
    "Mutation.refundPayment": mutation("refundPayment", "$input: RefundPaymentInput!", _refund, "payment_reversal"),
    "Mutation.reversePayment": mutation(
        "reversePayment", "$input: ReversePaymentInput!", _reverse, "payment_reversal", "payment_allocation", "bill",
    ),
    "Mutation.createPaymentIntent": mutation(
        "createPaymentIntent", "$billIds: [ID!]!, $channel: PaymentChannel!",
        lambda c: {"billIds": [c.gid("Bill")], "channel": "WECHAT"}, "payment_intent",
    ),
    "Mutation.createStatementAccount": mutation(
        "createStatementAccount", "$input: CreateStatementAccountInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "name": f"ACC{c.serial()}", "kind": "WECHAT"}},
        "statement_account",
    ),
    "Mutation.importStatement": mutation(
        "importStatement", "$accountId: ID!, $file: Upload!",
        lambda c: _import_statement(c), "statement_file", "statement_line", files=_statement_file,
    ),
    "Mutation.reconcile": mutation(
        "reconcile", "$projectId: ID!, $from: Date!, $to: Date!", _reconcile,
        "reconciliation_match", "reconciliation_exception", "journal_entry",
    ),
    "Mutation.resolveReconciliationException": mutation(
        "resolveReconciliationException", "$input: ResolveReconciliationExceptionInput!", _open_exception,
        "reconciliation_exception", "journal_entry", "journal_line",
    ),
    "Mutation.closeReconciliationDay": mutation(
        "closeReconciliationDay", "$projectId: ID!, $day: Date!", _close_day, "daily_close",
    ),
    "Mutation.createReconciliationRule": mutation(
        "createReconciliationRule", "$input: CreateReconciliationRuleInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "name": f"同名同额 {c.serial()}", "minNameSimilarity": 0.8}},
        "reconciliation_rule",
    ),
    "Mutation.updateReconciliationRule": mutation(
        "updateReconciliationRule", "$input: UpdateReconciliationRuleInput!",
        lambda c: {"input": {"ruleId": c.gid("ReconciliationRule"), "name": "房号转账", "pattern": r"(?P<unit>\d+-\d+)", "daysAfter": 7}},
        "reconciliation_rule",
    ),
    "Mutation.disableReconciliationRule": mutation(
        "disableReconciliationRule", "$ruleId: ID!", lambda c: {"ruleId": c.gid("ReconciliationRule")}, "reconciliation_rule",
    ),
    "Mutation.enableReconciliationRule": mutation(
        "enableReconciliationRule", "$ruleId: ID!", lambda c: {"ruleId": c.gid("ReconciliationRule")}, "reconciliation_rule",
    ),
    "Query.dunningPolicy": GraphQLProbe("query ($p: ID!) { dunningPolicy(projectId: $p) { levels { code } } }", project, answers),
    "Query.dunningDay": GraphQLProbe("query ($p: ID!) { dunningDay(projectId: $p) { today notices } }", project, answers),
    "Query.dunningWorkQueue": GraphQLProbe(
        "query ($p: ID!) { dunningWorkQueue(projectId: $p, first: 100) { edges { node { unit { id } } } } }", project, lists("Unit")
    ),
    "Mutation.setDunningPolicy": mutation(
        "setDunningPolicy", "$input: SetDunningPolicyInput!", lambda c: {"input": {"projectId": c.gid("Project"), "enabled": True}},
        "dunning_policy", "dunning_level",
    ),
    "Query.overdueRisks": GraphQLProbe(
        "query ($p: ID!) { overdueRisks(projectId: $p, first: 100) { edges { node { unit { id } } } } }", project, lists("Unit")
    ),
    "Query.riskScorecard": GraphQLProbe("query ($p: ID!) { riskScorecard(projectId: $p) { enabled } }", project, answers),
    "Mutation.trainRiskScorecard": mutation(
        "trainRiskScorecard", "$projectId: ID!", lambda c: {"projectId": c.gid("Project")}, "overdue_risk_model",
    ),
    "Mutation.runDunning": mutation(
        "runDunning", "$projectId: ID!, $dryRun: Boolean!", lambda c: {"projectId": c.gid("Project"), "dryRun": False},
        "dunning_run", "dunning_notice", "message",
    ),
    "Mutation.setBillDispute": mutation(
        "setBillDispute", "$input: SetBillDisputeInput!",
        lambda c: {"input": {"billId": c.gid("Bill"), "disputed": True, "reason": "面积有误"}}, "bill_dispute",
    ),
    "Mutation.setPaymentPlan": mutation(
        "setPaymentPlan", "$input: SetPaymentPlanInput!",
        lambda c: {"input": {"partyId": c.gid("Party"), "endsOn": "2027-06-30", "note": "分期缴纳"}}, "payment_plan",
    ),
    "Mutation.recordDunningCall": mutation(
        "recordDunningCall", "$input: RecordDunningCallInput!",
        lambda c: {"input": {"noticeId": c.gid("DunningNotice"), "note": "已电话联系"}}, "dunning_notice",
    ),
    "Mutation.setInvoicingProfile": mutation(
        "setInvoicingProfile", "$input: SetInvoicingProfileInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "autoIssue": False, "drawer": "张会计"}}, "invoicing_profile",
    ),
    "Mutation.setInvoiceSeller": mutation(
        "setInvoiceSeller", "$input: SetInvoiceSellerInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "name": "新物业有限公司", "taxCode": "91110000100005220B", "effectiveFrom": "2027-01-01"}},
        "invoice_seller_version",
    ),
    "Mutation.setTaxMapping": mutation(
        "setTaxMapping", "$input: SetTaxMappingInput!",
        lambda c: {
            "input": {"projectId": c.gid("Project"), "feeKind": "PROPERTY", "category": "物业管理服务", "itemName": "物业费",
                      "classificationCode": "3040802010000000000", "rate": "0.06", "treatment": "GENERAL", "effectiveFrom": "2027-01-01"}
        },
        "tax_mapping_version",
    ),
    "Mutation.createInvoiceTitle": mutation(
        "createInvoiceTitle", "$input: InvoiceTitleInput!", lambda c: {"input": {"kind": "PERSON", "name": f"抬头{c.serial()}"}},
        "invoice_title",
    ),
    "Mutation.updateInvoiceTitle": mutation(
        "updateInvoiceTitle", "$input: UpdateInvoiceTitleInput!",
        lambda c: {"input": {"id": c.gid("InvoiceTitle"), "kind": "PERSON", "name": c.pick("alice", "bob", "carol"), "isDefault": True}},
        "invoice_title",
    ),
    "Mutation.deleteInvoiceTitle": mutation("deleteInvoiceTitle", "$id: ID!", _delete_title, "invoice_title"),
    "Mutation.requestInvoice": mutation(
        "requestInvoice", "$input: RequestInvoiceInput!", lambda c: {"input": {"paymentIds": [c.gid("Payment")]}},
        "invoice", "invoice_line", "invoiced_payment",
    ),
    "Mutation.issueInvoiceBatch": mutation(
        "issueInvoiceBatch", "$input: IssueInvoiceBatchInput!",
        lambda c: {"input": {"projectId": c.gid("Project"), "period": "2026-11"}}, "invoice_batch", "invoice", "invoiced_payment",
    ),
}


# --- writes ----------------------------------------------------------------------------------------

_TABLES = Base.metadata.tables


@functools.cache
def _count_every_table(dialect: Dialect) -> str:
    """One statement counting the rows of every table, as SQL text for `dialect`: built and compiled once,
    since building and caching a union of every table for each refused mutation cost most of the table's
    CPU time."""
    counts = union_all(
        *(select(literal(name).label("name"), func.count().label("rows")).select_from(table) for name, table in _TABLES.items())
    )
    return str(counts.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def _snapshot(aw: AuthorizationWorld, tables: tuple[str, ...]) -> dict[str, Any]:
    """How many rows every table has, and every row of `tables`."""
    async with aw.state.engine.connect() as connection:
        counts = await connection.exec_driver_sql(_count_every_table(connection.dialect))
        snapshot: dict[str, Any] = {f"{name} rows": rows for name, rows in counts.all()}
        for name in tables:
            table = _TABLES[name]
            snapshot[f"{name} content"] = (await connection.execute(select(table).order_by(*table.primary_key.columns))).all()
    return snapshot


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(key for key in before if before[key] != after[key])


# --- the world, once per database ------------------------------------------------------------------
# This module runs the table on SQLite; test_authorization_table_postgresql.py runs the same tests on
# PostgreSQL. Two files, because `make test` hands each test process whole files: as one file, one
# process ran the whole table (both halves) while the other ran out of work.


def world_on(database: str) -> Any:
    """The module-scoped `table` fixture: the world on `database`, built once for the module's cells."""

    @pytest.fixture(scope="module", name="table", params=[database])
    async def table(
        tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, postgres_server: PostgresServer
    ) -> AsyncIterator[AuthorizationWorld]:
        directory = tmp_path_factory.mktemp("authorization")
        async with serve_authorization_world(database, directory, sqlite_template, postgres_server) as world:
            yield world

    return table


table = world_on("sqlite")


# --- the tests -------------------------------------------------------------------------------------


def test_every_operation_has_a_row_and_every_row_an_operation() -> None:
    offered = operations()
    assert sorted(offered - set(EXPECTED)) == [], "operations without a row in EXPECTED: give each its policy"
    assert sorted(set(EXPECTED) - offered) == [], "rows for operations that no longer exist"
    assert set(PROBES) == set(EXPECTED)
    for name, row in EXPECTED.items():
        assert len(row) == len(ROLES) and all(len(c) == len(OWNERSHIPS) and set(c) <= set(OUTCOMES) for c in row), name


def _order(name: str) -> tuple[int, str]:
    # Reads first, then the writes, so that no write can change what a read is asked about.
    kinds = ("Query.", "Subscription.", "GET ", "Mutation.")
    return next((i for i, kind in enumerate(kinds) if name.startswith(kind)), len(kinds)), name


CELLS: Final = [
    pytest.param(name, role, ownership, id=f"{name}-{role}-{ownership}")
    for name in sorted(operations() | set(EXPECTED), key=_order)
    for role in ROLES
    for ownership in OWNERSHIPS
]


def _field(operation: str) -> str:
    return operation.split(".", 1)[-1].split("(")[0]


@pytest.mark.parametrize(("operation", "role", "ownership"), CELLS)
async def test_a_caller_gets_what_the_table_says(table: AuthorizationWorld, operation: str, role: str, ownership: str) -> None:
    assert operation in EXPECTED, f"{operation} has no row in EXPECTED"
    assert operation in operations(), f"{operation} is in EXPECTED but no longer offered"
    expected = EXPECTED[operation][ROLES.index(role)][OWNERSHIPS.index(ownership)]
    probe = PROBES[operation]
    cell = Cell(table, role, ownership)
    writes = probe.writes if isinstance(probe, GraphQLProbe) and probe.is_mutation and expected != "A" else None
    table.begin_cell()
    variables = await probe.prepare(cell)
    before = await _snapshot(table, writes) if writes is not None else None

    letter, happened = await probe.observe(cell, _field(operation), variables)

    assert letter == expected, f"{operation} as {role} on {ownership}: expected {OUTCOMES[expected]}, got {happened}"
    if before is not None and writes is not None:
        changed = _changed(before, await _snapshot(table, writes))
        assert changed == [], f"{operation} as {role} on {ownership} was refused but changed {', '.join(changed)}"
        table.give_back()


# Hillside's own people, for the roles it has: they reach the foreign targets as the Lakeside callers
# reach their own, which shows that a foreign NOT_FOUND is the policy and not a target that is not there.
HILLSIDE: Final = {"ADMIN": "admin_b", "TECHNICIAN": "tech_b", "OWNER": "carol"}
MIRRORED: Final = [
    pytest.param(name, role, id=f"{name}-{role}")
    for name in sorted(EXPECTED, key=_order)
    for role in HILLSIDE
    if EXPECTED[name][ROLES.index(role)][OWNERSHIPS.index("own")] == "A"
]


@pytest.mark.parametrize(("operation", "role"), MIRRORED)
async def test_foreign_targets_are_reachable_from_their_own_project(
    table: AuthorizationWorld, operation: str, role: str
) -> None:
    probe = PROBES[operation]
    cell = Cell(table, role, "foreign", caller=HILLSIDE[role])

    letter, happened = await probe.observe(cell, _field(operation), await probe.prepare(cell))

    assert letter == "A", f"{operation} as Hillside's {role} on its own object: {happened}"



# --- field level: what of a technician each viewer of a ticket sees -----------------------------------
# An owner sees of a technician only the name, a masked phone and an expected arrival (DESIGN §6): not
# where they live nor where they are, on any path that leads from the owner's ticket to a technician.
# Staff see the whole technician; a technician sees himself (his colleagues' records are left open).

TECHNICIAN_FIELDS = "name phone home { latitude longitude } currentLocation { latitude longitude }"
TECHNICIAN_PATHS: Final = {
    "node(Ticket).assignee": f"query ($t: ID!) {{ node(id: $t) {{ ... on Ticket {{ assignee {{ {TECHNICIAN_FIELDS} }} }} }} }}",
    "node(Ticket).events.technician": (
        f"query ($t: ID!) {{ node(id: $t) {{ ... on Ticket {{ events {{ technician {{ {TECHNICIAN_FIELDS} }} }} }} }} }}"
    ),
    "tickets.assignee": (
        f"{{ tickets(filter: {{status: [ACCEPTED]}}, first: 100) {{ edges {{ node {{ id assignee {{ {TECHNICIAN_FIELDS} }} }} }} }} }}"
    ),
    "ticketUpdates.ticket.assignee": (
        f"subscription ($t: ID!) {{ ticketUpdates(ticketId: $t, afterSeq: 0) {{ ticket {{ assignee {{ {TECHNICIAN_FIELDS} }} }} }} }}"
    ),
}
#                                         ADMIN    FINANCE  DISPATCHER TECHNICIAN OWNER
TECHNICIAN_VIEWS: Final[dict[str, tuple[str | None, ...]]] = {
    "node(Ticket).assignee":             ("whole", "whole", "whole", "whole", "limited"),
    "node(Ticket).events.technician":    ("whole", "whole", "whole", None, "limited"),
    "tickets.assignee":                  ("whole", "whole", "whole", "whole", "limited"),
    "ticketUpdates.ticket.assignee":     ("whole", "whole", "whole", None, "limited"),
}
TECHNICIAN_VIEW_CELLS: Final = [
    pytest.param(path, role, id=f"{path}-{role}")
    for path, views in TECHNICIAN_VIEWS.items()
    for role, view in zip(ROLES, views, strict=False)
    if view is not None
]


def _technicians(value: Any) -> Iterator[dict[str, Any]]:
    """Every technician object in an answer: those are the dicts that carry a `home` key."""
    if isinstance(value, dict):
        if "home" in value:
            yield value
        for item in value.values():
            yield from _technicians(item)
    elif isinstance(value, list):
        for item in value:
            yield from _technicians(item)


async def _answer(table: AuthorizationWorld, path: str, token: str | None) -> dict[str, Any]:
    document, ticket = TECHNICIAN_PATHS[path], table.gid("Ticket", "own")
    if path.startswith("ticketUpdates"):
        async with live_socket(table.app, token) as socket:
            await socket.subscribe(document, {"t": ticket})
            message = await socket.message()
        return message["payload"]  # type: ignore[no-any-return]
    headers = {"Authorization": f"Bearer {token}"}
    response = await table.client.post("/graphql", json={"query": document, "variables": {"t": ticket}}, headers=headers)
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("path", "role"), TECHNICIAN_VIEW_CELLS)
async def test_what_of_a_technician_the_viewer_of_a_ticket_sees(table: AuthorizationWorld, path: str, role: str) -> None:
    # given the own ticket: alice's, reported in her unit, first given to 周师傅, now accepted by tech_a
    view = TECHNICIAN_VIEWS[path][ROLES.index(role)]
    # when
    answer = await _answer(table, path, table.token(CALLERS[role]))
    # then
    assert "errors" not in answer, answer
    technicians = list(_technicians(answer["data"]))
    assert technicians, answer
    if view == "whole":
        assert all(t["home"] is not None and t["currentLocation"] is not None for t in technicians), technicians
        return
    for technician in technicians:
        assert technician["name"], technician
        assert (technician["home"], technician["currentLocation"]) == (None, None), f"{path} shows {role} {technician}"
        assert technician["phone"] is None or "*" in technician["phone"], f"{path} shows {role} {technician}"
