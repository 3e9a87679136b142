"""Notifications through GraphQL on both databases: your own inbox only, read marks, your choices,
templates previewed and saved by administrators, the live inbox, SMS receipts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from api.state import AppState
from db.models import DeliveryAttempt, Message
from kernel.vocabulary import MessageStatus, NotificationChannel
from notifications.channels import short_key
from notifications.kinds import MessageKind
from tests.integration.live_client import live_socket
from tests.integration.notification_world import Channels, queue, relay
from tests.integration.world import World, build_world, gid, gql

IN_APP = NotificationChannel.IN_APP
MY_NOTIFICATIONS = (
    "query ($unread: Boolean) { myNotifications(first: 10, unreadOnly: $unread) "
    "{ totalCount unreadCount edges { node { id kind seq title body read payload } } } }"
)
MARK_READ = (
    "mutation ($id: ID!) { markNotificationRead(id: $id) { __typename ... on Notification { id read readAt } "
    "... on Error { code field } } }"
)
PREFERENCES = "{ myNotificationPreferences { channels mutedKinds quietHoursStart quietHoursEnd customQuietHours } }"
UPDATE_PREFERENCES = (
    "mutation ($input: UpdateNotificationPreferencesInput!) { updateMyNotificationPreferences(input: $input) "
    "{ __typename ... on NotificationPreferences { channels mutedKinds quietHoursStart quietHoursEnd } "
    "... on Error { code field } } }"
)
PREVIEW = (
    "query ($p: ID!, $t: NotificationTemplateInput, $payload: JSON) { previewNotificationTemplate(projectId: $p, "
    "kind: OVERDUE_NOTICE, channel: SMS, locale: ZH_CN, template: $t, payload: $payload) { __typename "
    "... on TemplatePreview { version subject body providerParams digest } ... on Error { code field } } }"
)
SAVE = (
    "mutation ($input: NotificationTemplateInput!) { saveNotificationTemplate(input: $input) { __typename "
    "... on NotificationTemplate { version } ... on Error { code field message } } }"
)


@pytest.fixture
async def world(state: AppState) -> World:
    return await build_world(state)


async def deliver_in_app(state: AppState, world: World, *keys_and_parties: tuple[str, str]) -> None:
    for key, party in keys_and_parties:
        await queue(state, world, key, kind=MessageKind.ANNOUNCEMENT, party=party, payload={"title": f"公告 {key}"})
    await relay(state, Channels().senders(IN_APP))


async def test_owners_see_only_their_own_notifications(client: httpx.AsyncClient, state: AppState, world: World) -> None:
    await deliver_in_app(state, world, ("a1", "Party:alice"), ("a2", "Party:alice"), ("b1", "Party:bob"))

    alice = (await gql(client, MY_NOTIFICATIONS, token=world.token("alice")))["data"]["myNotifications"]
    bob = (await gql(client, MY_NOTIFICATIONS, token=world.token("bob")))["data"]["myNotifications"]
    admin = (await gql(client, MY_NOTIFICATIONS, token=world.token("admin_a")))["data"]["myNotifications"]

    assert [edge["node"]["title"] for edge in alice["edges"]] == ["【Lakeside】公告 a2", "【Lakeside】公告 a1"]
    assert [edge["node"]["seq"] for edge in alice["edges"]] == [2, 1]
    assert (alice["totalCount"], alice["unreadCount"]) == (2, 2)
    assert [edge["node"]["body"] for edge in bob["edges"]] == ["公告 b1"]
    assert admin["edges"] == []


async def test_marking_read_is_idempotent_and_someone_elses_is_not_found(
    client: httpx.AsyncClient, state: AppState, world: World, clock: Any
) -> None:
    await deliver_in_app(state, world, ("a1", "Party:alice"))
    alice = (await gql(client, MY_NOTIFICATIONS, token=world.token("alice")))["data"]["myNotifications"]
    notification = alice["edges"][0]["node"]["id"]

    first = (await gql(client, MARK_READ, {"id": notification}, token=world.token("alice")))["data"]["markNotificationRead"]
    clock.advance(minutes=5)
    again = (await gql(client, MARK_READ, {"id": notification}, token=world.token("alice")))["data"]["markNotificationRead"]
    by_bob = (await gql(client, MARK_READ, {"id": notification}, token=world.token("bob")))["data"]["markNotificationRead"]
    malformed = (await gql(client, MARK_READ, {"id": "bm9wZQ=="}, token=world.token("alice")))["data"]["markNotificationRead"]

    assert first["read"] is True and again == first
    assert by_bob == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": "id"}
    assert malformed["code"] == "NOT_FOUND"
    unread = (await gql(client, MY_NOTIFICATIONS, {"unread": True}, token=world.token("alice")))["data"]["myNotifications"]
    assert (unread["edges"], unread["unreadCount"]) == ([], 0)
    node = await gql(client, "query ($id: ID!) { node(id: $id) { id } }", {"id": notification}, token=world.token("bob"))
    assert node["data"]["node"] is None


async def test_preferences_default_change_and_refuse_what_may_not_be(client: httpx.AsyncClient, world: World) -> None:
    token = world.token("alice")
    default = (await gql(client, PREFERENCES, token=token))["data"]["myNotificationPreferences"]
    assert default == {
        "channels": ["IN_APP", "EMAIL", "SMS", "WECHAT"],
        "mutedKinds": [],
        "quietHoursStart": "22:00",
        "quietHoursEnd": "08:00",
        "customQuietHours": False,
    }

    changed = await gql(
        client,
        UPDATE_PREFERENCES,
        {"input": {"channels": ["SMS", "IN_APP"], "mutedKinds": ["ANNOUNCEMENT"], "quietHoursStart": "21:30", "quietHoursEnd": "07:00"}},
        token=token,
    )
    assert changed["data"]["updateMyNotificationPreferences"] == {
        "__typename": "NotificationPreferences",
        "channels": ["IN_APP", "SMS"],
        "mutedKinds": ["ANNOUNCEMENT"],
        "quietHoursStart": "21:30",
        "quietHoursEnd": "07:00",
    }
    for bad, field in (
        ({"quietHoursStart": "25:00", "quietHoursEnd": "07:00"}, "quietHoursStart"),
        ({"quietHoursStart": "21:00"}, "quietHoursEnd"),
        ({"mutedKinds": ["SECURITY_ALERT"]}, "mutedKinds"),
    ):
        refused = await gql(client, UPDATE_PREFERENCES, {"input": bad}, token=token)
        assert refused["data"]["updateMyNotificationPreferences"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": field}
    after = (await gql(client, PREFERENCES, token=token))["data"]["myNotificationPreferences"]
    assert (after["quietHoursStart"], after["customQuietHours"]) == ("21:30", True)
    # bob's are his own
    assert (await gql(client, PREFERENCES, token=world.token("bob")))["data"]["myNotificationPreferences"] == default


async def test_an_admin_previews_a_draft_saves_it_and_the_relay_uses_that_version(
    client: httpx.AsyncClient, state: AppState, world: World
) -> None:
    project = gid("Project", world.ids["Project:lakeside"])
    draft = {
        "projectId": project, "kind": "OVERDUE_NOTICE", "channel": "SMS", "locale": "ZH_CN",
        "body": "{{ project }}提醒：已逾期{{ days_overdue }}天，应缴{{ amount_due | yuan }}",
        "providerTemplate": "SMS_4242", "providerParams": {"days": "{{ days_overdue }}", "amount": "{{ amount_due | yuan }}"},
    }
    admin = world.token("admin_a")

    preview = (await gql(client, PREVIEW, {"p": project, "t": draft, "payload": {"days_overdue": 3}}, token=admin))["data"]
    assert preview["previewNotificationTemplate"]["body"] == "Lakeside提醒：已逾期3天，应缴¥1,234.50"
    assert preview["previewNotificationTemplate"]["providerParams"] == {"days": "3", "amount": "¥1,234.50"}
    built_in = (await gql(client, PREVIEW, {"p": project}, token=admin))["data"]["previewNotificationTemplate"]
    assert built_in["version"] == 0 and "滞纳金¥6.17" in built_in["body"]
    broken = (await gql(client, PREVIEW, {"p": project, "t": {**draft, "body": "{{ nope }}"}}, token=admin))["data"]
    assert broken["previewNotificationTemplate"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": "template.body"}
    foreign = (await gql(client, PREVIEW, {"p": project}, token=world.token("admin_b")))["data"]
    assert foreign["previewNotificationTemplate"] is None
    assert (await gql(client, PREVIEW, {"p": project}, token=world.token("alice")))["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    saved = [(await gql(client, SAVE, {"input": draft}, token=admin))["data"]["saveNotificationTemplate"] for _ in range(2)]
    assert saved == [{"__typename": "NotificationTemplate", "version": 1}, {"__typename": "NotificationTemplate", "version": 2}]

    channels = Channels()
    await queue(state, world, "overdue:1", kind=MessageKind.OVERDUE_NOTICE, payload={
        "amount_due": "300.00", "due_date": "2026-10-31", "days_overdue": 2, "late_fee": "0.90"
    })
    await relay(state, channels.senders())
    (sent,) = channels.sms_gateway.accepted.values()
    assert (sent.request.template_code, dict(sent.request.params)) == ("SMS_4242", {"days": "2", "amount": "¥300.00"})
    async with state.session_factory() as session:
        attempt = await session.scalar(select(DeliveryAttempt))
        assert attempt is not None and attempt.template_version == 2


async def test_the_inbox_is_live_replaying_what_was_missed_then_what_arrives(
    app: Starlette, state: AppState, world: World
) -> None:
    await deliver_in_app(state, world, ("a1", "Party:alice"), ("b1", "Party:bob"))
    subscription = "subscription ($after: Int) { myNotifications(afterSeq: $after) { seq title read } }"
    async with live_socket(app, world.token("alice")) as socket:
        await socket.subscribe(subscription, {"after": 0})
        assert await socket.event() == {"seq": 1, "title": "【Lakeside】公告 a1", "read": False}

        await deliver_in_app(state, world, ("b2", "Party:bob"), ("a2", "Party:alice"))

        assert await socket.event() == {"seq": 2, "title": "【Lakeside】公告 a2", "read": False}
        assert await socket.quiet()


async def test_an_sms_receipt_marks_the_message_delivered_and_a_forged_one_changes_nothing(
    client: httpx.AsyncClient, state: AppState, world: World
) -> None:
    gateway = state.sms_gateways["sandbox"]
    await queue(state, world, "security:1", kind=MessageKind.SECURITY_ALERT)
    await relay(state, dict(state.notification_channels))
    async with state.session_factory() as session:
        message = await session.scalar(select(Message))
        assert message is not None and (message.status, message.channel) == (MessageStatus.SENT, NotificationChannel.SMS)
    body, headers = gateway.receipt(short_key("security:1"))  # type: ignore[attr-defined]

    forged = await client.post("/notifications/sms/receipts/sandbox", content=body, headers={**headers, "x-sandbox-signature": "0" * 64})
    unknown = await client.post("/notifications/sms/receipts/aliyun", content=body, headers=headers)
    accepted = await client.post("/notifications/sms/receipts/sandbox", content=body, headers=headers)
    repeated = await client.post("/notifications/sms/receipts/sandbox", content=body, headers=headers)

    assert (forged.status_code, unknown.status_code, accepted.status_code, repeated.status_code) == (400, 404, 200, 200)
    async with state.session_factory() as session:
        message = await session.scalar(select(Message))
        attempt = await session.scalar(select(DeliveryAttempt))
    assert message is not None and attempt is not None
    assert (message.status, attempt.status.value) == (MessageStatus.DELIVERED, "DELIVERED")


async def test_the_embedded_default_runs_the_relay_in_process(settings: Any, world: World, state: AppState) -> None:
    from asgi_lifespan import LifespanManager

    from api.app import create_app
    from tests.conftest import Clock

    if not settings.database_url.startswith("sqlite"):
        pytest.skip("in-process background jobs are the embedded default's; PostgreSQL runs `courtyard worker`")
    served = create_app(settings, clock=Clock(state.clock()), background_jobs=True)
    async with LifespanManager(served):
        served_state: AppState = served.state.courtyard
        await queue(served_state, world, "announcement:live", kind=MessageKind.ANNOUNCEMENT)
        async with asyncio.timeout(10):
            while True:
                async with served_state.session_factory() as session:
                    message = await session.scalar(select(Message))
                if message is not None and message.status is MessageStatus.DELIVERED:
                    break
                await asyncio.sleep(0.1)
    assert message.inbox_seq == 1
