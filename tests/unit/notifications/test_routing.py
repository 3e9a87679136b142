"""Which channels a message tries: the kind's order, narrowed by choices and reach."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kernel.vocabulary import NotificationChannel as C
from notifications.kinds import KINDS, MessageKind
from notifications.routing import Choices, RouteOutcome, choose_route

REMINDER = KINDS[MessageKind.BILL_REMINDER]
SECURITY = KINDS[MessageKind.SECURITY_ALERT]
ALL = frozenset(C)


def test_channels_come_in_the_kinds_priority_order() -> None:
    route = choose_route("BILL_REMINDER", REMINDER, Choices(), ALL)
    assert route.channels == (C.WECHAT, C.SMS, C.EMAIL, C.IN_APP)


def test_a_channel_that_cannot_reach_the_person_is_skipped() -> None:
    route = choose_route("BILL_REMINDER", REMINDER, Choices(), {C.EMAIL, C.IN_APP})
    assert route.channels == (C.EMAIL, C.IN_APP)


def test_the_persons_channels_narrow_the_order_but_do_not_reorder_it() -> None:
    route = choose_route("BILL_REMINDER", REMINDER, Choices(channels=frozenset({C.IN_APP, C.SMS})), ALL)
    assert route.channels == (C.SMS, C.IN_APP)


def test_a_muted_kind_is_disabled_by_the_user() -> None:
    route = choose_route("BILL_REMINDER", REMINDER, Choices(muted_kinds=frozenset({"BILL_REMINDER"})), ALL)
    assert route.outcome is RouteOutcome.DISABLED_BY_USER


def test_a_security_alert_cannot_be_muted_and_falls_back_to_its_own_order() -> None:
    choices = Choices(channels=frozenset({C.WECHAT}), muted_kinds=frozenset({"SECURITY_ALERT"}))
    route = choose_route("SECURITY_ALERT", SECURITY, choices, ALL)
    assert route == choose_route("SECURITY_ALERT", SECURITY, Choices(), ALL)


def test_nobody_reachable_is_unreachable_not_disabled() -> None:
    assert choose_route("BILL_REMINDER", REMINDER, Choices(channels=frozenset()), set()).outcome is RouteOutcome.UNREACHABLE


channel_sets = st.frozensets(st.sampled_from(list(C)))


@given(st.sampled_from(list(MessageKind)), st.none() | channel_sets, st.frozensets(st.sampled_from(list(MessageKind))), channel_sets)
def test_a_route_only_uses_reachable_channels_in_the_kinds_order(
    kind: MessageKind, chosen: frozenset[C] | None, muted: frozenset[MessageKind], reachable: frozenset[C]
) -> None:
    rules = KINDS[kind]
    route = choose_route(kind, rules, Choices(chosen, frozenset(muted)), reachable)
    assert set(route.channels) <= reachable
    assert list(route.channels) == [c for c in rules.channels if c in route.channels]
    if route.outcome is RouteOutcome.SEND:
        assert route.channels
        if not rules.urgent:
            assert kind not in muted and (chosen is None or set(route.channels) <= chosen)
    else:
        assert route.channels == ()
    if rules.urgent and reachable & set(rules.channels):
        assert route.outcome is RouteOutcome.SEND
