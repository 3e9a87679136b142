"""A project's dispatch settings, read from (and written to) the `dispatch` key of its settings JSON.

Pure: plain dictionaries in, a frozen `DispatchSettings` out. Missing keys take the defaults: auto-dispatch
on, the classifier's triage threshold, and the default SLA policy of `dispatch.sla`. The stored shape is

    {"auto_dispatch": true, "triage_threshold": 0.75, "warning_percent": 80,
     "sla_minutes": {"URGENT": {"respond": 10, "on_site": 60, "resolve": 240}, ...}}

where `sla_minutes` may name only the priorities that differ from the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from dispatch.classifier import DEFAULT_TRIAGE_THRESHOLD
from dispatch.sla import DEFAULT_SLA_POLICY, SlaPolicy, SlaTargets
from kernel.vocabulary import Priority

__all__ = ["DispatchSettings", "InvalidDispatchSettings", "dispatch_settings", "settings_document"]

_POLICY_FIELDS = {Priority.URGENT: "urgent", Priority.HIGH: "high", Priority.NORMAL: "normal", Priority.LOW: "low"}


class InvalidDispatchSettings(ValueError):
    """Settings that cannot be used; `field` names the offending key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DispatchSettings:
    auto_dispatch: bool = True
    triage_threshold: float = DEFAULT_TRIAGE_THRESHOLD
    sla_policy: SlaPolicy = DEFAULT_SLA_POLICY

    def __post_init__(self) -> None:
        if not 0.0 <= self.triage_threshold <= 1.0:
            raise InvalidDispatchSettings("triage_threshold", "must lie between 0 and 1")


def _minutes(value: Any, field: str) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidDispatchSettings(field, "must be a positive whole number of minutes")
    return timedelta(minutes=value)


def _targets(raw: Any, default: SlaTargets, field: str) -> SlaTargets:
    if not isinstance(raw, Mapping):
        raise InvalidDispatchSettings(field, "must be an object with respond, on_site and resolve minutes")
    unknown = set(raw) - {"respond", "on_site", "resolve"}
    if unknown:
        raise InvalidDispatchSettings(field, f"unknown key(s) {', '.join(sorted(unknown))}")
    try:
        return SlaTargets(
            respond=_minutes(raw["respond"], f"{field}.respond") if "respond" in raw else default.respond,
            on_site=_minutes(raw["on_site"], f"{field}.on_site") if "on_site" in raw else default.on_site,
            resolve=_minutes(raw["resolve"], f"{field}.resolve") if "resolve" in raw else default.resolve,
        )
    except ValueError as error:
        if isinstance(error, InvalidDispatchSettings):
            raise
        raise InvalidDispatchSettings(field, str(error)) from None


def dispatch_settings(project_settings: Mapping[str, Any] | None) -> DispatchSettings:
    """The dispatch settings stored in a project's settings JSON (defaults for whatever is absent)."""
    raw = (project_settings or {}).get("dispatch") or {}
    if not isinstance(raw, Mapping):
        raise InvalidDispatchSettings("dispatch", "must be an object")
    auto_dispatch = raw.get("auto_dispatch", True)
    if not isinstance(auto_dispatch, bool):
        raise InvalidDispatchSettings("auto_dispatch", "must be true or false")
    threshold = raw.get("triage_threshold", DEFAULT_TRIAGE_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise InvalidDispatchSettings("triage_threshold", "must be a number between 0 and 1")
    policy = DEFAULT_SLA_POLICY
    warning = raw.get("warning_percent", policy.warning_percent)
    if isinstance(warning, bool) or not isinstance(warning, int) or not 1 <= warning <= 99:
        raise InvalidDispatchSettings("warning_percent", "must be a whole number from 1 to 99")
    policy = replace(policy, warning_percent=warning)
    sla_minutes = raw.get("sla_minutes") or {}
    if not isinstance(sla_minutes, Mapping):
        raise InvalidDispatchSettings("sla_minutes", "must be an object keyed by priority")
    for key, targets in sla_minutes.items():
        try:
            priority = Priority(key)
        except ValueError:
            raise InvalidDispatchSettings("sla_minutes", f"unknown priority {key!r}") from None
        name = _POLICY_FIELDS[priority]
        policy = replace(policy, **{name: _targets(targets, getattr(policy, name), f"sla_minutes.{key}")})
    return DispatchSettings(auto_dispatch=auto_dispatch, triage_threshold=float(threshold), sla_policy=policy)


def settings_document(settings: DispatchSettings) -> dict[str, Any]:
    """The JSON shape `dispatch_settings` reads back, with every priority written out."""
    policy = settings.sla_policy
    return {
        "auto_dispatch": settings.auto_dispatch,
        "triage_threshold": settings.triage_threshold,
        "warning_percent": policy.warning_percent,
        "sla_minutes": {
            priority.value: {
                "respond": int(targets.respond.total_seconds()) // 60,
                "on_site": int(targets.on_site.total_seconds()) // 60,
                "resolve": int(targets.resolve.total_seconds()) // 60,
            }
            for priority in Priority
            for targets in (policy.targets_for(priority),)
        },
    }
