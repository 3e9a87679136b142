"""Photos and videos on tickets: multipart upload, type by magic bytes, size limit, storage by hash, and
a download route that only those who may see the ticket get through."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from api.state import AppState
from db.models import Ticket, TicketAttachment
from tests.conftest import Clock
from tests.integration.dispatch_world import (
    SUBMIT,
    TRANSITION,
    build_dispatch_world,
    transition,
)
from tests.integration.world import World, count_rows, gql

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00" + bytes(500)
HTML = b"<html><script>alert(1)</script></html>"
ATTACHMENTS = "query ($id: ID!) { node(id: $id) { ... on Ticket { attachments { stage mimeType sizeBytes fileName contentHash url } } } }"


async def _multipart(
    client: httpx.AsyncClient,
    token: str,
    query: str,
    variables: dict[str, Any],
    path: str,
    files: list[tuple[str, bytes]],
) -> dict[str, Any]:
    """A GraphQL multipart request putting `files` at `variables.<path>.<n>`."""
    operations = {"query": query, "variables": variables}
    mapping = {str(n): [f"variables.{path}.{n}"] for n in range(len(files))}
    uploads = {str(n): (name, data, "application/octet-stream") for n, (name, data) in enumerate(files)}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
        files=uploads,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _submit_with(client: httpx.AsyncClient, world: World, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    variables = {
        "input": {"unitId": world.gid("Unit:alice"), "description": "卫生间漏水", "photos": [None] * len(files)}
    }
    result = await _multipart(client, world.token("alice"), SUBMIT, variables, "input.photos", files)
    return result["data"]["submitTicket"]  # type: ignore[no-any-return]


async def test_photos_are_typed_by_their_bytes_stored_by_hash_and_served_to_the_ticket_owner(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given
    world = await build_dispatch_world(state)
    # when alice sends a JPEG and a PNG she named .jpg
    ticket = await _submit_with(client, world, [("漏水.jpg", JPEG), ("ceiling.jpg", PNG)])
    # then
    assert ticket["__typename"] == "Ticket"
    found = await gql(client, ATTACHMENTS, {"id": ticket["id"]}, token=world.token("alice"))
    attachments = found["data"]["node"]["attachments"]
    assert [(a["stage"], a["mimeType"], a["sizeBytes"], a["fileName"], a["contentHash"]) for a in attachments] == [
        ("REPORT", "image/jpeg", len(JPEG), "漏水.jpg", hashlib.sha256(JPEG).hexdigest()),
        ("REPORT", "image/png", len(PNG), "ceiling.jpg", hashlib.sha256(PNG).hexdigest()),
    ]
    media: Path = state.settings.media_dir
    digest = hashlib.sha256(PNG).hexdigest()
    assert (media / digest[:2] / f"{digest}.png").read_bytes() == PNG
    # the signed link works without a header, for an hour
    link = attachments[0]["url"]
    download = await client.get(link)
    assert (download.status_code, download.headers["content-type"], download.content) == (200, "image/jpeg", JPEG)
    assert download.headers["x-content-type-options"] == "nosniff"
    tampered = await client.get(link.replace("signature=", "signature=0"))
    assert tampered.status_code == 403
    # a bearer token works for whoever may see the ticket, and for nobody else
    plain = link.split("?")[0]
    assert (await client.get(plain, headers={"Authorization": f"Bearer {world.token('tech_a')}"})).status_code == 200
    assert (await client.get(plain, headers={"Authorization": f"Bearer {world.token('bob')}"})).status_code == 404
    assert (await client.get(plain)).status_code == 401
    clock.advance(hours=2)
    assert (await client.get(link)).status_code == 403


async def test_a_file_that_is_not_a_photo_or_video_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    refused = await _submit_with(client, world, [("photo.jpg", JPEG), ("photo2.jpg", HTML)])
    assert (refused["code"], refused["field"]) == ("BAD_USER_INPUT", "photos.1")
    too_big = await _submit_with(client, world, [("huge.jpg", JPEG[:4] + bytes(10 * 1024 * 1024))])
    assert (too_big["code"], too_big["field"]) == ("BAD_USER_INPUT", "photos.0")
    async with state.session_factory() as session:
        assert await count_rows(session, Ticket) == 0
    assert not state.settings.media_dir.exists() or not any(state.settings.media_dir.rglob("*.*"))


async def test_a_video_and_after_photos_on_resolve_and_the_same_file_stored_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    ticket = await _submit_with(client, world, [("clip.mp4", MP4), ("a.jpg", JPEG)])
    tech = world.token("tech_a")
    for action, details in (
        ("ACCEPT", None),
        ("CHECK_IN", {"location": {"latitude": 30.27, "longitude": 120.15}}),
        ("START", None),
    ):
        assert "errors" not in await transition(client, tech, ticket["id"], action, details=details)
    variables = {"id": ticket["id"], "action": "WAIT_FOR_OWNER", "details": {"photos": [None]}}
    wrong_action = await _multipart(client, tech, TRANSITION, variables, "details.photos", [("after.jpg", JPEG)])
    assert (wrong_action["data"]["transitionTicket"]["code"], wrong_action["data"]["transitionTicket"]["field"]) == (
        "BAD_USER_INPUT",
        "photos",
    )
    variables = {"id": ticket["id"], "action": "RESOLVE", "note": "换了阀门", "details": {"photos": [None]}}
    resolved = await _multipart(client, tech, TRANSITION, variables, "details.photos", [("after.jpg", JPEG)])
    assert resolved["data"]["transitionTicket"]["status"] == "RESOLVED"
    async with state.session_factory() as session:
        rows = (
            await session.execute(
                select(TicketAttachment.stage, TicketAttachment.mime_type).order_by(TicketAttachment.id)
            )
        ).all()
    assert rows == [("REPORT", "video/mp4"), ("REPORT", "image/jpeg"), ("RESOLUTION", "image/jpeg")]
    assert len(list(state.settings.media_dir.rglob("*.jpg"))) == 1
