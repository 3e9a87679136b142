"""The demo community's dunning (催缴): its finance desk's policy (the default ladder, saved, with the
repair rule on above ¥2,000), and the month before `today` as the worker would have run it: a pass every
morning at 09:00 and the relay at 09:05, through the in-app inbox and the sandbox SMS gateway.

So that the history shows what happens to reminders, not only that they are sent: the first owners told
their bill is overdue pay between the pass and the relay (their notices are CANCELLED, not sent), and one
owner has muted overdue notices (DISABLED_BY_USER). Today's pass runs too; its messages wait for the relay
of the running service (QUEUED). Everything goes through the use cases the worker, the desk and the relay
use; the month runs after the community's own transaction, as days would.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.workers import SEND_CHECKS
from billing.dunning.ladder import DEFAULT_POLICY
from billing.dunning.passes import PlannedNotice, run_dunning
from billing.dunning.policies import set_dunning_settings
from billing.payments import PaymentRequest, record_payment
from billing.receipts import ReceiptSigner
from db.models import Message, NotificationPreference, Party, PaymentChannel, User
from db.personal_data import PersonalDataCipher
from db.unit_of_work import unit_of_work
from kernel.principal import Principal
from kernel.vocabulary import NotificationChannel
from notifications.channels import ChannelSender, InAppSender
from notifications.kinds import MessageKind
from notifications.relay import DEFAULT_BATCH_SIZE, relay_once
from notifications.sms import SandboxSmsGateway, SmsSender
from register.accounts import load_principal

__all__ = ["DEMO_DUNNING_DAYS", "DEMO_REPAIR_THRESHOLD", "seed_dunning"]

DEMO_DUNNING_DAYS = 30
DEMO_REPAIR_THRESHOLD = Decimal("2000.00")
_PAYMENT_INSTRUCTIONS = "请通过“翠湖生活”小程序【缴费】或到物业服务中心（1栋大堂）缴纳。"
_PAYERS = 3
_ZONE = ZoneInfo("Asia/Shanghai")
_SANDBOX_KEY = "courtyard-demo-sandbox-sms"


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), _ZONE).astimezone(dt.UTC)


async def seed_dunning(
    session_factory: async_sessionmaker[AsyncSession],
    cipher: PersonalDataCipher,
    *,
    project_id: int,
    finance_email: str,
    today: dt.date,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Save the demo's policy and play the month of dunning before `today` (see the module docstring)."""
    first_day = today - dt.timedelta(days=DEMO_DUNNING_DAYS)
    async with session_factory() as session:
        finance_id = await session.scalar(select(User.id).where(User.email == finance_email))
        assert finance_id is not None
        desk = await load_principal(session, finance_id, today=first_day)
    assert desk is not None
    await set_dunning_settings(
        session_factory,
        desk,
        project_id=project_id,
        now=_at(first_day, 8),
        policy=DEFAULT_POLICY,
        repair_block_threshold=DEMO_REPAIR_THRESHOLD,
        payment_instructions=_PAYMENT_INSTRUCTIONS,
    )
    channels: dict[NotificationChannel, ChannelSender] = {
        NotificationChannel.IN_APP: InAppSender(),
        NotificationChannel.SMS: SmsSender(SandboxSmsGateway(_SANDBOX_KEY), sign_name="翠湖物业"),
    }
    signer = ReceiptSigner.from_cipher(cipher)
    payers, muted = _PAYERS, False
    levels: Counter[str] = Counter()
    for offset in range(DEMO_DUNNING_DAYS, 0, -1):
        day = today - dt.timedelta(days=offset)
        outcome = await run_dunning(session_factory, None, project_id=project_id, now=_at(day, 9), scheduled=True)
        levels.update(outcome.by_level())
        overdue = [notice for notice in outcome.notices if notice.decision.level.kind is MessageKind.OVERDUE_NOTICE]
        if not muted and overdue:
            await _mute_overdue_notices(session_factory, overdue[-1], at=_at(day, 9))
            muted = True
        for notice in overdue[:payers]:
            await _pay_in_full(session_factory, desk, signer, notice, at=_at(day, 9, 2))
        payers -= min(payers, len(overdue))
        await _relay(session_factory, channels, cipher, now=_at(day, 9, 5))
    last = await run_dunning(session_factory, None, project_id=project_id, now=_at(today, 9), scheduled=True)
    levels.update(last.by_level())
    await _report(session_factory, project_id, levels, _PAYERS - payers, progress)


async def _mute_overdue_notices(session_factory: async_sessionmaker[AsyncSession], notice: PlannedNotice, *, at: dt.datetime) -> None:
    """The owner chose, in the app, to hear of overdue bills no more (the relay then sends them none)."""
    async with unit_of_work(session_factory) as work:
        work.session.add(
            NotificationPreference(
                addressee=f"party:{notice.decision.party_id}", channels=[], muted_kinds=[MessageKind.OVERDUE_NOTICE.value], updated_at=at
            )
        )


async def _pay_in_full(
    session_factory: async_sessionmaker[AsyncSession], desk: Principal, signer: ReceiptSigner, notice: PlannedNotice, *, at: dt.datetime
) -> None:
    """The owner pays what the notice is about, its late fee included, minutes after the pass."""
    async with session_factory() as session:
        payer = await session.scalar(select(Party.name).where(Party.id == notice.decision.party_id))
    await record_payment(
        session_factory,
        desk,
        now=at,
        signer=signer,
        request=PaymentRequest(
            unit_id=notice.decision.unit_id,
            channel=PaymentChannel.WECHAT,
            amount=notice.decision.amount_due + notice.late_fee,
            payer_name=payer or "",
            bill_ids=notice.decision.bill_ids,
            paid_at=at,
        ),
        idempotency_key=f"demo-{notice.key}",
    )


async def _relay(
    session_factory: async_sessionmaker[AsyncSession],
    channels: dict[NotificationChannel, ChannelSender],
    cipher: PersonalDataCipher,
    *,
    now: dt.datetime,
) -> None:
    while True:
        report = await relay_once(session_factory, channels, now=now, cipher=cipher, still_wanted=SEND_CHECKS)
        if report.claimed < DEFAULT_BATCH_SIZE:
            return


async def _report(
    session_factory: async_sessionmaker[AsyncSession],
    project_id: int,
    levels: Counter[str],
    paid: int,
    progress: Callable[[str], None],
) -> None:
    async with session_factory() as session:
        statuses = dict(
            (
                await session.execute(
                    select(Message.status, func.count()).where(Message.project_id == project_id).group_by(Message.status)
                )
            ).all()
        )
    by_level = ", ".join(f"{code} {count}" for code, count in sorted(levels.items(), key=lambda item: item[0])) or "none"
    by_status = ", ".join(f"{count} {status.value.lower()}" for status, count in sorted(statuses.items()))
    progress(
        f"dunning: the default ladder (repairs wait above ¥{DEMO_REPAIR_THRESHOLD:,.2f} overdue), "
        f"{DEMO_DUNNING_DAYS + 1} daily passes: notices {by_level}; messages {by_status}; "
        f"{paid} owners paid between a pass and the relay"
    )
