"""The daily close of one statement account over a period, as a report for a person: what its closes
recorded, who closed each day, and the exceptions of the period still open, in words. The HTTP download
and `courtyard reconcile export` write it as a workbook (`close_workbook.write_close_workbook`).

FINANCE and ADMIN of the account's project read it (`billing.policy.may_reconcile`); for anyone else
the account is NOT_FOUND, as every object a caller may not see.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.policy import may_reconcile
from billing.reconciliation.close_workbook import CloseReport, ClosedDay, OpenException
from billing.reconciliation.closing import exceptions_about, ledger_account_of
from billing.reconciliation.phrases import render_phrase
from db.models import (
    DailyClose,
    ExceptionLink,
    ExceptionStatus,
    Payment,
    PaymentReversal,
    Project,
    ReconciliationException,
    StatementAccount,
    StatementLineRow,
    User,
)
from kernel.errors import BadInput, NotFound
from kernel.principal import Principal
from kernel.vocabulary import Locale

__all__ = ["MAX_REPORT_DAYS", "close_report"]

MAX_REPORT_DAYS = 366
_CLOSED_BY_THE_SYSTEM = {Locale.ZH_CN: "命令行（系统）", Locale.EN: "command line (system)"}
# How an open exception's statement lines, payments and refunds are described, per language.
_REFERENCES = {
    Locale.ZH_CN: ("订单", "交易号", "流水号", "退款单"),
    Locale.EN: ("order", "transaction", "bank ref.", "refund no."),
}
_PAYMENT_WORDS = {
    Locale.ZH_CN: ("付款 {id} {payer} ¥{amount:,} {at:%m-%d %H:%M}", " 参考号 {reference}", "退款 {id} ¥{amount:,} {at:%m-%d %H:%M}"),
    Locale.EN: ("payment {id} {payer} ¥{amount:,} {at:%m-%d %H:%M}", " ref. {reference}", "refund {id} ¥{amount:,} {at:%m-%d %H:%M}"),
}


async def close_report(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    account_id: int,
    first_day: dt.date | None,
    last_day: dt.date | None,
    locale: Locale = Locale.ZH_CN,
) -> CloseReport:
    """The account's closes from `first_day` to `last_day` and its exceptions of those days still open, in
    words of `locale`. `principal` None reads on the system's own authority (the command line)."""
    async with session_factory() as session:
        account = await session.get(StatementAccount, account_id)
        if account is None or (principal is not None and not may_reconcile(principal, project_id=account.project_id)):
            raise NotFound("No such statement account.", field="accountId")
        if first_day is None:
            raise BadInput("Give the report's first day.", field="from")
        if last_day is None:
            raise BadInput("Give the report's last day.", field="to")
        if last_day < first_day:
            raise BadInput("to must not be before from.", field="to")
        if (last_day - first_day).days >= MAX_REPORT_DAYS:
            raise BadInput(f"A report covers at most {MAX_REPORT_DAYS} days; split the period.", field="to")
        project = await session.get(Project, account.project_id)
        assert project is not None
        zone = ZoneInfo(project.timezone)
        return CloseReport(
            project=project.name,
            account=account.name,
            ledger_account=ledger_account_of(account),
            first_day=first_day,
            last_day=last_day,
            days=await _closed_days(session, account, first_day, last_day, zone, locale),
            open_exceptions=await _open_exceptions(session, account, first_day, last_day, zone, locale),
            locale=locale,
        )


async def _closed_days(
    session: AsyncSession, account: StatementAccount, first_day: dt.date, last_day: dt.date, zone: ZoneInfo, locale: Locale
) -> list[ClosedDay]:
    rows = await session.execute(
        select(DailyClose, User.display_name)
        .outerjoin(User, User.id == DailyClose.closed_by)
        .where(DailyClose.account_id == account.id, DailyClose.day >= first_day, DailyClose.day <= last_day)
        .order_by(DailyClose.day)
    )
    return [
        ClosedDay(
            day=close.day,
            opening_balance=close.opening_balance,
            closing_balance=close.closing_balance,
            matched_count=close.matched_count,
            matched_amount=close.matched_amount,
            exception_count=close.exception_count,
            exception_amount=close.exception_amount,
            open_exception_count=close.open_exception_count,
            open_exception_amount=close.open_exception_amount,
            closed_by=closed_by or _CLOSED_BY_THE_SYSTEM[locale],
            closed_at=close.closed_at.astimezone(zone).replace(tzinfo=None),
            sign_off_reason=close.sign_off_reason,
        )
        for close, closed_by in rows.all()
    ]


async def _open_exceptions(
    session: AsyncSession, account: StatementAccount, first_day: dt.date, last_day: dt.date, zone: ZoneInfo, locale: Locale
) -> list[OpenException]:
    exceptions = (
        await session.scalars(
            select(ReconciliationException)
            .where(*exceptions_about(account, first_day=first_day, last_day=last_day), ReconciliationException.status == ExceptionStatus.OPEN)
            .order_by(ReconciliationException.day, ReconciliationException.id)
        )
    ).all()
    if not exceptions:
        return []
    links = (
        await session.scalars(
            select(ExceptionLink).where(
                ExceptionLink.exception_id.in_([e.id for e in exceptions]), ExceptionLink.related.is_(False)
            )
        )
    ).all()
    lines = {
        line.id: line
        for line in await session.scalars(
            select(StatementLineRow).where(StatementLineRow.id.in_([link.line_id for link in links if link.line_id]))
        )
    }
    payments = {
        payment.id: payment
        for payment in await session.scalars(select(Payment).where(Payment.id.in_([link.payment_id for link in links if link.payment_id])))
    }
    refunds = {
        refund.id: refund
        for refund in await session.scalars(
            select(PaymentReversal).where(PaymentReversal.id.in_([link.reversal_id for link in links if link.reversal_id]))
        )
    }
    paid_words, reference_words, refund_words = _PAYMENT_WORDS[locale]
    described: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for link in links:
        about_lines, about_money = described[link.exception_id]
        if link.line_id is not None:
            about_lines.append(_line_words(lines[link.line_id], zone, locale))
        elif link.payment_id is not None:
            payment = payments[link.payment_id]
            about_money.append(
                paid_words.format(id=payment.id, payer=payment.payer_name, amount=payment.amount, at=payment.paid_at.astimezone(zone))
                + (reference_words.format(reference=payment.external_reference) if payment.external_reference else "")
            )
        elif link.reversal_id is not None:
            refund = refunds[link.reversal_id]
            about_money.append(refund_words.format(id=refund.id, amount=refund.amount, at=refund.created_at.astimezone(zone)))
    return [
        OpenException(
            number=exception.id,
            day=exception.day,
            kind=exception.kind,
            difference=exception.difference,
            fee_explains=exception.fee_explains,
            explanation=("；" if locale is Locale.ZH_CN else "; ").join(
                render_phrase(part["code"], part["facts"], locale) for part in exception.explanation
            ),
            lines="\n".join(described[exception.id][0]),
            payments="\n".join(described[exception.id][1]),
        )
        for exception in exceptions
    ]


def _line_words(line: StatementLineRow, zone: ZoneInfo, locale: Locale) -> str:
    values = (line.order_no, line.transaction_id, line.bank_reference, line.refund_no)
    references = [f"{label} {value}" for label, value in zip(_REFERENCES[locale], values, strict=True) if value]
    who = [line.counterparty_name] if line.counterparty_name else []
    return " ".join([f"{line.booked_at.astimezone(zone):%m-%d %H:%M}", f"¥{line.amount:+,}", *references, *who])
