"""A project's templates: list them, save a new version, and preview one (saved or a draft) rendered with
a sample payload before any message uses it. Administrators of the project only; another project's
answers NOT_FOUND."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import NotificationTemplate, Project
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, NotFound
from kernel.principal import Principal
from kernel.vocabulary import Locale, NotificationChannel
from notifications.default_templates import default_template
from notifications.kinds import KINDS, MessageKind
from notifications.policy import may_edit_templates
from notifications.rendering import Rendered, TemplateFailed, TemplateText, check_template, render

__all__ = ["Draft", "Preview", "current_template", "list_templates", "preview_template", "sample_payload", "save_template"]


@dataclass(frozen=True)
class Draft:
    kind: MessageKind
    channel: NotificationChannel
    locale: Locale
    body: str
    subject: str | None = None
    provider_template: str | None = None
    provider_params: Mapping[str, str] | None = None

    def text(self, version: int = 0) -> TemplateText:
        return TemplateText(
            body=self.body,
            subject=self.subject,
            provider_template=self.provider_template,
            provider_params=dict(self.provider_params or {}),
            version=version,
        )


@dataclass(frozen=True)
class Preview:
    rendered: Rendered
    payload: Mapping[str, Any]


def sample_payload(kind: MessageKind) -> dict[str, Any]:
    """Believable values for a kind's required fields, for previews."""
    samples = {
        "amount": "120.00",
        "amount_due": "1234.50",
        "due_date": "2026-11-30",
        "days_overdue": 12,
        "late_fee": "6.17",
        "receipt_number": "R-2026-000123",
        "event": "修改了密码",
        "title": "停水通知",
        "ticket": "T-1024",
        "unit": "1栋-0101",
        "owner": "王丽",
    }
    return {name: samples.get(name, name) for name in sorted(KINDS[kind].required)}


async def _administered(session: AsyncSession, principal: Principal, project_id: int) -> Project:
    project = await session.get(Project, project_id)
    if project is None or not may_edit_templates(principal, project_id):
        raise NotFound(f"No project {project_id}.", field="projectId")
    return project


async def list_templates(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> list[NotificationTemplate]:
    """Every saved version of the project's templates, newest version of each first."""
    async with session_factory() as session:
        await _administered(session, principal, project_id)
        rows = await session.scalars(
            select(NotificationTemplate)
            .where(NotificationTemplate.project_id == project_id)
            .order_by(NotificationTemplate.kind, NotificationTemplate.channel, NotificationTemplate.locale, NotificationTemplate.version.desc())
        )
        return list(rows.all())


async def save_template(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    draft: Draft,
    now: dt.datetime,
) -> NotificationTemplate:
    """Store the draft as the next version of its kind, channel and locale, once it renders with the
    kind's sample payload. Messages from now on use it; those sent keep the version they were sent with."""
    async with unit_of_work(session_factory) as work:
        project = await _administered(work.session, principal, project_id)
        _checked(draft.text(), draft.kind, project.name, draft.locale)
        latest = await work.session.scalar(
            select(func.max(NotificationTemplate.version)).where(
                NotificationTemplate.project_id == project_id,
                NotificationTemplate.kind == draft.kind.value,
                NotificationTemplate.channel == draft.channel,
                NotificationTemplate.locale == draft.locale,
            )
        )
        row = NotificationTemplate(
            project_id=project_id,
            kind=draft.kind.value,
            channel=draft.channel,
            locale=draft.locale,
            version=int(latest or 0) + 1,
            subject=draft.subject,
            body=draft.body,
            provider_template=draft.provider_template,
            provider_params=dict(draft.provider_params or {}),
            created_by=principal.user_id,
            created_at=now,
        )
        work.session.add(row)
        await work.session.flush()
        return row


async def preview_template(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    kind: MessageKind,
    channel: NotificationChannel,
    locale: Locale,
    draft: Draft | None,
    payload: Mapping[str, Any] | None,
) -> Preview:
    """The draft, or else what a message of `kind` on `channel` in `locale` would use now (the project's
    newest version or the built-in text), rendered with `payload` or the kind's sample."""
    async with session_factory() as session:
        project = await _administered(session, principal, project_id)
        text = draft.text() if draft is not None else await current_template(session, project_id, kind, channel, locale)
    values = {**sample_payload(kind), **(payload or {})}
    return Preview(_checked(text, kind, project.name, locale, values), values)


async def current_template(
    session: AsyncSession, project_id: int, kind: MessageKind, channel: NotificationChannel, locale: Locale
) -> TemplateText:
    """What a message uses now: the project's newest version for the kind, channel and locale, else the
    built-in text."""
    stored = await session.scalar(
        select(NotificationTemplate)
        .where(
            NotificationTemplate.project_id == project_id,
            NotificationTemplate.kind == kind.value,
            NotificationTemplate.channel == channel,
            NotificationTemplate.locale == locale,
        )
        .order_by(NotificationTemplate.version.desc())
        .limit(1)
    )
    if stored is None:
        return default_template(kind, locale)
    return TemplateText(
        body=stored.body,
        subject=stored.subject,
        provider_template=stored.provider_template,
        provider_params=dict(stored.provider_params or {}),
        version=stored.version,
    )


def _checked(
    text: TemplateText, kind: MessageKind, project: str, locale: Locale, payload: Mapping[str, Any] | None = None
) -> Rendered:
    try:
        check_template(text)
        return render(text, {**(payload or sample_payload(kind)), "project": project}, locale)
    except TemplateFailed as failure:
        raise BadInput(failure.message, field=f"template.{failure.field}") from None
