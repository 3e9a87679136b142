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


@strawberry.type(
    name="BillRun",
    description=(
        "A project's billing of one period: one per project and period, run again to bill units added since (FINANCE "
        "and ADMIN)."
    ),
)
class BillRunType(relay.Node):
    id: relay.NodeID[int]
    period: str = strawberry.field(description="The billing period, YYYY-MM.")
    period_start: dt.date = strawberry.field(description="First day billed (project time zone).")
    period_end: dt.date = strawberry.field(description="Last day billed.")
    bill_count: int = strawberry.field(description="Bills issued by the run, all invocations together.")
    total_amount: Decimal = strawberry.field(description="What they ask for, yuan (decimal string).")
    times_run: int = strawberry.field(description="How often the run was invoked.")
    last_run_bill_count: int = strawberry.field(description="Bills the latest invocation created (0 when it found nothing new).")
    created_at: dt.datetime = strawberry.field(description="First invocation (UTC).")
    last_run_at: dt.datetime | None = strawberry.field(description="Latest invocation (UTC).")
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

    @strawberry.field(description="The project.")
    async def project(self, info: Info) -> ProjectType:
        return ProjectType.from_row(await info.context.loaders.project.load(self.project_id))

    @strawberry.field(description="Bills of the run per status, with what they ask for and what was paid.")
    async def summary(self, info: Info) -> BillRunSummaryType:
        summary = await get_run_summary(info.context.session_factory, run_id=self.id, today=info.context.now().date())
        return BillRunSummaryType(**summary)

    resolve_nodes = nodes_of_managed_charges(lambda info: info.context.loaders.billing.bill_run)


@strawberry.type(
    name="BillRunSummary", description="A bill run's bills by status, with amounts in yuan (decimal strings)."
)
class BillRunSummaryType:
    open_count: int = strawberry.field(description="Bills with nothing paid.")
    partially_paid_count: int = strawberry.field(description="Bills partly paid.")
    paid_count: int = strawberry.field(description="Bills fully paid.")
    overdue_count: int = strawberry.field(description="Unpaid bills past their due date (today, project time zone).")
    amount_billed: Decimal = strawberry.field(description="What the bills ask for.")
    amount_paid: Decimal = strawberry.field(description="What was paid towards them.")
    amount_outstanding: Decimal = strawberry.field(description="What is still owed.")
