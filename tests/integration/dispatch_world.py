"""The test world of `world.py` plus what repair dispatch needs: more technicians, and GraphQL helpers.

Lakeside's technicians (buildings A1 at 30.2700,120.1500 and A2 at 30.2710,120.1510):
- `Technician:a` 陈师傅 (login tech_a): PLUMBING, ELECTRICAL, at A1, capacity 3 (from world.py)
- `Technician:far` 周师傅 (login tech_far): PLUMBING, about 5.4 km north-east, capacity 2
- `Technician:hvac` 吴师傅 (login tech_hvac): HVAC, APPLIANCE, at A2, capacity 2
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState
from db.models import LocationKind, RoleGrant, Technician, Ticket, User
from kernel.principal import Role
from kernel.vocabulary import Category, Priority, TicketStatus
from tests.conftest import START
from tests.integration.world import _PASSWORD_HASH, World, build_world, gql

__all__ = [
    "TICKET_FIELDS",
    "build_dispatch_world",
    "insert_ticket",
    "submit",
    "transition",
]

TICKET_FIELDS = """
    id status category priority version description locationKind slaState allowedActions
    classifierConfidence classifierEvidence
    assignee { id name }
    respondDueAt onSiteDueAt resolveDueAt
"""

SUBMIT = f"""
mutation Submit($input: SubmitTicketInput!) {{
  submitTicket(input: $input) {{
    __typename
    ... on Ticket {{ {TICKET_FIELDS} }}
    ... on Error {{ code message field }}
  }}
}}
"""

TRANSITION = f"""
mutation Move($id: ID!, $action: TicketAction!, $version: Int, $note: String, $details: TransitionDetailsInput) {{
  transitionTicket(ticketId: $id, action: $action, expectedVersion: $version, note: $note, details: $details) {{
    __typename
    ... on Ticket {{ {TICKET_FIELDS} }}
    ... on Error {{ code message field }}
  }}
}}
"""


async def build_dispatch_world(state: AppState) -> World:
    world = await build_world(state)
    lakeside = world.ids["Project:lakeside"]
    async with state.session_factory() as session, session.begin():
        far = Technician(
            project_id=lakeside,
            name="周师傅",
            skills=["PLUMBING"],
            home_latitude=30.31,
            home_longitude=120.18,
            current_latitude=30.31,
            current_longitude=120.18,
            capacity=2,
        )
        hvac = Technician(
            project_id=lakeside,
            name="吴师傅",
            skills=["APPLIANCE", "HVAC"],
            home_latitude=30.2710,
            home_longitude=120.1510,
            current_latitude=30.2710,
            current_longitude=120.1510,
            capacity=2,
        )
        session.add_all([far, hvac])
        await session.flush()
        for name, technician in (("tech_far", far), ("tech_hvac", hvac)):
            user = User(
                email=f"{name}@example.test",
                display_name=name,
                password_hash=_PASSWORD_HASH,
                technician_id=technician.id,
            )
            session.add(user)
            await session.flush()
            session.add(RoleGrant(user_id=user.id, project_id=lakeside, role=Role.TECHNICIAN))
            world.users[name] = user.id
        world.ids["Technician:far"] = far.id
        world.ids["Technician:hvac"] = hvac.id
    return world


async def insert_ticket(session: AsyncSession, project_id: int, **overrides: Any) -> int:
    """A bare NEW common-area ticket written directly, for tests below the API."""
    values: dict[str, Any] = {
        "project_id": project_id,
        "location_kind": LocationKind.LOBBY,
        "description": "lobby light flickers",
        "category": Category.ELECTRICAL,
        "priority": Priority.NORMAL,
        "status": TicketStatus.NEW,
        "created_at": START,
        "updated_at": START,
        "sla_started_at": START,
        "respond_due_at": START + dt.timedelta(minutes=30),
        "on_site_due_at": START + dt.timedelta(hours=2),
        "resolve_due_at": START + dt.timedelta(hours=24),
        "version": 1,
    }
    values.update(overrides)
    ticket = Ticket(**values)
    session.add(ticket)
    await session.flush()
    return ticket.id


async def submit(client: httpx.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    """`submitTicket` with the given input fields; answers the mutation's result object."""
    result = await gql(client, SUBMIT, {"input": fields}, token=token)
    assert "errors" not in result, result
    return result["data"]["submitTicket"]  # type: ignore[no-any-return]


async def report_trapped_in_lift(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """Bob reports someone trapped in building A2's lift: a common-area ticket, with no unit."""
    return await submit(
        client,
        world.token("bob"),
        projectId=world.gid("Project:lakeside"),
        locationKind="LIFT",
        buildingId=world.gid("Building:a2"),
        description="电梯困人了！",
    )


async def transition(
    client: httpx.AsyncClient,
    token: str,
    ticket_id: str,
    action: str,
    *,
    version: int | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`transitionTicket`; answers the whole response (data and errors), since FORBIDDEN is top-level."""
    variables = {"id": ticket_id, "action": action, "version": version, "note": note, "details": details}
    return await gql(client, TRANSITION, variables, token=token)
