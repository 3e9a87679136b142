"""The project's tax configuration: the invoicing profile, the seller and the tax mapping of every fee
kind, the last two effective-dated like fee rules (rates change: the VAT law took effect on 2026-01-01).

A version is in force from its first day until the next one starts. New versions start today or later
in the project's time zone (days already past keep what they had, and every issued invoice keeps its
own copy of seller and rates); a version starting on the same day as an earlier-set one replaces it.
Issuing reads the versions in force on the day of issue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import FeeRule, InvoiceSellerVersion, InvoicingProfile, Project, TaxMappingVersion
from db.unit_of_work import unit_of_work
from invoicing.credit_code import checked_credit_code
from invoicing.fee_kinds import RESERVED_FEE_KINDS
from invoicing.policy import may_configure_invoicing
from invoicing.providers import PROVIDER_NAMES, SANDBOX
from invoicing.tax import checked_rate
from kernel.errors import BadInput
from kernel.principal import Principal
from kernel.validation import optional_text, required_text
from kernel.vocabulary import TaxTreatment
from register.projects import get_project_for

__all__ = [
    "DEFAULT_DRAWER",
    "InvoicingConfiguration",
    "SellerInput",
    "TaxMappingInput",
    "configured_project",
    "get_invoicing_configuration",
    "mappings_on",
    "profile_of",
    "seller_on",
    "set_invoice_seller",
    "set_invoicing_profile",
    "set_tax_mapping",
]

DEFAULT_DRAWER = "系统"
_DENIED = "Requires one of the roles ADMIN, FINANCE in this project."
_CLASSIFICATION_CODE = re.compile(r"\d{19}")


@dataclass(frozen=True)
class SellerInput:
    name: str
    tax_code: str
    address: str | None = None
    phone: str | None = None
    bank_name: str | None = None
    bank_account: str | None = None
    effective_from: dt.date | None = None


@dataclass(frozen=True)
class TaxMappingInput:
    fee_kind: str
    category: str
    item_name: str
    classification_code: str
    rate: Decimal
    treatment: TaxTreatment
    unit: str | None = None
    effective_from: dt.date | None = None


@dataclass(frozen=True)
class InvoicingConfiguration:
    """A project's profile (None until set) and every version of its seller and tax mappings, oldest first."""

    project: Project
    profile: InvoicingProfile | None
    sellers: Sequence[InvoiceSellerVersion]
    mappings: Sequence[TaxMappingVersion]


async def configured_project(session: AsyncSession, principal: Principal, project_id: int) -> Project:
    """The project, if the caller belongs to it (else NOT_FOUND) and configures its invoicing (else FORBIDDEN)."""
    return await get_project_for(
        session, principal, project_id, allowed=lambda caller, project: may_configure_invoicing(caller, project_id=project), refusal=_DENIED
    )


def _today(project: Project, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(project.timezone)).date()


def _effective_from(project: Project, now: dt.datetime, wanted: dt.date | None) -> dt.date:
    today = _today(project, now)
    day = wanted or today
    if day < today:
        raise BadInput(
            f"effectiveFrom must be today ({today}) or later: days already past keep the configuration they had.",
            field="effectiveFrom",
        )
    return day


async def set_invoicing_profile(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    auto_issue: bool,
    drawer: str | None = None,
    provider: str = SANDBOX,
    sandbox_allowed: bool,
    public_url: str | None = None,
) -> InvoicingProfile:
    """Whether the project issues an invoice by itself after every payment, through which provider, the
    drawer (开票人) its invoices print, and the public address its delivered download links start at
    (http(s)://host[/path], without one the message points to the owner app). The sandbox provider, whose
    numbers are not the tax platform's, is refused where `sandbox_allowed` is false (production)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        await configured_project(session, principal, project_id)
        name = required_text(drawer or DEFAULT_DRAWER, "drawer", max_length=40)
        if provider not in PROVIDER_NAMES:
            raise BadInput(f"provider must be one of {', '.join(sorted(PROVIDER_NAMES))}.", field="provider")
        if provider == SANDBOX and not sandbox_allowed:
            raise BadInput("The sandbox provider issues no real invoices and is off in production.", field="provider")
        profile = await session.get(InvoicingProfile, project_id)
        if profile is None:
            profile = InvoicingProfile(project_id=project_id)
            session.add(profile)
        profile.auto_issue, profile.drawer, profile.provider, profile.updated_by = auto_issue, name, provider, principal.user_id
        profile.public_url = _checked_public_url(public_url)
        await session.flush()
        return profile


_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")


def _checked_public_url(url: str | None) -> str | None:
    text = optional_text(url, "publicUrl", max_length=200)
    if text is None:
        return None
    if not _PUBLIC_URL.fullmatch(text):
        raise BadInput("publicUrl is an http:// or https:// address such as https://wuye.example.com.", field="publicUrl")
    return text.rstrip("/")


async def set_invoice_seller(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    project_id: int,
    seller: SellerInput,
) -> InvoiceSellerVersion:
    """Put the seller (the project's company, 销售方) in force from `seller.effective_from` (today when
    not given) on."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        project = await configured_project(session, principal, project_id)
        values = {
            "name": required_text(seller.name, "name", max_length=100),
            "tax_code": checked_credit_code(seller.tax_code, field="taxCode"),
            "address": optional_text(seller.address, "address", max_length=200),
            "phone": optional_text(seller.phone, "phone", max_length=40),
            "bank_name": optional_text(seller.bank_name, "bankName", max_length=100),
            "bank_account": optional_text(seller.bank_account, "bankAccount", max_length=50),
        }
        day = _effective_from(project, now, seller.effective_from)
        version = await session.scalar(
            select(InvoiceSellerVersion).where(
                InvoiceSellerVersion.project_id == project_id, InvoiceSellerVersion.effective_from == day
            )
        )
        if version is None:
            version = InvoiceSellerVersion(project_id=project_id, effective_from=day)
            session.add(version)
        for attribute, value in values.items():
            setattr(version, attribute, value)
        version.created_by = principal.user_id
        await session.flush()
        return version


async def set_tax_mapping(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    project_id: int,
    mapping: TaxMappingInput,
) -> TaxMappingVersion:
    """Put how one fee kind is invoiced (item, 税收分类编码, rate, treatment) in force from
    `mapping.effective_from` (today when not given) on."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        project = await configured_project(session, principal, project_id)
        fee_kind = await _known_fee_kind(session, project_id, mapping.fee_kind)
        code = "".join((mapping.classification_code or "").split())
        if not _CLASSIFICATION_CODE.fullmatch(code):
            raise BadInput("classificationCode is the 19-digit 税收分类编码.", field="classificationCode")
        values = {
            "category": required_text(mapping.category, "category", max_length=40),
            "item_name": required_text(mapping.item_name, "itemName", max_length=60),
            "classification_code": code,
            "rate": checked_rate(mapping.rate, mapping.treatment, field="rate"),
            "treatment": mapping.treatment,
            "unit": optional_text(mapping.unit, "unit", max_length=20),
        }
        day = _effective_from(project, now, mapping.effective_from)
        version = await session.scalar(
            select(TaxMappingVersion).where(
                TaxMappingVersion.project_id == project_id,
                TaxMappingVersion.fee_kind == fee_kind,
                TaxMappingVersion.effective_from == day,
            )
        )
        if version is None:
            version = TaxMappingVersion(project_id=project_id, fee_kind=fee_kind, effective_from=day)
            session.add(version)
        for attribute, value in values.items():
            setattr(version, attribute, value)
        version.created_by = principal.user_id
        await session.flush()
        return version


async def _known_fee_kind(session: AsyncSession, project_id: int, value: str) -> str:
    """A fee rule's code in the project, or one of invoicing's own fee kinds; a typo is refused rather
    than configured for a fee that never comes."""
    fee_kind = (value or "").strip()
    if fee_kind in RESERVED_FEE_KINDS:
        return fee_kind
    known = await session.scalar(select(FeeRule.id).where(FeeRule.project_id == project_id, FeeRule.code == fee_kind))
    if known is None:
        raise BadInput(
            f"feeKind {fee_kind!r} is neither a fee rule code of this project nor one of {', '.join(sorted(RESERVED_FEE_KINDS))}.",
            field="feeKind",
        )
    return fee_kind


async def get_invoicing_configuration(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> InvoicingConfiguration:
    async with session_factory() as session:
        project = await configured_project(session, principal, project_id)
        sellers = (
            await session.scalars(
                select(InvoiceSellerVersion)
                .where(InvoiceSellerVersion.project_id == project_id)
                .order_by(InvoiceSellerVersion.effective_from)
            )
        ).all()
        mappings = (
            await session.scalars(
                select(TaxMappingVersion)
                .where(TaxMappingVersion.project_id == project_id)
                .order_by(TaxMappingVersion.fee_kind, TaxMappingVersion.effective_from)
            )
        ).all()
        return InvoicingConfiguration(project, await session.get(InvoicingProfile, project_id), sellers, mappings)


# --- steps inside an issuing transaction ------------------------------------------------------------


async def profile_of(session: AsyncSession, project_id: int) -> InvoicingProfile | None:
    return await session.get(InvoicingProfile, project_id)


async def seller_on(session: AsyncSession, project_id: int, day: dt.date) -> InvoiceSellerVersion:
    """The seller in force on `day`; a project without one cannot issue (BAD_USER_INPUT)."""
    seller = await session.scalar(
        select(InvoiceSellerVersion)
        .where(InvoiceSellerVersion.project_id == project_id, InvoiceSellerVersion.effective_from <= day)
        .order_by(InvoiceSellerVersion.effective_from.desc())
        .limit(1)
    )
    if seller is None:
        raise BadInput(f"The project has no seller (销售方) configured for {day}: set it before issuing.", field="projectId")
    return seller


async def mappings_on(session: AsyncSession, project_id: int, day: dt.date) -> dict[str, TaxMappingVersion]:
    """The tax mapping of every fee kind that has one in force on `day`."""
    latest = (
        select(TaxMappingVersion.fee_kind, func.max(TaxMappingVersion.effective_from).label("since"))
        .where(TaxMappingVersion.project_id == project_id, TaxMappingVersion.effective_from <= day)
        .group_by(TaxMappingVersion.fee_kind)
        .subquery()
    )
    rows = await session.scalars(
        select(TaxMappingVersion).join(
            latest,
            (TaxMappingVersion.fee_kind == latest.c.fee_kind) & (TaxMappingVersion.effective_from == latest.c.since),
        ).where(TaxMappingVersion.project_id == project_id)
    )
    return {row.fee_kind: row for row in rows}

