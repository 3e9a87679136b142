"""What the notification tests share: a real SMTP server process to send to, the channels the relay
uses, and messages to put in the outbox."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.state import AppState
from db.unit_of_work import unit_of_work
from kernel.vocabulary import NotificationChannel
from notifications.channels import ChannelSender, InAppSender
from notifications.email import EmailSender, SmtpSettings
from notifications.kinds import MessageKind
from notifications.outbox import enqueue
from notifications.relay import RelayReport, relay_once
from notifications.sms import SandboxSmsGateway, SmsSender
from notifications.wechat import SandboxWechatGateway, WechatSender
from tests.conftest import TEST_SECRET
from tests.integration.world import World

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    """tests/integration/smtp_sink.py as a process; `received` is every message it accepted, repeats included."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    async def start(self, *, die_at: int | None = None) -> None:
        command = [sys.executable, "-m", "tests.integration.smtp_sink", "--port", str(self.port), "--log", str(self.log)]
        if die_at is not None:
            command += ["--die-at", str(die_at)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        line = await asyncio.to_thread(self.process.stdout.readline)
        assert line.strip() == b"ready", line

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def received(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def mailbox(self) -> dict[str, dict[str, Any]]:
        """What a mail store keeps: one copy per Message-ID."""
        return {entry["message_id"]: entry for entry in self.received()}


@asynccontextmanager
async def smtp_server(directory: Path) -> AsyncIterator[SmtpServer]:
    server = SmtpServer(free_port(), directory / "received.jsonl")
    await server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Channels:
    """Every channel, the e-mail one against `smtp` (when given), the rest sandboxes."""

    smtp_port: int | None = None
    sms_gateway: SandboxSmsGateway = field(default_factory=lambda: SandboxSmsGateway(TEST_SECRET))
    wechat_gateway: SandboxWechatGateway = field(default_factory=SandboxWechatGateway)

    def senders(self, *only: NotificationChannel) -> dict[NotificationChannel, ChannelSender]:
        senders: dict[NotificationChannel, ChannelSender] = {
            NotificationChannel.IN_APP: InAppSender(),
            NotificationChannel.SMS: SmsSender(self.sms_gateway, sign_name="湖畔物业"),
            NotificationChannel.WECHAT: WechatSender(self.wechat_gateway),
        }
        if self.smtp_port is not None:
            senders[NotificationChannel.EMAIL] = EmailSender(
                SmtpSettings(host="127.0.0.1", port=self.smtp_port, start_tls=False, sender="湖畔物业 <noreply@lakeside.test>", timeout=5)
            )
        return {channel: sender for channel, sender in senders.items() if not only or channel in only}


async def queue(
    state: AppState,
    world: World,
    key: str,
    *,
    kind: MessageKind = MessageKind.BILL_REMINDER,
    party: str | None = "Party:alice",
    user: str | None = None,
    payload: dict[str, Any] | None = None,
    project: str = "Project:lakeside",
) -> int:
    """Enqueue one message in a transaction of its own; answer its id."""
    defaults = {
        MessageKind.BILL_REMINDER: {"amount_due": "1234.50", "due_date": "2026-11-30"},
        MessageKind.PAYMENT_CONFIRMATION: {"amount": "120.00", "receipt_number": "R-0001"},
        MessageKind.SECURITY_ALERT: {"event": "修改了密码"},
        MessageKind.TICKET_ASSIGNED: {"ticket": "T-1"},
        MessageKind.ANNOUNCEMENT: {"title": "停水通知"},
    }
    async with unit_of_work(state.session_factory) as work:
        message = await enqueue(
            work.session,
            project_id=world.ids[project],
            kind=kind,
            idempotency_key=key,
            payload=payload if payload is not None else defaults.get(kind, {}),
            party_id=world.ids[party] if party else None,
            user_id=world.users[user] if user else None,
            now=state.clock(),
        )
        return message.id


async def relay(state: AppState, senders: dict[NotificationChannel, ChannelSender], **options: Any) -> RelayReport:
    """One relay pass at the app's clock, announcing in-app deliveries on the app's event bus."""
    return await relay_once(
        state.session_factory, senders, now=state.clock(), cipher=state.cipher, publisher=state.services.publisher, **options
    )
