"""Who may see what, as pure rules over a Principal."""

from __future__ import annotations

from kernel.principal import Principal, Role
from register.policy import may_see_party, may_see_personal_data, may_see_unit

LAKESIDE, HILLSIDE = 1, 2


def owner(unit_ids: set[int], party_id: int = 10) -> Principal:
    return Principal(user_id=1, roles={LAKESIDE: frozenset({Role.OWNER})}, party_id=party_id, unit_ids=frozenset(unit_ids))


def staff(*roles: Role, project: int = LAKESIDE) -> Principal:
    return Principal(user_id=2, roles={project: frozenset(roles)})


def test_an_owner_sees_only_the_units_they_occupy() -> None:
    alice = owner({101})
    assert may_see_unit(alice, project_id=LAKESIDE, unit_id=101)
    assert not may_see_unit(alice, project_id=LAKESIDE, unit_id=102)


def test_staff_and_technicians_see_every_unit_of_their_project_only() -> None:
    for role in (Role.ADMIN, Role.FINANCE, Role.DISPATCHER, Role.TECHNICIAN):
        person = staff(role)
        assert may_see_unit(person, project_id=LAKESIDE, unit_id=555)
        assert not may_see_unit(person, project_id=HILLSIDE, unit_id=555)


def test_personal_data_is_unmasked_for_project_admins_and_the_person_only() -> None:
    assert may_see_personal_data(staff(Role.ADMIN), project_id=LAKESIDE, party_id=10)
    assert not may_see_personal_data(staff(Role.ADMIN, project=HILLSIDE), project_id=LAKESIDE, party_id=10)
    assert not may_see_personal_data(staff(Role.FINANCE, Role.DISPATCHER), project_id=LAKESIDE, party_id=10)
    assert may_see_personal_data(owner({101}, party_id=10), project_id=LAKESIDE, party_id=10)
    assert not may_see_personal_data(owner({101}, party_id=10), project_id=LAKESIDE, party_id=11)


def test_parties_are_visible_to_staff_of_their_project_and_to_themselves() -> None:
    assert may_see_party(staff(Role.FINANCE), project_id=LAKESIDE, party_id=11)
    assert not may_see_party(staff(Role.TECHNICIAN), project_id=LAKESIDE, party_id=11)
    assert may_see_party(owner(set(), party_id=11), project_id=LAKESIDE, party_id=11)
    assert not may_see_party(owner(set(), party_id=11), project_id=LAKESIDE, party_id=12)


def test_roles_are_per_project() -> None:
    person = Principal(user_id=4, roles={LAKESIDE: frozenset({Role.ADMIN}), HILLSIDE: frozenset({Role.OWNER})})
    assert person.has_role(LAKESIDE, Role.ADMIN)
    assert not person.has_role(HILLSIDE, Role.ADMIN)
    assert person.projects_with(Role.ADMIN) == {LAKESIDE}
    assert person.staff_project_ids == {LAKESIDE}
    assert person.holds_any([Role.OWNER]) and not person.holds_any([Role.FINANCE])
