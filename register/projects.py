"""Projects: the communities, malls and parks an organization manages, and the lookup every domain uses to
reach one of them with a role there."""

from __future__ import annotations

import re
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Project, RoleGrant
from db.uniqueness import taken_by_another
from db.unit_of_work import unit_of_work
from kernel.errors import AccessDenied, BadInput, Conflict, NotFound
from kernel.principal import Principal, Role
from kernel.validation import required_text
from kernel.vocabulary import Locale
from register.policy import (
    REGISTER_ADMINS_ONLY,
    administered_projects,
    may_administer_project,
    may_see_project,
)

__all__ = ["create_project", "get_project_for", "update_project"]

_CURRENCY = re.compile(r"[A-Z]{3}")


async def get_project_for(
    session: AsyncSession,
    principal: Principal,
    project_id: int,
    *,
    allowed: Callable[[Principal, int], bool],
    refusal: str,
    field: str = "projectId",
) -> Project:
    """The project, if the caller belongs to it (else NOT_FOUND) and the domain policy's `allowed` lets
    them do what they ask there (else FORBIDDEN with `refusal`); a step inside the caller's transaction."""
    project = await session.get(Project, project_id)
    if project is None or not may_see_project(principal, project_id):
        raise NotFound("No such project.", field=field)
    if not allowed(principal, project_id):
        raise AccessDenied(refusal)
    return project


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"Unknown time zone {value!r}; use an IANA name such as Asia/Shanghai.", field="timezone") from None
    return value


def _currency(value: str) -> str:
    if not _CURRENCY.fullmatch(value):
        raise BadInput("Currency must be a three-letter ISO 4217 code such as CNY.", field="currency")
    return value


async def _check_name_free(session: AsyncSession, organization_id: int, name: str, exclude: int | None) -> None:
    if await taken_by_another(
        session, Project.id, Project.organization_id == organization_id, Project.name == name, exclude=exclude
    ):
        raise Conflict(f"A project named {name!r} already exists.", field="name")


async def create_project(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    name: str,
    timezone: str,
    currency: str,
    organization_id: int | None,
    locale: Locale = Locale.ZH_CN,
) -> Project:
    """A new project in an organization where the caller is an admin; the caller becomes its admin."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        organizations = set(
            await session.scalars(
                select(Project.organization_id).where(Project.id.in_(sorted(administered_projects(principal))))
            )
        )
        if not organizations:
            raise AccessDenied("Requires the ADMIN role in a project of the organization.")
        if organization_id is None:
            if len(organizations) > 1:
                raise BadInput("You administer several organizations: name one.", field="organizationId")
            organization_id = organizations.pop()
        elif organization_id not in organizations:
            raise NotFound("No such organization.", field="organizationId")
        name = required_text(name, "name", max_length=200)
        await _check_name_free(session, organization_id, name, exclude=None)
        project = Project(
            organization_id=organization_id,
            name=name,
            timezone=_timezone(timezone),
            currency=_currency(currency),
            locale=locale,
            settings={},
        )
        session.add(project)
        await session.flush()
        session.add(RoleGrant(user_id=principal.user_id, project_id=project.id, role=Role.ADMIN))
    return project


async def update_project(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    name: str | None = None,
    timezone: str | None = None,
    currency: str | None = None,
    locale: Locale | None = None,
) -> Project:
    """Rename a project or change its time zone, currency or the locale its owners read; project admins only."""
    async with unit_of_work(session_factory) as work:
        project = await get_project_for(
            work.session,
            principal,
            project_id,
            allowed=may_administer_project,
            refusal=REGISTER_ADMINS_ONLY,
            field="id",
        )
        if name is not None:
            name = required_text(name, "name", max_length=200)
            await _check_name_free(work.session, project.organization_id, name, exclude=project.id)
            project.name = name
        if timezone is not None:
            project.timezone = _timezone(timezone)
        if currency is not None:
            project.currency = _currency(currency)
        if locale is not None:
            project.locale = locale
    return project
