"""A real SMTP server in its own process for the e-mail tests: aiosmtpd on 127.0.0.1, appending one JSON
line per message it accepts to a log file (its Message-ID, recipients, subject), so a test counts what
the server received across restarts.

    python -m tests.integration.smtp_sink --port 2525 --log received.jsonl [--die-at 3]

`--die-at N` makes the process exit hard while the N-th message's DATA is in flight, after logging it as
received but before answering: the server killed mid-conversation, the client left not knowing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, log: Path, die_at: int | None) -> None:
        self._log = log
        self._die_at = die_at
        self._count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        self._count += 1
        line = {
            "message_id": parsed["Message-ID"],
            "to": list(envelope.rcpt_tos),
            "subject": str(parsed["Subject"]),
            "body": parsed.get_payload(decode=True).decode("utf-8").strip(),
        }
        with self._log.open("a", encoding="utf-8") as log:
            log.write(json.dumps(line, ensure_ascii=False) + "\n")
        if self._count == self._die_at:
            os._exit(1)
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--die-at", type=int)
    args = parser.parse_args()
    controller = Controller(Recorder(args.log, args.die_at), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
