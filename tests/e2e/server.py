"""Run a real `courtyard serve` process for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def courtyard_serve(
    tmp_path: Path, *args: str, env: Mapping[str, str] | None = None, ready_timeout: float = 180
) -> Iterator[RunningServer]:
    """Start `python -m api serve` on a free port, wait until /readyz answers, stop it with SIGINT.

    `--demo` seeds a month of a whole community before the server answers: about 20 s on a quiet
    machine, over 60 s on a loaded one, hence the generous wait; a server that dies fails at once.
    """
    port = free_port()
    log_path = tmp_path / f"server-{port}.log"
    environment = {
        **os.environ,
        "COURTYARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'courtyard.db'}",
        "COURTYARD_MEDIA_DIR": str(tmp_path / "media"),
        **(env or {}),
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=tmp_path,
            text=True,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
            try:
                if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after {ready_timeout} s:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
