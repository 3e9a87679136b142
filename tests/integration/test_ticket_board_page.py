"""The dispatcher's board page: what a page of tickets shows of each ticket, its unit and its assignee is
what the same ticket shows when asked for by id, for every viewer (the page builds its units and
assignees once and reads the assignees' loads with them; a ticket asked for alone goes through the
loaders)."""

from __future__ import annotations

from typing import Any

import httpx

from api.state import AppState
from db.batch_reads import rows_by_id
from db.driver import listen_to_driver
from db.models import Technician
from db.personal_data import mask_phone
from dispatch.queries import technician_loads, technicians_with_loads
from tests.integration.dispatch_world import build_dispatch_world, report_trapped_in_lift, submit, transition
from tests.integration.world import World, gql

TICKET = """
    id status category priority description createdAt version
    respondDueAt onSiteDueAt resolveDueAt slaState allowedActions
    unit { id number building { id name } }
    assignee { id name phone currentLoad skills capacity onShift }
"""
BOARD = f"query {{ tickets(first: 50) {{ edges {{ node {{ {TICKET} }} }} }} }}"
ONE = f"query ($id: ID!) {{ node(id: $id) {{ ... on Ticket {{ {TICKET} }} }} }}"
VIEWERS = ("admin_a", "finance_a", "dispatcher_a", "tech_a", "tech_far", "tech_hvac", "alice", "bob", "admin_b", "carol")


async def _board_with_two_tickets_for_chen(client: httpx.AsyncClient, world: World) -> None:
    """Four tickets: two with 陈师傅 (one accepted), one with 吴师傅, one in a common area."""
    leak = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    await submit(client, world.token("bob"), unitId=world.gid("Unit:bob"), description="空调不制冷")
    await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="厨房水龙头漏水")
    await report_trapped_in_lift(client, world)
    await transition(client, world.token("tech_a"), leak["id"], "ACCEPT")


async def _board(client: httpx.AsyncClient, world: World, viewer: str) -> list[dict[str, Any]]:
    answer = await gql(client, BOARD, token=world.token(viewer))
    assert "errors" not in answer, (viewer, answer)
    return [edge["node"] for edge in answer["data"]["tickets"]["edges"]]


async def test_each_ticket_on_the_board_answers_what_it_answers_alone_for_every_viewer(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given four tickets, two of them with the same technician
    world = await build_dispatch_world(state)
    await _board_with_two_tickets_for_chen(client, world)
    shown = 0
    for viewer in VIEWERS:
        # when each viewer reads the board, then each ticket by id
        for ticket in await _board(client, world, viewer):
            alone = await gql(client, ONE, {"id": ticket["id"]}, token=world.token(viewer))
            # then both answer the same, field for field
            assert alone == {"data": {"node": ticket}}, viewer
            shown += 1
    assert shown > 10


async def test_the_board_shows_each_viewer_its_share_of_the_assignee_and_its_own_actions(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given 陈师傅 (whose phone is 13600002222) on two tickets, one accepted
    world = await build_dispatch_world(state)
    await _board_with_two_tickets_for_chen(client, world)
    masked = mask_phone("13600002222")

    def chen(nodes: list[dict[str, Any]]) -> list[tuple[str, str, int | None, list[str] | None]]:
        return [
            (node["description"], node["assignee"]["phone"], node["assignee"]["currentLoad"], node["assignee"]["skills"])
            for node in nodes
            if node["assignee"] is not None and node["assignee"]["name"] == "陈师傅"
        ]

    skills = ["PLUMBING", "ELECTRICAL"]
    # then admins and dispatchers, who call technicians, read the phone; other staff and the technician
    # themself see it masked with the load and skills; an owner sees only the masked phone
    for viewer in ("admin_a", "dispatcher_a"):
        assert chen(await _board(client, world, viewer)) == [
            ("厨房水龙头漏水", "13600002222", 2, skills),
            ("卫生间漏水", "13600002222", 2, skills),
        ], viewer
    assert chen(await _board(client, world, "finance_a")) == [
        ("厨房水龙头漏水", masked, 2, skills),
        ("卫生间漏水", masked, 2, skills),
    ]
    assert chen(await _board(client, world, "tech_a")) == [
        ("厨房水龙头漏水", masked, 2, skills),
        ("卫生间漏水", masked, 2, skills),
    ]
    assert chen(await _board(client, world, "alice")) == [
        ("厨房水龙头漏水", masked, None, None),
        ("卫生间漏水", masked, None, None),
    ]
    assert chen(await _board(client, world, "bob")) == []
    # and each viewer's actions are its own: the dispatcher's, the assignee's, the reporting owner's
    actions = {
        viewer: {node["description"]: node["allowedActions"] for node in await _board(client, world, viewer)}
        for viewer in ("dispatcher_a", "tech_a", "alice", "finance_a")
    }
    assert actions["tech_a"] == {"厨房水龙头漏水": ["ACCEPT", "REJECT"], "卫生间漏水": ["REJECT", "CHECK_IN"]}
    assert actions["alice"] == {"厨房水龙头漏水": ["CANCEL"], "卫生间漏水": ["CANCEL"]}
    assert actions["finance_a"] == dict.fromkeys(actions["finance_a"], [])
    assert actions["dispatcher_a"]["卫生间漏水"] == ["CANCEL"]


async def test_technicians_with_loads_reads_what_the_technician_and_load_loaders_read(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    await _board_with_two_tickets_for_chen(client, world)
    ids = [world.ids["Technician:hvac"], world.ids["Technician:a"], world.ids["Technician:far"], 10**9]
    together = await technicians_with_loads(state.session_factory, ids)
    apart = zip(
        await rows_by_id(state.session_factory, Technician, ids, plain=True),
        await technician_loads(state.session_factory, ids),
        strict=True,
    )
    assert together == list(apart)
    assert [load for _, load in together] == [1, 2, 0, 0]
    assert together[-1] == (None, 0)


EVIDENCE = "classifierEvidence classifierPriorityEvidence"


async def test_a_board_that_shows_no_classifier_words_does_not_read_them_nor_hide_them_from_who_asks(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given tickets whose reports the classifier found words in
    world = await build_dispatch_world(state)
    await _board_with_two_tickets_for_chen(client, world)
    token = world.token("dispatcher_a")
    board = await gql(client, f"query {{ tickets(first: 50) {{ edges {{ node {{ id {EVIDENCE} }} }} }} }}", token=token)
    words = {edge["node"]["id"]: edge["node"] for edge in board["data"]["tickets"]["edges"]}
    assert any(ticket["classifierEvidence"] for ticket in words.values())
    leak = next(ticket for ticket in words.values() if ticket["classifierEvidence"])

    # when one operation reads the board without the words, and one of its tickets with them
    sent: list[str] = []
    with listen_to_driver(sent.append):
        both = await gql(
            client,
            f"query ($id: ID!) {{ tickets(first: 50) {{ edges {{ node {{ id description }} }} }}"
            f" node(id: $id) {{ ... on Ticket {{ id {EVIDENCE} }} }} }}",
            {"id": leak["id"]},
            token=token,
        )

    # then the board's statement left the words out, and the ticket asked for by id still shows them
    assert "errors" not in both
    board_statements = [sql for sql in sent if "ORDER BY ticket.id DESC" in sql]
    assert board_statements and all("ticket.classifier_evidence" not in sql for sql in board_statements)
    assert both["data"]["node"] == leak
    assert {edge["node"]["id"] for edge in both["data"]["tickets"]["edges"]} == set(words)
