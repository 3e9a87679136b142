"""Voice reports (语音报修) through GraphQL: the recording is converted, transcribed, classified and kept
on the ticket; when it cannot be heard the ticket still exists, in TRIAGE with the audio; a file that is
not a recording is refused and writes nothing."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from api.state import AppState
from db.models import Ticket, TicketAttachment, TicketEvent
from dispatch.speech import SandboxRecogniser
from dispatch.voice import prepare_voice
from tests.integration.authorization_world import multipart
from tests.integration.dispatch_world import SUBMIT, build_dispatch_world
from tests.integration.world import World, count_rows, gql
from tests.speech import encoded, spoken

SPOKEN = "厨房水管爆了，水一直往外喷"
ATTACHMENTS = "query ($id: ID!) { node(id: $id) { ... on Ticket { attachments { stage mimeType fileName contentHash url } } } }"


def _sandbox(state: AppState) -> SandboxRecogniser:
    recogniser = state.services.speech
    assert isinstance(recogniser, SandboxRecogniser)
    return recogniser


async def _report_by_voice(
    client: httpx.AsyncClient, world: World, recording: tuple[str, bytes], **fields: Any
) -> dict[str, Any]:
    variables = {"input": {"unitId": world.gid("Unit:alice"), "voice": None, **fields}}
    answer = await multipart(client, world.token("alice"), SUBMIT, variables, {"input.voice": recording})
    return answer["data"]["submitTicket"]  # type: ignore[no-any-return]


async def _voice_details(state: AppState, ticket_gid: str, world: World) -> dict[str, Any]:
    async with state.session_factory() as session:
        ticket_id = (await session.scalars(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))).one()
        details = (
            await session.scalars(select(TicketEvent.payload).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))
        ).first()
    assert details is not None
    return details["voice"]  # type: ignore[no-any-return]


async def test_a_wechat_voice_note_becomes_a_classified_ticket_with_its_recording_and_a_playable_copy(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given alice's WeChat voice note (AMR) and a recogniser that hears it
    world = await build_dispatch_world(state)
    recording = encoded(spoken(SPOKEN), "amr")
    _sandbox(state).teach(prepare_voice(recording).recogniser_wav, SPOKEN)
    # when she sends it without typing anything
    ticket = await _report_by_voice(client, world, ("语音消息.amr", recording))
    # then the transcript is the description, marked as heard by a machine, and the classifier read it
    assert ticket["__typename"] == "Ticket", ticket
    assert ticket["description"] == f"【语音转写】{SPOKEN}"
    # sure enough to dispatch at once: the project auto-dispatches to its plumber
    assert (ticket["status"], ticket["category"], ticket["assignee"] is not None) == ("ASSIGNED", "PLUMBING", True)
    assert "爆" in "".join(ticket["classifierEvidence"]) or "水管" in "".join(ticket["classifierEvidence"])
    # the recording as sent, and the WAV the recogniser heard, which a browser can play
    found = await gql(client, ATTACHMENTS, {"id": ticket["id"]}, token=world.token("alice"))
    attachments = found["data"]["node"]["attachments"]
    heard = prepare_voice(recording).recogniser_wav
    assert [(a["stage"], a["mimeType"], a["fileName"], a["contentHash"]) for a in attachments] == [
        ("REPORT", "audio/amr", "语音消息.amr", hashlib.sha256(recording).hexdigest()),
        ("REPORT", "audio/wav", "语音消息.wav", hashlib.sha256(heard).hexdigest()),
    ]
    download = await client.get(attachments[1]["url"])
    assert (download.status_code, download.headers["content-type"], download.content) == (200, "audio/wav", heard)
    voice = await _voice_details(state, ticket["id"], world)
    assert (voice["format"], voice["recogniser"], voice["transcribed"], voice["confidence"]) == (
        "audio/amr",
        "sandbox",
        True,
        0.95,
    )
    assert voice["seconds"] > 1


async def test_typed_words_and_a_recording_both_reach_the_description(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    recording = encoded(spoken(SPOKEN), "m4a")
    _sandbox(state).teach(prepare_voice(recording).recogniser_wav, SPOKEN)
    ticket = await _report_by_voice(client, world, ("voice.m4a", recording), description="在厨房水槽下面")
    assert ticket["description"] == f"在厨房水槽下面\n【语音转写】{SPOKEN}"
    async with state.session_factory() as session:
        kinds = (await session.scalars(select(TicketAttachment.mime_type).order_by(TicketAttachment.id))).all()
    # a browser plays M4A: no second copy
    assert kinds == ["audio/mp4"]


async def test_a_recording_nobody_could_transcribe_is_kept_in_triage_never_lost(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    unknown = encoded(spoken("我家里有点问题你们来看一下"), "mp3")
    not_heard = await _report_by_voice(client, world, ("a.mp3", unknown))
    _sandbox(state).outage = True
    during_outage = await _report_by_voice(client, world, ("b.mp3", encoded(spoken(SPOKEN), "mp3")))
    for ticket in (not_heard, during_outage):
        assert (ticket["__typename"], ticket["status"]) == ("Ticket", "TRIAGE")
        assert ticket["description"] == "【语音报修】未能自动转写，请收听录音。"
    async with state.session_factory() as session:
        kept = (await session.execute(select(TicketAttachment.file_name, TicketAttachment.mime_type))).all()
    assert sorted(kept) == [("a.mp3", "audio/mpeg"), ("b.mp3", "audio/mpeg")]
    assert (await _voice_details(state, during_outage["id"], world))["transcribed"] is False


async def test_a_file_that_is_not_a_recording_is_refused_by_field_and_nothing_is_written(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    refused = await _report_by_voice(client, world, ("voice.amr", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(400)))
    assert (refused["code"], refused["field"]) == ("BAD_USER_INPUT", "voice")
    assert "AMR, M4A/AAC, MP3 or WAV" in refused["message"]
    nothing = await gql(client, SUBMIT, {"input": {"unitId": world.gid("Unit:alice")}}, token=world.token("alice"))
    assert (nothing["data"]["submitTicket"]["code"], nothing["data"]["submitTicket"]["field"]) == (
        "BAD_USER_INPUT",
        "description",
    )
    async with state.session_factory() as session:
        assert await count_rows(session, Ticket) == 0
        assert await count_rows(session, TicketAttachment) == 0
    assert not state.settings.media_dir.exists() or not any(state.settings.media_dir.rglob("*.*"))


async def test_someone_elses_unit_answers_not_found_and_keeps_no_recording(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    recording = encoded(spoken(SPOKEN), "amr")
    variables = {"input": {"unitId": world.gid("Unit:bob"), "voice": None}}
    answer = await multipart(client, world.token("alice"), SUBMIT, variables, {"input.voice": ("v.amr", recording)})
    assert answer["data"]["submitTicket"]["code"] in ("NOT_FOUND", "FORBIDDEN")
    async with state.session_factory() as session:
        assert await count_rows(session, TicketAttachment) == 0
    assert not state.settings.media_dir.exists() or not any(state.settings.media_dir.rglob("*.*"))
