"""Mutations of dunning for the finance desk: thin calls into `billing.dunning`'s use cases, each owning its
transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry

from billing.dunning import holds, passes, policies, work_queue
from billing.dunning.ladder import Level, Policy, Trigger
from kernel.vocabulary import DunningEscalation, NotificationChannel
from notifications.kinds import MessageKind
from schema.billing.common import FINANCE_ONLY, mutation_result
from schema.billing.dunning_types import (
    BillDisputeType,
    DunningEscalationEnum,
    DunningNoticeType,
    DunningPassType,
    DunningPolicyType,
    PaymentPlanType,
)
from schema.context import Info
from schema.ids import decode_id
from schema.notifications.types import NotificationChannelEnum, NotificationKindEnum
from schema.use_cases import run_for_caller

__all__ = ["DunningMutations"]


@strawberry.input(description="One level of a dunning policy.")
class DunningLevelInput:
    code: str = strawberry.field(description="What the level is known by: 1 to 16 letters, digits or + - _ . (e.g. T+3).")
    days_from_due: int = strawberry.field(
        description="Days after the oldest due date (negative: before it; -60 to 730). At 0 or before, a reminder."
    )
    kind: NotificationKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="The owner's message: BILL_REMINDER (at 0 days or before), OVERDUE_NOTICE or FINAL_NOTICE (after); null: none.",
    )
    channels: list[NotificationChannelEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The channels to try, in order; left out: the message kind's own order."
    )
    escalation: DunningEscalationEnum = strawberry.field(  # type: ignore[valid-type]
        default=DunningEscalation.NONE, description="PHONE_FOLLOW_UP hands the account to a FINANCE user to phone."
    )
    min_amount: Decimal | None = strawberry.field(default=None, description="Met only when the bills owe at least this (yuan).")
    min_bills: int | None = strawberry.field(default=None, description="Met only with at least this many bills.")

    def level(self) -> Level:
        return Level(
            code=self.code,
            trigger=Trigger(self.days_from_due, self.min_amount, self.min_bills),
            kind=MessageKind(self.kind) if self.kind is not None else None,
            channels=tuple(NotificationChannel(channel) for channel in self.channels or ()),
            escalation=DunningEscalation(self.escalation),
        )


@strawberry.input(description="What to change of a project's dunning policy; what is left out stays as it is.")
class SetDunningPolicyInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    levels: list[DunningLevelInput] | None = strawberry.field(
        default=None, description="Every level, gentlest first (they replace the levels there are)."
    )
    enabled: bool | None = strawberry.field(default=None, description="Whether the project duns at all.")
    repair_block_threshold: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Overdue arrears (yuan) above which non-urgent repairs wait; null turns that off (the default).",
    )
    payment_instructions: str | None = strawberry.field(
        default=None, description="How to pay, as a refused repair tells the owner (at most 300 characters)."
    )


@strawberry.input(description="Open or resolve an owner's dispute of a bill.")
class SetBillDisputeInput:
    bill_id: strawberry.ID = strawberry.field(description="The bill.")
    disputed: bool = strawberry.field(description="True opens a dispute (a bill already disputed stays as it is); false resolves it.")
    reason: str | None = strawberry.field(
        default=None, description="Opening: what the owner contests (required). Resolving: the outcome (optional)."
    )


@strawberry.input(description="Put an owner on a payment plan, or end theirs.")
class SetPaymentPlanInput:
    party_id: strawberry.ID = strawberry.field(description="The owner.")
    ends_on: dt.date | None = strawberry.field(
        default=None, description="Last day of the plan (from today, at most three years); null ends the running plan now."
    )
    note: str | None = strawberry.field(default=None, description="What was agreed (required for a new plan).")


@strawberry.input(description="The call a dunning follow-up asked for.")
class RecordDunningCallInput:
    notice_id: strawberry.ID = strawberry.field(description="The notice with the follow-up (DunningHistoryEntry.noticeId).")
    note: str = strawberry.field(description="What the call came to (at most 500 characters).")


SetDunningPolicyResult = mutation_result(DunningPolicyType, "SetDunningPolicyResult")
RunDunningResult = mutation_result(DunningPassType, "RunDunningResult")
SetBillDisputeResult = mutation_result(BillDisputeType, "SetBillDisputeResult")
SetPaymentPlanResult = mutation_result(PaymentPlanType, "SetPaymentPlanResult")
RecordDunningCallResult = mutation_result(DunningNoticeType, "RecordDunningCallResult")


@strawberry.type
class DunningMutations:
    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE, ADMIN: Change the project's dunning policy: its levels (replaced whole), whether it duns, and the "
            "arrears above which non-urgent repairs wait. Notices already sent keep their level."
        ),
    )
    async def set_dunning_policy(
        self, info: Info, input: Annotated[SetDunningPolicyInput, strawberry.argument(description="What to change.")]
    ) -> SetDunningPolicyResult:  # type: ignore[valid-type]
        threshold = input.repair_block_threshold
        return await run_for_caller(
            info,
            lambda principal: policies.set_dunning_settings(
                info.context.session_factory,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                now=info.context.now(),
                policy=Policy(tuple(level.level() for level in input.levels)) if input.levels is not None else None,
                enabled=input.enabled,
                repair_block_threshold=None if threshold is strawberry.UNSET else threshold,
                clear_repair_block=threshold is None,
                payment_instructions=input.payment_instructions,
            ),
            DunningPolicyType.from_settings,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE, ADMIN: Run a dunning pass over the project now (the worker runs one daily from 09:00): each "
            "account's level is decided, the owners' messages and the finance desk's follow-ups go to the outbox. "
            "`dryRun` shows what would be sent and writes nothing."
        ),
    )
    async def run_dunning(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        dry_run: Annotated[bool, strawberry.argument(description="Decide only; write and send nothing.")] = False,
    ) -> RunDunningResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: passes.run_dunning(
                info.context.session_factory,
                principal,
                project_id=decode_id(project_id, "Project", field="projectId"),
                now=info.context.now(),
                dry_run=dry_run,
            ),
            DunningPassType.from_pass,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Open an owner's dispute of a bill (dunning holds it, and withdraws what is queued about it) or resolve it.",
    )
    async def set_bill_dispute(
        self, info: Info, input: Annotated[SetBillDisputeInput, strawberry.argument(description="The bill and the dispute.")]
    ) -> SetBillDisputeResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: holds.set_bill_dispute(
                info.context.session_factory,
                principal,
                bill_id=decode_id(input.bill_id, "Bill", field="billId"),
                disputed=input.disputed,
                reason=input.reason,
                now=info.context.now(),
            ),
            BillDisputeType.from_row,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE, ADMIN: Put an owner on a payment plan from today until `endsOn` (dunning holds their accounts and "
            "withdraws what is queued), replacing the one running; or end the running plan (`endsOn` null)."
        ),
    )
    async def set_payment_plan(
        self, info: Info, input: Annotated[SetPaymentPlanInput, strawberry.argument(description="The owner and the plan.")]
    ) -> SetPaymentPlanResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: holds.set_payment_plan(
                info.context.session_factory,
                principal,
                party_id=decode_id(input.party_id, "Party", field="partyId"),
                ends_on=input.ends_on,
                note=input.note,
                now=info.context.now(),
            ),
            PaymentPlanType.from_row,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Record the call a dunning follow-up asked for (a later call replaces the record).",
    )
    async def record_dunning_call(
        self, info: Info, input: Annotated[RecordDunningCallInput, strawberry.argument(description="The notice and the call.")]
    ) -> RecordDunningCallResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: work_queue.record_dunning_call(
                info.context.session_factory,
                principal,
                notice_id=decode_id(input.notice_id, "DunningNotice", field="noticeId"),
                note=input.note,
                now=info.context.now(),
            ),
            DunningNoticeType.from_row,
        )
