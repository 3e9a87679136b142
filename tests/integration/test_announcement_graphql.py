"""Announcements through GraphQL on both databases: admins write, publish and recall them; staff see the
counters and who has not read; each person sees only those published to them; reads count once; the
counters are live for the project's staff and for nobody else."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.state import AppState
from tests.conftest import Clock
from tests.integration.live_client import live_socket
from tests.integration.world import World, build_world, error_codes, gid, gql

RESULT = "__typename ... on Error { code field message }"
FIELDS = (
    "id title body status read readAt audience { roles wholeProject buildingIds unitIds } "
    "counters { recipients read unread } reminders { afterHours limit sent nextAt }"
)
CREATE = f"mutation ($input: CreateAnnouncementInput!) {{ createAnnouncement(input: $input) {{ {RESULT} ... on Announcement {{ {FIELDS} }} }} }}"
UPDATE = f"mutation ($input: UpdateAnnouncementInput!) {{ updateAnnouncement(input: $input) {{ {RESULT} ... on Announcement {{ {FIELDS} }} }} }}"
PUBLISH = f"mutation ($id: ID!) {{ publishAnnouncement(id: $id) {{ {RESULT} ... on Announcement {{ {FIELDS} }} }} }}"
RECALL = f"mutation ($id: ID!, $reason: String) {{ recallAnnouncement(id: $id, reason: $reason) {{ {RESULT} ... on Announcement {{ status }} }} }}"
MARK_READ = f"mutation ($id: ID!) {{ markAnnouncementRead(id: $id) {{ {RESULT} ... on Announcement {{ id read counters {{ read }} }} }} }}"
LIST = (
    "query ($p: ID!, $status: AnnouncementStatus) { announcements(projectId: $p, status: $status, first: 10) "
    "{ totalCount edges { node { id title status counters { recipients read unread } } } } }"
)
DETAIL = (
    "query ($id: ID!, $read: Boolean) { node(id: $id) { ... on Announcement { title status counters { recipients read unread } "
    "recipients(read: $read, first: 10) { totalCount edges { node { name resident readAt } } } } } }"
)
MINE = (
    "query ($unread: Boolean!) { myAnnouncements(first: 10, unreadOnly: $unread) { totalCount unreadCount "
    "edges { node { id title read audience { roles } counters { read } recipients(first: 5) { totalCount } } } } }"
)
COUNTERS = "subscription ($id: ID!) { announcementCounters(announcementId: $id) { announcementId status recipients read unread } }"


@pytest.fixture
async def world(state: AppState) -> World:
    return await build_world(state)


async def call(client: httpx.AsyncClient, world: World, user: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    result = await gql(client, document, variables, token=world.token(user))
    assert "errors" not in result, result
    (value,) = result["data"].values()
    return value  # type: ignore[no-any-return]


async def published(client: httpx.AsyncClient, world: World, **audience: Any) -> str:
    created = await call(
        client,
        world,
        "admin_a",
        CREATE,
        {"input": {"projectId": world.gid("Project:lakeside"), "title": "停水通知", "body": "11月5日 9:00–17:00 停水。", "audience": audience}},
    )
    assert created["__typename"] == "Announcement", created
    done = await call(client, world, "admin_a", PUBLISH, {"id": created["id"]})
    assert done["status"] == "PUBLISHED", done
    return str(created["id"])


async def test_an_admin_drafts_changes_and_publishes_and_staff_see_the_counters(client: httpx.AsyncClient, world: World) -> None:
    created = await call(
        client,
        world,
        "admin_a",
        CREATE,
        {
            "input": {
                "projectId": world.gid("Project:lakeside"),
                "title": " 停水通知 ",
                "body": "11月5日停水。",
                "audience": {"buildingIds": [world.gid("Building:a2")]},
                "reminders": {"afterHours": 12, "limit": 3},
            }
        },
    )
    assert (created["title"], created["status"], created["counters"]) == ("停水通知", "DRAFT", {"recipients": 0, "read": 0, "unread": 0})
    assert created["audience"] == {"roles": ["OWNER"], "wholeProject": False, "buildingIds": [world.gid("Building:a2")], "unitIds": []}

    changed = await call(
        client, world, "admin_a", UPDATE, {"input": {"id": created["id"], "audience": {"roles": ["OWNER", "TECHNICIAN"]}}}
    )
    assert changed["audience"]["roles"] == ["TECHNICIAN", "OWNER"] and changed["audience"]["wholeProject"]
    done = await call(client, world, "admin_a", PUBLISH, {"id": created["id"]})
    assert done["counters"] == {"recipients": 3, "read": 0, "unread": 3}
    assert done["reminders"] == {"afterHours": 12, "limit": 3, "sent": 0, "nextAt": "2026-11-02T21:00:00+00:00"}

    for staff in ("admin_a", "finance_a", "dispatcher_a"):
        listed = await call(client, world, staff, LIST, {"p": world.gid("Project:lakeside")})
        assert listed["totalCount"] == 1
        assert listed["edges"][0]["node"]["counters"] == {"recipients": 3, "read": 0, "unread": 3}
    assert (await call(client, world, "admin_b", LIST, {"p": world.gid("Project:lakeside")}))["edges"] == []
    assert error_codes(await gql(client, LIST, {"p": world.gid("Project:lakeside")}, token=world.token("alice"))) == ["FORBIDDEN"]


async def test_the_detail_names_who_has_not_read_and_reads_count_once(client: httpx.AsyncClient, world: World) -> None:
    announcement = await published(client, world)

    first = await call(client, world, "alice", MARK_READ, {"id": announcement})
    again = await call(client, world, "alice", MARK_READ, {"id": announcement})

    assert first == again == {"__typename": "Announcement", "id": announcement, "read": True, "counters": None}
    detail = await call(client, world, "admin_a", DETAIL, {"id": announcement, "read": False})
    assert detail["counters"] == {"recipients": 2, "read": 1, "unread": 1}
    assert detail["recipients"] == {"totalCount": 1, "edges": [{"node": {"name": "李强", "resident": True, "readAt": None}}]}
    readers = await call(client, world, "finance_a", DETAIL, {"id": announcement, "read": True})
    assert [edge["node"]["name"] for edge in readers["recipients"]["edges"]] == ["王丽"]


async def test_owners_see_only_what_was_published_to_them_without_the_staff_fields(client: httpx.AsyncClient, world: World) -> None:
    to_everyone = await published(client, world)
    to_bob = await published(client, world, unitIds=[world.gid("Unit:bob")])

    alice = await call(client, world, "alice", MINE, {"unread": False})
    bob = await call(client, world, "bob", MINE, {"unread": True})
    carol = await call(client, world, "carol", MINE, {"unread": False})

    assert [edge["node"]["id"] for edge in alice["edges"]] == [to_everyone]
    assert alice["edges"][0]["node"] == {"id": to_everyone, "title": "停水通知", "read": False, "audience": None, "counters": None, "recipients": None}
    assert [edge["node"]["id"] for edge in bob["edges"]] == [to_bob, to_everyone] and bob["unreadCount"] == 2
    assert carol == {"totalCount": 0, "unreadCount": 0, "edges": []}
    node = "query ($id: ID!) { node(id: $id) { id } }"
    assert (await call(client, world, "alice", node, {"id": to_bob})) is None
    assert (await call(client, world, "carol", node, {"id": to_everyone})) is None
    assert (await call(client, world, "bob", node, {"id": to_bob})) == {"id": to_bob}


async def test_someone_elses_or_another_projects_id_answers_not_found(client: httpx.AsyncClient, world: World) -> None:
    to_bob = await published(client, world, unitIds=[world.gid("Unit:bob")])
    draft = await call(
        client, world, "admin_a", CREATE,
        {"input": {"projectId": world.gid("Project:lakeside"), "title": "草稿", "body": "未发布", "audience": {}}},
    )

    answers = {
        "alice reads bob's": await call(client, world, "alice", MARK_READ, {"id": to_bob}),
        "bob reads a draft": await call(client, world, "bob", MARK_READ, {"id": draft["id"]}),
        "admin_b publishes": await call(client, world, "admin_b", PUBLISH, {"id": draft["id"]}),
        "admin_b recalls": await call(client, world, "admin_b", RECALL, {"id": to_bob}),
        "admin_b changes": await call(client, world, "admin_b", UPDATE, {"input": {"id": draft["id"], "title": "改"}}),
        "a unit of Hillside": await call(
            client, world, "admin_a", UPDATE, {"input": {"id": draft["id"], "audience": {"unitIds": [world.gid("Unit:carol")]}}}
        ),
        "a ticket's ID": await call(client, world, "alice", MARK_READ, {"id": gid("Ticket", 1)}),
    }

    assert {name: (value["__typename"], value["code"]) for name, value in answers.items()} == {
        name: ("NotFoundError", "NOT_FOUND") for name in answers
    }
    assert answers["a unit of Hillside"]["field"] == "audience.unitIds"


async def test_bad_input_names_the_field_and_a_published_one_cannot_change(client: httpx.AsyncClient, world: World) -> None:
    announcement = await published(client, world)
    create = {"projectId": world.gid("Project:lakeside"), "title": "标题", "body": "正文", "audience": {}}

    no_title = await call(client, world, "admin_a", CREATE, {"input": {**create, "title": "  "}})
    staff_in_buildings = await call(
        client, world, "admin_a", CREATE, {"input": {**create, "audience": {"roles": ["FINANCE"], "buildingIds": [world.gid("Building:a1")]}}}
    )
    too_many = await call(client, world, "admin_a", CREATE, {"input": {**create, "reminders": {"afterHours": 24, "limit": 9}}})
    nobody = await call(
        client, world, "admin_a", CREATE, {"input": {**create, "audience": {"unitIds": [world.gid("Unit:vacant")]}}}
    )
    empty = await call(client, world, "admin_a", PUBLISH, {"id": nobody["id"]})
    changed = await call(client, world, "admin_a", UPDATE, {"input": {"id": announcement, "title": "改"}})

    assert [(v["code"], v["field"]) for v in (no_title, staff_in_buildings, too_many, empty)] == [
        ("BAD_USER_INPUT", "title"),
        ("BAD_USER_INPUT", "audience.buildingIds"),
        ("BAD_USER_INPUT", "reminders.limit"),
        ("BAD_USER_INPUT", "audience"),
    ]
    assert changed["code"] == "CONFLICT"


async def test_a_recall_hides_it_from_recipients_and_staff_keep_its_record(client: httpx.AsyncClient, world: World) -> None:
    announcement = await published(client, world)
    await call(client, world, "alice", MARK_READ, {"id": announcement})

    recalled = await call(client, world, "admin_a", RECALL, {"id": announcement, "reason": "时间有误"})

    assert recalled == {"__typename": "Announcement", "status": "RECALLED"}
    assert (await call(client, world, "alice", MINE, {"unread": False}))["edges"] == []
    assert (await call(client, world, "bob", MARK_READ, {"id": announcement}))["code"] == "NOT_FOUND"
    detail = await call(client, world, "admin_a", DETAIL, {"id": announcement, "read": None})
    assert (detail["status"], detail["counters"], detail["recipients"]["totalCount"]) == (
        "RECALLED",
        {"recipients": 2, "read": 1, "unread": 1},
        2,
    )


async def test_the_counters_reach_the_projects_staff_live_and_nobody_else(
    app: Starlette, client: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    announcement = await published(client, world)

    async with (
        live_socket(app, world.token("admin_a")) as admin,
        live_socket(app, world.token("finance_a")) as finance,
        live_socket(app, world.token("admin_b")) as other_admin,
        live_socket(app, world.token("alice")) as owner,
    ):
        for socket in (admin, finance, other_admin, owner):
            await socket.subscribe(COUNTERS, {"id": announcement})
        start = {"announcementId": announcement, "status": "PUBLISHED", "recipients": 2, "read": 0, "unread": 2}
        assert await admin.event() == await finance.event() == start
        refused = {
            "admin_b": (await other_admin.message())["payload"],
            "alice": (await owner.message())["payload"],
        }
        assert {name: [e["extensions"]["code"] for e in errors] for name, errors in refused.items()} == {
            "admin_b": ["NOT_FOUND"],
            "alice": ["FORBIDDEN"],
        }

        await call(client, world, "alice", MARK_READ, {"id": announcement})
        await call(client, world, "alice", MARK_READ, {"id": announcement})
        await call(client, world, "bob", MARK_READ, {"id": announcement})
        clock.advance(minutes=1)
        await call(client, world, "admin_a", RECALL, {"id": announcement})

        expected = [
            {**start, "read": 1, "unread": 1},
            {**start, "read": 2, "unread": 0},
            {**start, "status": "RECALLED", "read": 2, "unread": 0},
        ]
        assert await admin.events(3) == expected
        assert await finance.events(3) == expected
        assert await admin.quiet()
