"""Statement accounts: the WeChat Pay, Alipay and bank accounts of a project whose statements are imported,
with how each channel reports and settles (`ChannelTerms`) and, for a bank account, its export's layout
(`BankProfile`). Also the steps every reconciliation use case opens with: the project or account, checked
against `billing.policy.may_reconcile`.

`principal` None acts on the system's own authority (the command line, which has the database already).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.guards import get_project
from billing.policy import knows_project_records, may_reconcile
from billing.reconciliation.bank import BankProfile, DebitMeans
from billing.reconciliation.matching import ChannelTerms
from billing.reconciliation.statement import Channel, SourceKind
from db.models import PaymentChannel, Project, StatementAccount, StatementAccountKind
from db.unit_of_work import unit_of_work
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.principal import Principal
from kernel.validation import required_text

__all__ = [
    "AccountTerms",
    "account_channel",
    "bank_profile_of",
    "channel_terms_of",
    "create_statement_account",
    "create_statement_account_in",
    "find_account",
    "get_account",
    "list_statement_accounts",
    "reconciled_project",
]

_REFUSAL = "Requires one of the roles ADMIN, FINANCE in this project."
_MAX_DAYS = 60

_CHANNEL_OF_KIND = {
    StatementAccountKind.WECHAT: PaymentChannel.WECHAT,
    StatementAccountKind.ALIPAY: PaymentChannel.ALIPAY,
    StatementAccountKind.BANK: PaymentChannel.BANK_TRANSFER,
}
_SOURCE_OF_KIND = {
    StatementAccountKind.WECHAT: SourceKind.WECHAT,
    StatementAccountKind.ALIPAY: SourceKind.ALIPAY,
    StatementAccountKind.BANK: SourceKind.BANK,
}


@dataclass(frozen=True)
class AccountTerms:
    """How the account's channel reports and pays out (see `ChannelTerms`); stored as the account's JSON."""

    report_days: int = 2
    payout_min_days: int = 1
    payout_max_days: int = 7
    fee_rate: Decimal | None = None
    payout_account: str | None = None

    def checked(self) -> AccountTerms:
        for name in ("report_days", "payout_min_days", "payout_max_days"):
            value = getattr(self, name)
            if not 0 <= value <= _MAX_DAYS:
                raise BadInput(f"{_camel(name)} must be between 0 and {_MAX_DAYS} days.", field=f"terms.{_camel(name)}")
        if self.payout_min_days > self.payout_max_days:
            raise BadInput("payoutMinDays must not exceed payoutMaxDays.", field="terms.payoutMinDays")
        if self.fee_rate is not None and not Decimal(0) <= self.fee_rate < 1:
            raise BadInput("feeRate is a fraction such as 0.006 (0.6%).", field="terms.feeRate")
        return self

    def as_json(self) -> dict[str, Any]:
        stored = dataclasses.asdict(self)
        stored["fee_rate"] = None if self.fee_rate is None else str(self.fee_rate)
        return stored

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> AccountTerms:
        fee_rate = stored.get("fee_rate")
        return cls(**{**stored, "fee_rate": None if fee_rate is None else Decimal(fee_rate)})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def account_channel(account: StatementAccount) -> Channel:
    return Channel(account.channel.value)


def channel_terms_of(account: StatementAccount) -> ChannelTerms:
    terms = AccountTerms.from_json(account.terms or {})
    return ChannelTerms(
        channel=account_channel(account),
        sources=(_SOURCE_OF_KIND[account.kind],),
        report_days=terms.report_days,
        payout_min_days=terms.payout_min_days,
        payout_max_days=terms.payout_max_days,
        payout_account=terms.payout_account,
        fee_rate=terms.fee_rate,
    )


def bank_profile_of(account: StatementAccount) -> BankProfile | None:
    if account.bank_profile is None:
        return None
    return _bank_profile(account.name, account.bank_profile)


def _bank_profile(account_name: str, stored: dict[str, Any]) -> BankProfile:
    """A `BankProfile` from its JSON (field names as in the dataclass), or BAD_USER_INPUT on bankProfile."""
    known = {f.name: f for f in dataclasses.fields(BankProfile)}
    values: dict[str, Any] = {}
    for name, value in stored.items():
        if name not in known or name == "account":
            raise BadInput(f"bankProfile has no field {name!r}.", field="bankProfile")
        if isinstance(value, list):
            value = tuple(str(item) for item in value)
        values[name] = value
    try:
        if "debit_means" in values:
            values["debit_means"] = DebitMeans(values["debit_means"])
        return BankProfile(account=account_name, **values)
    except (TypeError, ValueError) as error:
        raise BadInput(f"bankProfile: {error}", field="bankProfile") from None


async def reconciled_project(session: AsyncSession, principal: Principal | None, project_id: int) -> Project:
    """The project whose reconciliation is acted on: NOT_FOUND for a stranger, FORBIDDEN without the role."""
    if principal is not None:
        return await get_project(session, principal, project_id, allowed=may_reconcile)
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound("No such project.", field="projectId")
    return project


async def get_account(
    session: AsyncSession, principal: Principal | None, account_id: int, *, field: str = "accountId"
) -> StatementAccount:
    """A statement account, checked like its project."""
    account = await session.get(StatementAccount, account_id)
    if account is None or (principal is not None and not knows_project_records(principal, project_id=account.project_id)):
        raise NotFound("No such statement account.", field=field)
    if principal is not None and not may_reconcile(principal, project_id=account.project_id):
        raise AccessDenied(_REFUSAL)
    return account


async def find_account(session: AsyncSession, *, project_id: int | None, reference: str) -> StatementAccount | None:
    """An account by number, or by the name its statements give it (within the project when given)."""
    if reference.isdigit():
        account = await session.get(StatementAccount, int(reference))
        if account is not None and project_id in (None, account.project_id):
            return account
    query = select(StatementAccount).where(StatementAccount.name == reference)
    if project_id is not None:
        query = query.where(StatementAccount.project_id == project_id)
    found = (await session.scalars(query.limit(2))).all()
    return found[0] if len(found) == 1 else None


async def create_statement_account(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    name: str,
    kind: StatementAccountKind,
    terms: AccountTerms,
    bank_profile: dict[str, Any] | None = None,
) -> StatementAccount:
    """Add a channel or bank account whose statements the project imports; a bank account needs its
    export's profile, a channel account must not have one."""
    async with unit_of_work(session_factory) as work:
        return await create_statement_account_in(
            work.session, principal, project_id=project_id, name=name, kind=kind, terms=terms, bank_profile=bank_profile
        )


async def create_statement_account_in(
    session: AsyncSession,
    principal: Principal | None,
    *,
    project_id: int,
    name: str,
    kind: StatementAccountKind,
    terms: AccountTerms,
    bank_profile: dict[str, Any] | None = None,
) -> StatementAccount:
    """`create_statement_account` inside the caller's transaction (the demo seeds its accounts with it)."""
    await reconciled_project(session, principal, project_id)
    account_name = required_text(name, "name", max_length=100)
    if kind is StatementAccountKind.BANK and bank_profile is None:
        raise BadInput("A bank account needs the profile of its statement exports.", field="bankProfile")
    if kind is not StatementAccountKind.BANK and bank_profile is not None:
        raise BadInput("Only bank accounts have a bank profile.", field="bankProfile")
    if bank_profile is not None:
        _bank_profile(account_name, bank_profile)
    if await session.scalar(
        select(StatementAccount.id).where(StatementAccount.project_id == project_id, StatementAccount.name == account_name)
    ):
        raise BadInput(f"The project already has a statement account {account_name!r}.", field="name")
    account = StatementAccount(
        project_id=project_id,
        name=account_name,
        kind=kind,
        channel=_CHANNEL_OF_KIND[kind],
        terms=terms.checked().as_json(),
        bank_profile=bank_profile,
        created_by=principal.user_id if principal else None,
    )
    session.add(account)
    await session.flush()
    return account


async def list_statement_accounts(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> Sequence[StatementAccount]:
    async with session_factory() as session:
        await reconciled_project(session, principal, project_id)
        return (
            await session.scalars(
                select(StatementAccount).where(StatementAccount.project_id == project_id).order_by(StatementAccount.id)
            )
        ).all()


def parse_fee_rate(value: str | None) -> Decimal | None:
    """A fee rate as typed (0.006 or 0.6%), or BAD_USER_INPUT on terms.feeRate."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        raise BadInput("feeRate is a fraction such as 0.006, or a percentage such as 0.6%.", field="terms.feeRate") from None
