"""Mutations of billing, composed from each family's: thin calls into the billing use cases, each of which
owns its transaction."""

from __future__ import annotations

import strawberry

from schema.billing.bill_mutations import BillMutations
from schema.billing.dunning_mutations import DunningMutations
from schema.billing.payment_mutations import PaymentMutations
from schema.billing.reconciliation_mutations import ReconciliationMutations
from schema.billing.reading_mutations import ReadingMutations
from schema.billing.risk_queries import RiskMutations
from schema.billing.rule_mutations import RuleMutations
from schema.billing.run_mutations import RunMutations

__all__ = ["BillingMutations"]


@strawberry.type
class BillingMutations(DunningMutations, RiskMutations, ReconciliationMutations, RuleMutations, ReadingMutations, RunMutations, BillMutations, PaymentMutations):
    pass
