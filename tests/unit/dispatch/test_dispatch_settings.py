"""Specification of a project's dispatch settings (dispatch/settings.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.settings import (
    DispatchSettings,
    InvalidDispatchSettings,
    dispatch_settings,
    settings_document,
)
from dispatch.sla import DEFAULT_SLA_POLICY
from kernel.vocabulary import Priority


def test_a_project_without_settings_auto_dispatches_with_the_default_promises() -> None:
    assert dispatch_settings({}) == DispatchSettings(
        auto_dispatch=True, triage_threshold=0.75, sla_policy=DEFAULT_SLA_POLICY
    )
    assert dispatch_settings(None) == dispatch_settings({"dispatch": {}})


def test_named_priorities_override_only_the_minutes_given() -> None:
    settings = dispatch_settings(
        {"dispatch": {"auto_dispatch": False, "warning_percent": 75, "sla_minutes": {"URGENT": {"respond": 5}}}}
    )
    urgent = settings.sla_policy.targets_for(Priority.URGENT)
    assert (settings.auto_dispatch, settings.sla_policy.warning_percent) == (False, 75)
    assert (urgent.respond, urgent.on_site, urgent.resolve) == (
        timedelta(minutes=5),
        timedelta(hours=1),
        timedelta(hours=4),
    )
    assert settings.sla_policy.targets_for(Priority.LOW) == DEFAULT_SLA_POLICY.low


def test_the_document_reads_back_to_the_same_settings() -> None:
    settings = dispatch_settings({"dispatch": {"triage_threshold": 0.55, "sla_minutes": {"LOW": {"respond": 240}}}})
    document = settings_document(settings)
    assert document["sla_minutes"]["LOW"] == {"respond": 240, "on_site": 1440, "resolve": 4320}
    assert dispatch_settings({"dispatch": document}) == settings


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"auto_dispatch": "yes"}, "auto_dispatch"),
        ({"triage_threshold": 1.5}, "triage_threshold"),
        ({"triage_threshold": True}, "triage_threshold"),
        ({"warning_percent": 100}, "warning_percent"),
        ({"sla_minutes": {"SOMETIMES": {"respond": 5}}}, "sla_minutes"),
        ({"sla_minutes": {"HIGH": {"respond": 0}}}, "sla_minutes.HIGH.respond"),
        ({"sla_minutes": {"HIGH": {"respond": 300}}}, "sla_minutes.HIGH"),
        ({"sla_minutes": {"HIGH": {"respond": 5, "lunch": 60}}}, "sla_minutes.HIGH"),
    ],
)
def test_unusable_settings_name_the_offending_key(raw: dict, field: str) -> None:
    with pytest.raises(InvalidDispatchSettings) as refused:
        dispatch_settings({"dispatch": raw})
    assert refused.value.field == field
