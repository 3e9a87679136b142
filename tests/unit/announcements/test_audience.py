"""Audience rules: who an announcement is for, checked before anything is written, stored and read back
unchanged; residents are those whose occupancy covers the day of publishing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from announcements.audience import MAX_PLACES, Audience, audience_of, occupies_on
from kernel.errors import BadInput
from kernel.principal import Role


def test_the_whole_project_is_every_resident_when_no_place_is_named() -> None:
    audience = audience_of(roles=[Role.OWNER], building_ids=[], unit_ids=[])

    assert audience.whole_project
    assert audience.residents
    assert audience.staff_roles == frozenset()


def test_buildings_and_units_narrow_the_residents_and_staff_roles_come_by_their_grant() -> None:
    audience = audience_of(roles=[Role.OWNER, Role.TECHNICIAN, Role.ADMIN], building_ids=[3, 1, 3], unit_ids=[7])

    assert not audience.whole_project
    assert audience.building_ids == frozenset({1, 3})
    assert audience.unit_ids == frozenset({7})
    assert audience.staff_roles == frozenset({Role.TECHNICIAN, Role.ADMIN})


def test_an_audience_of_staff_alone_reaches_no_resident() -> None:
    audience = audience_of(roles=[Role.DISPATCHER], building_ids=[], unit_ids=[])

    assert not audience.residents
    assert audience.staff_roles == frozenset({Role.DISPATCHER})


def test_an_audience_without_roles_is_refused_naming_the_field() -> None:
    with pytest.raises(BadInput) as refused:
        audience_of(roles=[], building_ids=[], unit_ids=[])

    assert refused.value.field == "audience.roles"


def test_places_without_residents_are_refused_because_staff_live_nowhere() -> None:
    with pytest.raises(BadInput) as refused:
        audience_of(roles=[Role.FINANCE], building_ids=[1], unit_ids=[])

    assert refused.value.field == "audience.buildingIds"
    with pytest.raises(BadInput) as refused:
        audience_of(roles=[Role.FINANCE], building_ids=[], unit_ids=[2])
    assert refused.value.field == "audience.unitIds"


def test_too_many_places_are_refused() -> None:
    with pytest.raises(BadInput) as refused:
        audience_of(roles=[Role.OWNER], building_ids=[], unit_ids=range(1, MAX_PLACES + 2))

    assert refused.value.field == "audience.unitIds"


ids = st.frozensets(st.integers(min_value=1, max_value=2**31 - 1), max_size=20)


@given(
    roles=st.frozensets(st.sampled_from(list(Role)), min_size=1),
    buildings=ids,
    units=ids,
)
def test_an_audience_reads_back_from_storage_as_it_was(
    roles: frozenset[Role], buildings: frozenset[int], units: frozenset[int]
) -> None:
    if Role.OWNER not in roles:
        buildings = units = frozenset()
    audience = audience_of(roles=roles, building_ids=buildings, unit_ids=units)

    assert Audience.from_stored(audience.stored()) == audience


def test_an_occupancy_counts_from_its_first_day_to_its_last() -> None:
    first, last = dt.date(2026, 1, 1), dt.date(2026, 6, 30)

    assert occupies_on(first, last, first)
    assert occupies_on(first, last, last)
    assert not occupies_on(first, last, dt.date(2025, 12, 31))
    assert not occupies_on(first, last, dt.date(2026, 7, 1))
    assert occupies_on(first, None, dt.date(2099, 1, 1))
