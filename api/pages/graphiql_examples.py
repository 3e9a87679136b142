"""The example operations GraphiQL opens with: a login tab, then real operations for each role.

Each becomes one GraphiQL tab (`defaultTabs`), named by its operation. They run against the demo
community (`courtyard serve --demo`): its project is `UHJvamVjdDox`; other IDs come from an earlier
tab's answer, as the comments say. `tests/unit/test_graphiql_examples.py` validates every operation and
its variables against the schema, so an example never drifts from the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EXAMPLE_TABS", "ExampleTab", "default_tabs_json"]

DEMO_PROJECT_ID = "UHJvamVjdDox"


@dataclass(frozen=True)
class ExampleTab:
    role: str
    """Who the example is for: LOGIN, OWNER, FINANCE, DISPATCHER, TECHNICIAN or ADMIN."""
    query: str
    variables: dict[str, Any] = field(default_factory=dict)


LOGIN = ExampleTab(
    "LOGIN",
    """# Courtyard GraphQL explorer
#
# Most fields need a signed-in user. Run Login below with the account of the role you want to try
# (demo accounts exist after `courtyard serve --demo`; every demo password is courtyard-demo):
#   owner1@demo.courtyard · finance@demo.courtyard · dispatcher@demo.courtyard
#   tech1@demo.courtyard · admin@demo.courtyard
# This page then sends the token with every request from every tab, subscriptions too, until you log in
# again or reload. (You may also set { "Authorization": "Bearer <token>" } in a tab's Headers yourself.)
# The other tabs are examples for each role, named after it.

mutation Login {
  login(email: "admin@demo.courtyard", password: "courtyard-demo") {
    ... on AuthPayload {
      token
      viewer { displayName roles { role project { id name } } }
    }
    ... on Error {
      code
      message
    }
  }
}
""",
)

OWNER_TABS = (
    ExampleTab(
        "OWNER",
        """# Owner (log in as owner1@demo.courtyard): my units and my unpaid bills with today's late fee.
# Money is a decimal string in yuan; dates are in the project's time zone.
query OwnerMyBills {
  viewer { displayName units { id number building { name } } }
  bills(filter: { status: OPEN }, first: 12) {
    totalCount
    edges {
      node {
        id period dueDate status isOverdue
        totalAmount amountDue
        lateFee
        lateFeeExplanation
        lines { kind description amount explanation }
      }
    }
  }
}
""",
    ),
    ExampleTab(
        "OWNER",
        """# Owner: pay bills online. Put bill IDs from OwnerMyBills in the variables; the answer carries what
# the WeChat Pay / Alipay SDK needs (payload) and when the order expires.
mutation OwnerPayOnline($billIds: [ID!]!) {
  createPaymentIntent(billIds: $billIds, channel: WECHAT) {
    __typename
    ... on PaymentIntent { id outTradeNo amount amountFen status expiresAt payload }
    ... on Error { code message field }
  }
}
""",
        {"billIds": ["QmlsbDox"]},
    ),
    ExampleTab(
        "OWNER",
        """# Owner: report a fault in my flat (unit ID from OwnerMyBills). Leave category and priority out:
# the classifier fills them in. Photos go as a multipart upload, which GraphiQL cannot send.
mutation OwnerSubmitTicket($unitId: ID!) {
  submitTicket(input: { unitId: $unitId, description: "厨房水龙头一直滴水" }) {
    __typename
    ... on Ticket { id status category priority respondDueAt assignee { name phone } }
    ... on Error { code message field }
  }
}
""",
        {"unitId": "VW5pdDox"},
    ),
    ExampleTab(
        "OWNER",
        """# Owner: follow my ticket live over the websocket (ticket ID from OwnerSubmitTicket). afterSeq 0
# replays its whole history first; press stop to end it.
subscription OwnerFollowTicket($ticketId: ID!) {
  ticketUpdates(ticketId: $ticketId, afterSeq: 0) {
    seq type at actorRole actorName
    payload {
      __typename
      ... on StatusChangePayload { fromStatus toStatus note technician { name phone } }
      ... on ClosedPayload { rating comment }
    }
    ticket { status allowedActions onSiteDueAt }
  }
}
""",
        {"ticketId": "VGlja2V0OjE="},
    ),
)

FINANCE_TABS = (
    ExampleTab(
        "FINANCE",
        """# Finance (log in as finance@demo.courtyard): what a bill run for a period would charge; dryRun
# writes nothing. Run it again with dryRun: false to issue the bills.
mutation FinanceBillRunDryRun($projectId: ID!, $period: String!) {
  runBilling(projectId: $projectId, period: $period, dryRun: true) {
    __typename
    ... on BillRunPreview {
      period billCount totalAmount unitsWithoutCharges
      sample { unit { number } totalAmount lines { description amount explanation } }
    }
    ... on BillRun { id period billCount totalAmount }
    ... on Error { code message field }
  }
}
""",
        {"projectId": DEMO_PROJECT_ID, "period": "2026-12"},
    ),
    ExampleTab(
        "FINANCE",
        """# Finance: record a payment taken at the desk. The idempotency key makes a retry safe: the same key
# with the same input answers the same payment, with another input CONFLICT.
mutation FinanceRecordPayment($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    __typename
    ... on Payment { id amount channel paidAt receipt { number } allocations { bill { period } amount } }
    ... on Error { code message field }
  }
}
""",
        {
            "input": {
                "unitId": "VW5pdDox",
                "amount": "100.00",
                "channel": "CASH",
                "payerName": "王芳",
                "idempotencyKey": "desk-2026-12-01-0001",
            }
        },
    ),
    ExampleTab(
        "FINANCE",
        """# Finance: prove the books of a project: debits equal credits, every bill's paid amount equals its
# allocations, every payment is fully allocated or credit.
query FinanceLedgerCheck($projectId: ID!) {
  ledgerCheck(projectId: $projectId) { ok totalDebit totalCredit entries billsChecked paymentsChecked problems }
}
""",
        {"projectId": DEMO_PROJECT_ID},
    ),
    ExampleTab(
        "FINANCE",
        """# Finance: dunning (催缴). The policy's levels, then the accounts to chase, long-overdue and large
# amounts first, each with the reminders it was sent and what became of them (SENT, CANCELLED, ...).
query FinanceDunning($projectId: ID!) {
  dunningPolicy(projectId: $projectId) {
    isDefault repairBlockThreshold
    levels { code daysFromDue minAmount kind channels escalation }
  }
  dunningWorkQueue(projectId: $projectId, first: 10) {
    totalCount
    edges {
      node {
        amountOverdue daysOverdue score openFollowUp
        unit { number building { name } } owner { name }
        history { level kind decidedAt amountDue lateFee messageStatus channel followUpStatus followUpNote }
      }
    }
  }
}
""",
        {"projectId": DEMO_PROJECT_ID},
    ),
    ExampleTab(
        "FINANCE",
        """# Finance: the morning reports (the /finance page draws them): collection rate per period, arrears by
# age with the top debtors, money received by channel. asOf reads the books as they stood that day.
query FinanceMorningReports($projectId: ID!, $from: String!, $to: String!, $firstDay: Date!, $lastDay: Date!) {
  collectionRate(projectId: $projectId, from: $from, to: $to) {
    definition exportUrl
    totals { period receivable collected currentRate arrearsAtStart arrearsRecovered recoveryRate }
  }
  arrearsAgeing(projectId: $projectId, top: 5) {
    total { days0To30 days31To90 days91To180 days181To365 over365 total }
    topDebtors { buildingName number debtor arrears { total } }
  }
  incomeReport(projectId: $projectId, from: $firstDay, to: $lastDay, granularity: MONTH) {
    receivedByChannel { name amount } totalReceived totalRevenue
  }
}
""",
        {"projectId": DEMO_PROJECT_ID, "from": "2026-09", "to": "2026-11", "firstDay": "2026-09-01", "lastDay": "2026-11-30"},
    ),
)

DISPATCHER_TABS = (
    ExampleTab(
        "DISPATCHER",
        """# Dispatcher (log in as dispatcher@demo.courtyard): the open tickets of the board and who could take them.
query DispatcherBoard($projectId: ID!) {
  tickets(filter: { projectId: $projectId, status: [TRIAGE, NEW, REOPENED, ASSIGNED, ACCEPTED] }, first: 50) {
    totalCount
    edges {
      node {
        id status category priority slaState respondDueAt version
        unit { number building { name } }
        assignee { id name }
      }
    }
  }
  technicians(projectId: $projectId) { id name skills onShift capacity currentLoad }
}
""",
        {"projectId": DEMO_PROJECT_ID},
    ),
    ExampleTab(
        "DISPATCHER",
        """# Dispatcher: give a ticket to a technician (IDs from DispatcherBoard). expectedVersion refuses the
# assignment with CONFLICT if someone changed the ticket since you read it.
mutation DispatcherAssign($ticketId: ID!, $technicianId: ID!, $expectedVersion: Int) {
  assignTicket(ticketId: $ticketId, technicianId: $technicianId, expectedVersion: $expectedVersion) {
    __typename
    ... on Ticket { id status version assignee { name } }
    ... on Error { code message field }
  }
}
""",
        {"ticketId": "VGlja2V0OjE=", "technicianId": "VGVjaG5pY2lhbjox", "expectedVersion": None},
    ),
    ExampleTab(
        "DISPATCHER",
        """# Dispatcher: every ticket event of the project, live, as the board page sees them.
subscription DispatcherBoardLive($projectId: ID!) {
  dispatchBoard(projectId: $projectId) {
    seq type at actorRole
    payload {
      __typename
      ... on AssignedPayload { mode technician { name } previousTechnician { name } cost { distanceMeters total } }
      ... on SlaAlertPayload { target dueAt }
    }
    ticket { id status slaState assignee { name } }
  }
}
""",
        {"projectId": DEMO_PROJECT_ID},
    ),
)

TECHNICIAN_TABS = (
    ExampleTab(
        "TECHNICIAN",
        """# Technician (log in as tech1@demo.courtyard): new work, work taken away, owners confirming or
# reopening, live. afterSeq replays what you missed since that seq.
subscription TechnicianMyAssignments($afterSeq: Int) {
  myAssignments(afterSeq: $afterSeq) {
    seq type at
    payload { __typename ... on StatusChangePayload { fromStatus toStatus note } }
    ticket { id status description respondDueAt unit { number building { name } } allowedActions version }
  }
}
""",
        {"afterSeq": None},
    ),
    ExampleTab(
        "TECHNICIAN",
        """# Technician: move your ticket on: ACCEPT, CHECK_IN (with details.location), START, RESOLVE (with a
# note) ... The ticket's allowedActions says what you may do now.
mutation TechnicianTransition($ticketId: ID!, $action: TicketAction!, $expectedVersion: Int, $note: String) {
  transitionTicket(ticketId: $ticketId, action: $action, expectedVersion: $expectedVersion, note: $note) {
    __typename
    ... on Ticket { id status version allowedActions }
    ... on Error { code message field }
  }
}
""",
        {"ticketId": "VGlja2V0OjE=", "action": "ACCEPT", "expectedVersion": None, "note": None},
    ),
)

ADMIN_TABS = (
    ExampleTab(
        "ADMIN",
        """# Admin (log in as admin@demo.courtyard): import a unit register (CSV or XLSX). The file goes as a
# GraphQL multipart upload, which GraphiQL cannot send: use curl as the README shows. All rows or none.
mutation AdminImportUnits($projectId: ID!, $file: Upload!) {
  importUnits(projectId: $projectId, file: $file) {
    __typename
    ... on ImportUnitsPayload { buildingsCreated unitsCreated partiesCreated occupanciesCreated }
    ... on ImportRejectedError { message rowErrors { row field reason } }
    ... on Error { code message field }
  }
}
""",
        {"projectId": DEMO_PROJECT_ID, "file": None},
    ),
    ExampleTab(
        "ADMIN",
        """# Admin: issue a one-time password reset code for a user of your project (valid 24 hours); hand it to
# them, and they choose a new password with resetPassword.
mutation AdminIssuePasswordReset($email: String!) {
  issuePasswordReset(email: $email) {
    __typename
    ... on PasswordResetPayload { email resetCode expiresAt }
    ... on Error { code message }
  }
}
""",
        {"email": "owner1@demo.courtyard"},
    ),
)

EXAMPLE_TABS: tuple[ExampleTab, ...] = (
    LOGIN,
    *OWNER_TABS,
    *FINANCE_TABS,
    *DISPATCHER_TABS,
    *TECHNICIAN_TABS,
    *ADMIN_TABS,
)


def default_tabs_json() -> str:
    """GraphiQL's `defaultTabs`, as JSON safe to put inside a <script> block."""
    tabs = [
        {"query": tab.query, **({"variables": json.dumps(tab.variables, indent=2, ensure_ascii=False)} if tab.variables else {})}
        for tab in EXAMPLE_TABS
    ]
    return json.dumps(tabs, ensure_ascii=False).replace("</", "<\\/")
