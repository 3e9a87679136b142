"""A project's dispatch settings as its staff read and change them: auto-dispatch, the classifier's triage
threshold, and the SLA promises per priority (the stored shape and its defaults are `dispatch.settings`)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.unit_of_work import unit_of_work
from dispatch.policy import (
    DISPATCH_ADMINS_ONLY,
    DISPATCH_STAFF_ONLY,
    configures_dispatch_in,
    dispatches_in,
)
from dispatch.settings import (
    DispatchSettings,
    InvalidDispatchSettings,
    dispatch_settings,
    settings_document,
)
from kernel.errors import BadInput
from kernel.principal import Principal
from register.projects import get_project_for

__all__ = ["get_dispatch_settings", "update_dispatch_settings"]

# GraphQL names of the settings `InvalidDispatchSettings` may blame; anything else is in the SLA table.
_FIELDS = {
    "auto_dispatch": "autoDispatch",
    "triage_threshold": "triageThreshold",
    "warning_percent": "warningPercent",
}


async def get_dispatch_settings(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> DispatchSettings:
    """The project's dispatch settings, for its dispatchers and admins."""
    async with session_factory() as session:
        project = await get_project_for(
            session, principal, project_id, allowed=dispatches_in, refusal=DISPATCH_STAFF_ONLY
        )
        return dispatch_settings(project.settings)


async def update_dispatch_settings(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    auto_dispatch: bool | None = None,
    triage_threshold: float | None = None,
    warning_percent: int | None = None,
    sla_minutes: Mapping[str, Mapping[str, int]] | None = None,
) -> DispatchSettings:
    """Project admins change auto-dispatch, the triage threshold and the SLA promises; what they leave
    out stays as it is."""
    async with unit_of_work(session_factory) as work:
        project = await get_project_for(
            work.session, principal, project_id, allowed=configures_dispatch_in, refusal=DISPATCH_ADMINS_ONLY
        )
        document = settings_document(dispatch_settings(project.settings))
        if auto_dispatch is not None:
            document["auto_dispatch"] = auto_dispatch
        if triage_threshold is not None:
            document["triage_threshold"] = triage_threshold
        if warning_percent is not None:
            document["warning_percent"] = warning_percent
        for priority, targets in (sla_minutes or {}).items():
            document["sla_minutes"].setdefault(priority, {}).update(targets)
        try:
            settings = dispatch_settings({"dispatch": document})
        except InvalidDispatchSettings as error:
            message = f"{error.message[0].upper()}{error.message[1:]}."
            raise BadInput(message, field=_FIELDS.get(error.field, "sla")) from None
        project.settings = {**(project.settings or {}), "dispatch": settings_document(settings)}
    return settings
