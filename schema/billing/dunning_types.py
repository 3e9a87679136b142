"""GraphQL types of dunning (催缴): a project's policy and its levels, a pass and what it decided, the
finance desk's work queue with each account's history, disputes and payment plans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import relay

from billing.dunning.ladder import Level
from billing.dunning.passes import DunningPass, PlannedNotice
from billing.dunning.policies import DunningSettings
from billing.dunning.status import DunningDay
from billing.dunning.work_queue import HistoryEntry, QueuedAccount
from db.models import BillDispute, DunningNotice, PaymentPlan
from kernel.vocabulary import DunningEscalation
from schema.billing.common import gid, unit_of
from schema.billing.risk_types import RiskReasonType
from schema.context import Info
from schema.described_enum import described_enum
from schema.notifications.types import MessageStatusEnum, NotificationChannelEnum, NotificationKindEnum
from schema.units.types import PartyType, UnitType

__all__ = [
    "BillDisputeType",
    "DunningAccountConnection",
    "DunningAccountType",
    "DunningDayType",
    "DunningEscalationEnum",
    "DunningHistoryEntryType",
    "DunningLevelType",
    "DunningNoticeType",
    "DunningPassType",
    "DunningPolicyType",
    "PaymentPlanType",
    "ReminderCountType",
]

DunningEscalationEnum = described_enum(
    DunningEscalation,
    name="DunningEscalation",
    description="What a dunning level does beyond its message.",
    values={
        "NONE": "Nothing: the message is all.",
        "PHONE_FOLLOW_UP": "A follow-up for one of the project's FINANCE users (its ADMINs when it has none): phone the owner.",
    },
)


@strawberry.type(name="DunningLevel", description="One level of a dunning policy, gentlest first.")
class DunningLevelType:
    code: str = strawberry.field(description="What the level is known by (e.g. T+3): its notices and history name it.")
    days_from_due: int = strawberry.field(
        description="Met this many days after the oldest due date of the account's bills (negative: before it; "
        "a level at 0 days or before is a reminder, out of date once the bills are overdue)."
    )
    min_amount: Decimal | None = strawberry.field(description="Met only when the bills owe at least this (yuan).")
    min_bills: int | None = strawberry.field(description="Met only with at least this many bills.")
    kind: NotificationKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="The message the owner is sent, rendered with the project's template for it; null: none."
    )
    channels: list[NotificationChannelEnum] = strawberry.field(  # type: ignore[valid-type]
        description="The channels to try, in order; empty: the message kind's own order."
    )
    escalation: DunningEscalationEnum = strawberry.field(description="What the level does beyond its message.")  # type: ignore[valid-type]

    @classmethod
    def from_level(cls, level: Level) -> DunningLevelType:
        trigger = level.trigger
        return cls(
            code=level.code,
            days_from_due=trigger.days_from_due,
            min_amount=trigger.min_amount,
            min_bills=trigger.min_bills,
            kind=level.kind,
            channels=list(level.channels),
            escalation=level.escalation,
        )


@strawberry.type(
    name="DunningPolicy",
    description="A project's dunning policy (the default until its finance desk saves one) and its arrears rule for repairs.",
)
class DunningPolicyType:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    enabled: bool = strawberry.field(description="Whether the project duns at all (daily from 09:00 local time).")
    is_default: bool = strawberry.field(description="True while nothing was saved: the built-in policy applies.")
    levels: list[DunningLevelType] = strawberry.field(description="Gentlest first: a later level is firmer.")
    repair_block_threshold: Decimal | None = strawberry.field(
        description="Overdue arrears (yuan) above which an owner's non-urgent repairs wait; null: repairs never wait."
    )
    payment_instructions: str | None = strawberry.field(
        description="How to pay, as a refused repair tells the owner; null: the built-in words."
    )
    updated_at: dt.datetime | None = strawberry.field(description="When it was last saved (UTC).")

    @classmethod
    def from_settings(cls, settings: DunningSettings) -> DunningPolicyType:
        return cls(
            project_id=gid("Project", settings.project_id),
            enabled=settings.enabled,
            is_default=not settings.saved,
            levels=[DunningLevelType.from_level(level) for level in settings.policy.levels],
            repair_block_threshold=settings.repair_block_threshold,
            payment_instructions=settings.payment_instructions,
            updated_at=settings.updated_at,
        )


@strawberry.type(name="DunningDecision", description="One account's level in a pass, with what its messages say.")
class DunningDecisionType:
    level: str = strawberry.field(description="The level's code.")
    amount_due: Decimal = strawberry.field(description="What the account's chased bills owe (yuan).")
    due_date: dt.date = strawberry.field(description="The oldest due date among them.")
    days_overdue: int = strawberry.field(description="Days past that due date (0 before it).")
    late_fee: Decimal = strawberry.field(description="The late fee as of the pass's day if paid then (yuan; not charged).")
    bill_count: int = strawberry.field(description="How many bills it is about.")
    follows_up: bool = strawberry.field(description="Whether the finance desk is asked to phone.")
    unit_id: strawberry.Private[int]

    @classmethod
    def from_notice(cls, notice: PlannedNotice) -> DunningDecisionType:
        decision = notice.decision
        return cls(
            level=decision.level.code,
            amount_due=decision.amount_due,
            due_date=decision.oldest_due,
            days_overdue=decision.days_overdue,
            late_fee=notice.late_fee,
            bill_count=len(decision.bill_ids),
            follows_up=decision.level.escalation is DunningEscalation.PHONE_FOLLOW_UP,
            unit_id=decision.unit_id,
        )

    @strawberry.field(description="The unit.")
    async def unit(self, info: Info) -> UnitType:
        return await unit_of(info, self.unit_id)


@strawberry.type(name="DunningLevelCount", description="How many accounts reached one level in a pass.")
class DunningLevelCountType:
    level: str = strawberry.field(description="The level's code.")
    accounts: int = strawberry.field(description="How many accounts.")


PASS_SAMPLE = 50


@strawberry.type(name="DunningPass", description="What a dunning pass decided (and, unless a dry run, sent to the outbox).")
class DunningPassType:
    run_id: strawberry.ID | None = strawberry.field(description="The pass as recorded; null for a dry run or a project that does not dun.")
    day: dt.date = strawberry.field(description="The project's local day it decided for.")
    enabled: bool = strawberry.field(description="False: the project does not dun, nothing was decided.")
    accounts: int = strawberry.field(description="Accounts with bills to chase that day, held ones included.")
    held: int = strawberry.field(description="Accounts held: every bill disputed, or the owner on a payment plan.")
    messages: int = strawberry.field(description="Messages to owners.")
    follow_ups: int = strawberry.field(description="Follow-ups for the finance desk.")
    by_level: list[DunningLevelCountType] = strawberry.field(description="Accounts per level reached.")
    decisions: list[DunningDecisionType] = strawberry.field(
        description=f"The first {PASS_SAMPLE} decisions, long-overdue and large amounts first."
    )

    @classmethod
    def from_pass(cls, outcome: DunningPass) -> DunningPassType:
        return cls(
            run_id=gid("DunningRun", outcome.run_id) if outcome.run_id is not None else None,
            day=outcome.day,
            enabled=outcome.enabled,
            accounts=outcome.accounts,
            held=outcome.held,
            messages=outcome.messages,
            follow_ups=outcome.follow_ups,
            by_level=[DunningLevelCountType(level=code, accounts=count) for code, count in outcome.by_level().items()],
            decisions=[DunningDecisionType.from_notice(notice) for notice in outcome.notices[:PASS_SAMPLE]],
        )


@strawberry.type(
    name="DunningHistoryEntry",
    description="One level an account reached: the message that carried it as the outbox recorded it, and the follow-up.",
)
class DunningHistoryEntryType:
    notice_id: strawberry.ID = strawberry.field(description="The notice (what recordDunningCall takes).")
    level: str = strawberry.field(description="The level's code.")
    kind: NotificationKindEnum | None = strawberry.field(description="The owner's message; null: none was sent.")  # type: ignore[valid-type]
    decided_at: dt.datetime = strawberry.field(description="When the pass decided it (UTC).")
    amount_due: Decimal = strawberry.field(description="What the bills owed then (yuan).")
    late_fee: Decimal = strawberry.field(description="The late fee as of that day (yuan).")
    days_overdue: int = strawberry.field(description="Days overdue then.")
    message_status: MessageStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="Where the owner's message stands (QUEUED, SENT, DELIVERED, FAILED, THROTTLED, DISABLED_BY_USER, CANCELLED)."
    )
    channel: NotificationChannelEnum | None = strawberry.field(description="The channel that took it.")  # type: ignore[valid-type]
    sent_at: dt.datetime | None = strawberry.field(description="When a channel took it (UTC).")
    delivered_at: dt.datetime | None = strawberry.field(description="When it was known to have arrived (UTC).")
    attempts: int = strawberry.field(description="Rounds of channels tried.")
    last_error: str | None = strawberry.field(description="The last failure, if any.")
    follows_up: bool = strawberry.field(description="Whether the finance desk was asked to phone.")
    follow_up_status: MessageStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="Where the message to the finance user stands."
    )
    follow_up_done_at: dt.datetime | None = strawberry.field(description="When the call was recorded (UTC); null: still to make.")
    follow_up_note: str | None = strawberry.field(description="What the call came to.")

    @classmethod
    def from_entry(cls, entry: HistoryEntry) -> DunningHistoryEntryType:
        return cls(
            notice_id=gid("DunningNotice", entry.notice_id),
            level=entry.level_code,
            kind=entry.kind,
            decided_at=entry.decided_at,
            amount_due=entry.amount_due,
            late_fee=entry.late_fee,
            days_overdue=entry.days_overdue,
            message_status=entry.message_status,
            channel=entry.channel,
            sent_at=entry.sent_at,
            delivered_at=entry.delivered_at,
            attempts=entry.attempts,
            last_error=entry.last_error,
            follows_up=entry.escalation is DunningEscalation.PHONE_FOLLOW_UP,
            follow_up_status=entry.follow_up_status,
            follow_up_done_at=entry.follow_up_done_at,
            follow_up_note=entry.follow_up_note,
        )


@strawberry.type(name="DunningAccount", description="An account to chase: one owner's overdue bills on one unit.")
class DunningAccountType:
    amount_overdue: Decimal = strawberry.field(description="What its overdue, undisputed bills owe (yuan).")
    days_overdue: int = strawberry.field(description="Days past the oldest due date.")
    score: Decimal = strawberry.field(description="Days overdue × amount overdue: the queue's order among accounts of equal risk.")
    overdue_risk: float = strawberry.field(
        description="预测逾期风险: the probability that its riskiest overdue bill is paid more than 30 days late (the queue's first order)."
    )
    risk_reasons: list[RiskReasonType] = strawberry.field(description="That bill's three weightiest reasons, in words.")
    overdue_bills: int = strawberry.field(description="How many bills are overdue.")
    oldest_due_date: dt.date = strawberry.field(description="The oldest due date among them.")
    open_follow_up: strawberry.ID | None = strawberry.field(description="The notice whose call is still to make, if any.")
    history: list[DunningHistoryEntryType] = strawberry.field(description="Its notices, newest first (at most 20).")
    unit_id: strawberry.Private[int]
    party_id: strawberry.Private[int]

    @classmethod
    def from_account(cls, account: QueuedAccount) -> DunningAccountType:
        follow_up = account.open_follow_up
        return cls(
            amount_overdue=account.amount_overdue,
            days_overdue=account.days_overdue,
            score=account.score,
            overdue_risk=round(account.risk, 4),
            risk_reasons=[RiskReasonType.from_reason(reason) for reason in account.risk_reasons],
            overdue_bills=account.overdue_bills,
            oldest_due_date=account.oldest_due,
            open_follow_up=gid("DunningNotice", follow_up) if follow_up is not None else None,
            history=[DunningHistoryEntryType.from_entry(entry) for entry in account.history],
            unit_id=account.unit_id,
            party_id=account.party_id,
        )

    @strawberry.field(description="The unit.")
    async def unit(self, info: Info) -> UnitType:
        return await unit_of(info, self.unit_id)

    @strawberry.field(description="The owner the bills are addressed to.")
    async def owner(self, info: Info) -> PartyType:
        return PartyType.from_row(await info.context.loaders.party.load(self.party_id))


@strawberry.type(name="DunningAccountConnection", description="A page of the finance desk's work queue.")
class DunningAccountConnection(relay.Connection[DunningAccountType]):
    total_count: int = strawberry.field(description="Accounts to chase over every page.")


@strawberry.type(name="DunningNotice", description="A level an account reached, with its follow-up call.")
class DunningNoticeType:
    id: strawberry.ID = strawberry.field(description="The notice's ID.")
    level: str = strawberry.field(description="The level's code.")
    amount_due: Decimal = strawberry.field(description="What the bills owed then (yuan).")
    days_overdue: int = strawberry.field(description="Days overdue then.")
    follow_up_done_at: dt.datetime | None = strawberry.field(description="When the call was recorded (UTC).")
    follow_up_note: str | None = strawberry.field(description="What the call came to.")

    @classmethod
    def from_row(cls, row: DunningNotice) -> DunningNoticeType:
        return cls(
            id=gid("DunningNotice", row.id),
            level=row.level_code,
            amount_due=row.amount_due,
            days_overdue=row.days_overdue,
            follow_up_done_at=row.follow_up_done_at,
            follow_up_note=row.follow_up_note,
        )


@strawberry.type(name="BillDispute", description="An owner's dispute of a bill: dunning holds the bill while it is open.")
class BillDisputeType:
    id: strawberry.ID = strawberry.field(description="The dispute's ID.")
    bill_id: strawberry.ID = strawberry.field(description="The bill.")
    disputed: bool = strawberry.field(description="True while the dispute is open.")
    reason: str = strawberry.field(description="What the owner contests.")
    opened_at: dt.datetime = strawberry.field(description="When it was opened (UTC).")
    resolution: str | None = strawberry.field(description="How it was resolved.")
    resolved_at: dt.datetime | None = strawberry.field(description="When it was resolved (UTC).")

    @classmethod
    def from_row(cls, row: BillDispute) -> BillDisputeType:
        return cls(
            id=gid("BillDispute", row.id),
            bill_id=gid("Bill", row.bill_id),
            disputed=row.resolved_at is None,
            reason=row.reason,
            opened_at=row.opened_at,
            resolution=row.resolution,
            resolved_at=row.resolved_at,
        )


@strawberry.type(name="PaymentPlan", description="An owner's payment plan: dunning holds their accounts while it runs.")
class PaymentPlanType:
    id: strawberry.ID = strawberry.field(description="The plan's ID.")
    party_id: strawberry.ID = strawberry.field(description="The owner.")
    starts_on: dt.date = strawberry.field(description="First day held (the project's calendar).")
    ends_on: dt.date = strawberry.field(description="Last day held.")
    note: str = strawberry.field(description="What was agreed.")
    cancelled_at: dt.datetime | None = strawberry.field(description="When it was ended early (UTC), if it was.")

    @classmethod
    def from_row(cls, row: PaymentPlan) -> PaymentPlanType:
        return cls(
            id=gid("PaymentPlan", row.id),
            party_id=gid("Party", row.party_id),
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            note=row.note,
            cancelled_at=row.cancelled_at,
        )


@strawberry.type(name="ReminderCount", description="How many notices of one level stand at one outbox status on one channel.")
class ReminderCountType:
    level: str = strawberry.field(description="The level's code.")
    channel: NotificationChannelEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="The channel that took the message; null while none has yet."
    )
    status: MessageStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="Where the message stands; null for a level that sends none (a phone follow-up only)."
    )
    count: int = strawberry.field(description="Notices.")


@strawberry.type(
    name="DunningDay",
    description="The reminders of the latest day up to today on which a dunning pass decided any, by level, channel and outbox status.",
)
class DunningDayType:
    day: dt.date | None = strawberry.field(description="The day of the pass shown; null: no pass has decided a notice yet.")
    today: dt.date = strawberry.field(description="The project's local today.")
    notices: int = strawberry.field(description="Notices decided that day.")
    counts: list[ReminderCountType] = strawberry.field(description="Gentlest level first.")

    @classmethod
    def from_day(cls, day: DunningDay) -> DunningDayType:
        return cls(
            day=day.day,
            today=day.today,
            notices=day.notices,
            counts=[
                ReminderCountType(level=item.level_code, channel=item.channel, status=item.status, count=item.count)
                for item in day.counts
            ],
        )
