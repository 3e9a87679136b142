"""Queries of billing, composed from each family's: thin calls into the billing read use cases."""

from __future__ import annotations

import strawberry

from schema.billing.bill_queries import BillQueries
from schema.billing.dunning_queries import DunningQueries
from schema.billing.ledger_queries import LedgerQueries
from schema.billing.payment_queries import PaymentQueries
from schema.billing.reconciliation_queries import ReconciliationQueries
from schema.billing.report_queries import ReportQueries
from schema.billing.reading_queries import ReadingQueries
from schema.billing.risk_queries import RiskQueries
from schema.billing.rule_queries import RuleQueries
from schema.billing.run_queries import RunQueries

__all__ = ["BillingQueries"]


@strawberry.type
class BillingQueries(
    DunningQueries, RiskQueries, ReportQueries, ReconciliationQueries, RuleQueries, ReadingQueries, RunQueries, BillQueries, PaymentQueries, LedgerQueries
):
    pass
