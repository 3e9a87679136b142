"""The bill run mutation and what a dry run answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from billing import runs
from schema.billing.bill_types import BillLineType
from schema.billing.common import FINANCE_ONLY, unit_of
from schema.billing.run_types import BillRunType
from schema.context import Info
from schema.errors import BadUserInputError, ConflictError, NotFoundError
from schema.ids import decode_id
from schema.units.types import UnitType
from schema.use_cases import run_for_caller

__all__ = ["BillPreviewType", "BillRunPreviewType", "RunMutations"]


@strawberry.type(name="BillPreview", description="A bill a dry run would issue.")
class BillPreviewType:
    total_amount: Decimal = strawberry.field(description="Yuan.")
    lines: list[BillLineType] = strawberry.field(description="Its lines.")
    unit_id: strawberry.Private[int]

    @strawberry.field(description="The unit.")
    async def unit(self, info: Info) -> UnitType:
        return await unit_of(info, self.unit_id)


@strawberry.type(name="BillRunPreview", description="What a dry run would bill; nothing was written.")
class BillRunPreviewType:
    period: str = strawberry.field(description="The period, YYYY-MM.")
    bill_count: int = strawberry.field(description="Bills the run would issue.")
    total_amount: Decimal = strawberry.field(description="What they would ask for, yuan.")
    units_without_charges: int = strawberry.field(description="Units no rule would charge (no bill).")
    sample: list[BillPreviewType] = strawberry.field(description="A few of the bills, to check by eye.")


RunBillingResult = Annotated[
    BillRunType | BillRunPreviewType | BadUserInputError | NotFoundError | ConflictError,
    strawberry.union(
        "RunBillingResult",
        description=(
            "What `runBilling` answers: the BillRun (or a BillRunPreview for dryRun); BadUserInputError (a malformed "
            "period, one too far ahead without advanceReason); NotFoundError (a project not yours); ConflictError (a "
            "run of the project already in progress). A failure writes nothing."
        ),
    ),
]


def _present_run(outcome: runs.BillRunOutcome) -> BillRunType | BillRunPreviewType:
    if not outcome.dry_run:
        assert outcome.run is not None
        return BillRunType.from_row(outcome.run)
    return BillRunPreviewType(
        period=outcome.period,
        bill_count=outcome.bills_created,
        total_amount=outcome.amount_created,
        units_without_charges=outcome.units_without_charges,
        sample=[
            BillPreviewType(
                unit_id=preview.unit_id,
                total_amount=preview.total,
                lines=[BillLineType.from_draft(index, line, outcome.locale) for index, line in enumerate(preview.lines, start=1)],
            )
            for preview in outcome.sample
        ],
    )


@strawberry.type
class RunMutations:
    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Bill every unit without a bill for the period; again: the same run, new units only. dryRun writes nothing.",
    )
    async def run_billing(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        period: Annotated[str, strawberry.argument(description="The period to bill, YYYY-MM.")],
        dry_run: Annotated[
            bool,
            strawberry.argument(description="True: only answer what would be billed (BillRunPreview), write nothing."),
        ] = False,
        advance_reason: Annotated[
            str | None,
            strawberry.argument(
                description="Why a period after the next one is billed now; such a run is refused without it. Kept on the run."
            ),
        ] = None,
    ) -> RunBillingResult:
        return await run_for_caller(
            info,
            lambda principal: runs.run_billing(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                project_id=decode_id(project_id, "Project", field="projectId"),
                period=period,
                dry_run=dry_run,
                advance_reason=advance_reason,
            ),
            _present_run,
        )
