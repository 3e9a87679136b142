"""GraphQL types of bill runs and their summaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import relay

from billing.queries import get_run_summary
from db.models import BillRun
from schema.billing.common import nodes_of_managed_charges
from schema.context import Info
from schema.units.types import ProjectType

__all__ = ["BillRunSummaryType", "BillRunType"]


@strawberry.type(name="BillRun")
class BillRunType(relay.Node):
    id: relay.NodeID[int]
    period: str
    period_start: dt.date
    period_end: dt.date
    bill_count: int
    total_amount: Decimal
    times_run: int
    last_run_bill_count: int = strawberry.field(description="Bills the latest invocation created (0 when it found nothing new).")
    created_at: dt.datetime
    last_run_at: dt.datetime | None
    advance_reason: str | None = strawberry.field(
        description="Why a period after the next one was billed ahead of time (the latest reason given)."
    )
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: BillRun) -> BillRunType:
        return cls(
            id=row.id,
            period=row.period,
            period_start=row.period_start,
            period_end=row.period_end,
            bill_count=row.bill_count,
            total_amount=row.total_amount,
            times_run=row.times_run,
            last_run_bill_count=row.last_run_bill_count,
            created_at=row.created_at,
            last_run_at=row.last_run_at,
            advance_reason=row.advance_reason,
            project_id=row.project_id,
        )

    @strawberry.field
    async def project(self, info: Info) -> ProjectType:
        return ProjectType.from_row(await info.context.loaders.project.load(self.project_id))

    @strawberry.field(description="Bills of the run per status, with what they ask for and what was paid.")
    async def summary(self, info: Info) -> BillRunSummaryType:
        summary = await get_run_summary(info.context.session_factory, run_id=self.id, today=info.context.now().date())
        return BillRunSummaryType(**summary)

    resolve_nodes = nodes_of_managed_charges(lambda info: info.context.loaders.billing.bill_run)


@strawberry.type(name="BillRunSummary")
class BillRunSummaryType:
    open_count: int
    partially_paid_count: int
    paid_count: int
    overdue_count: int
    amount_billed: Decimal
    amount_paid: Decimal
    amount_outstanding: Decimal
