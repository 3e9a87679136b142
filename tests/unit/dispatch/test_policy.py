"""Who may see and do what in dispatch, as pure rules over a Principal and plain facts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dispatch.policy import (
    TechnicianView,
    may_follow_ticket,
    may_see_technician,
    may_see_ticket,
    staff_view,
    technician_view,
)
from kernel.principal import Principal, Role

LAKESIDE, HILLSIDE = 1, 2


@dataclass(frozen=True)
class TicketFacts:
    project_id: int = LAKESIDE
    assignee_id: int | None = 7
    reporter_party_id: int | None = 10
    unit_id: int | None = 101


def owner(unit_ids: set[int], party_id: int = 10, project: int = LAKESIDE) -> Principal:
    return Principal(user_id=1, roles={project: frozenset({Role.OWNER})}, party_id=party_id, unit_ids=frozenset(unit_ids))


def staff(*roles: Role, project: int = LAKESIDE) -> Principal:
    return Principal(user_id=2, roles={project: frozenset(roles)})


def technician(technician_id: int = 7) -> Principal:
    return Principal(user_id=3, roles={LAKESIDE: frozenset({Role.TECHNICIAN})}, technician_id=technician_id)


def test_technicians_are_visible_to_staff_and_to_themselves() -> None:
    tech = technician(7)
    assert may_see_technician(tech, project_id=LAKESIDE, technician_id=7)
    assert not may_see_technician(tech, project_id=LAKESIDE, technician_id=8)
    assert may_see_technician(staff(Role.DISPATCHER), project_id=LAKESIDE, technician_id=8)
    assert not may_see_technician(owner({101}), project_id=LAKESIDE, technician_id=8)


@pytest.mark.parametrize(
    ("viewer", "view"),
    [
        (owner({101}), TechnicianView.CONTACT),
        (technician(8), TechnicianView.CONTACT),
        (staff(Role.ADMIN, project=HILLSIDE), TechnicianView.CONTACT),
        (technician(7), TechnicianView.WORK),
        (staff(Role.FINANCE), TechnicianView.WORK),
        (staff(Role.DISPATCHER), TechnicianView.ROSTER),
        (staff(Role.ADMIN), TechnicianView.ROSTER),
    ],
    ids=["owner", "another technician", "staff of another project", "themself", "finance", "dispatcher", "admin"],
)
def test_what_of_a_technician_each_viewer_sees(viewer: Principal, view: TechnicianView) -> None:
    assert technician_view(viewer, project_id=LAKESIDE, technician_id=7) is view


def test_staff_of_one_project_who_own_a_flat_in_another_see_its_technicians_as_an_owner() -> None:
    both = Principal(
        user_id=5,
        roles={HILLSIDE: frozenset({Role.DISPATCHER}), LAKESIDE: frozenset({Role.OWNER})},
        party_id=10,
        unit_ids=frozenset({101}),
    )
    assert technician_view(both, project_id=LAKESIDE, technician_id=7) is TechnicianView.CONTACT
    assert technician_view(both, project_id=HILLSIDE, technician_id=9) is TechnicianView.ROSTER


def test_tickets_are_seen_by_staff_their_assignee_and_their_owners() -> None:
    ticket = TicketFacts()
    assert may_see_ticket(staff(Role.FINANCE), ticket)
    assert may_see_ticket(technician(7), ticket)
    assert not may_see_ticket(technician(8), ticket)
    assert may_see_ticket(owner({101}, party_id=99), ticket)
    assert may_see_ticket(owner(set(), party_id=10), ticket)
    assert not may_see_ticket(owner({102}, party_id=11), ticket)
    assert not may_see_ticket(staff(Role.ADMIN, project=HILLSIDE), ticket)


def test_owners_and_staff_follow_a_ticket_live_and_its_technician_follows_assignments_instead() -> None:
    ticket = TicketFacts()
    assert may_follow_ticket(owner({101}), ticket)
    assert may_follow_ticket(staff(Role.DISPATCHER), ticket)
    assert not may_follow_ticket(technician(7), ticket)


def test_staff_with_the_same_roles_share_one_view_and_anyone_else_has_none() -> None:
    first = Principal(user_id=2, roles={LAKESIDE: frozenset({Role.DISPATCHER}), HILLSIDE: frozenset({Role.ADMIN})})
    second = Principal(user_id=3, roles={LAKESIDE: frozenset({Role.DISPATCHER})})
    shared_first, shared_second = staff_view(first, LAKESIDE), staff_view(second, LAKESIDE)
    assert shared_first is not None and shared_second is not None
    assert shared_first[0] == shared_second[0]
    assert shared_first[1].roles == {LAKESIDE: frozenset({Role.DISPATCHER})}
    assert staff_view(owner({101}), LAKESIDE) is None
    assert staff_view(technician(7), LAKESIDE) is None
