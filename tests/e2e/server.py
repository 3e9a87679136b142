"""Run a real `courtyard serve` process for end-to-end tests."""

from __future__ import annotations

import fcntl
import os
import shutil
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


def _environment(folder: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "COURTYARD_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'courtyard.db'}",
        "COURTYARD_MEDIA_DIR": str(folder / "media"),
        **(env or {}),
    }


def seeded_demo_folder(shared: Path) -> Path:
    """A folder holding the demo community (its SQLite file and media), seeded once for the whole run.

    `shared` is a folder every test process of the run can see; the first process to get there seeds
    with `courtyard seed-demo` while the others wait on the lock, so the pages' tests start from a copy
    in seconds instead of each seeding a month of a community (test_serve_demo still seeds its own).
    What the command printed is kept beside the database (`seed_demo_output`).
    """
    folder = shared / "seeded-demo"
    with (shared / "seeded-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "seeded").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            seeding = subprocess.run(
                [sys.executable, "-m", "api", "seed-demo"],
                env=_environment(folder),
                cwd=folder,
                check=True,
                capture_output=True,
                text=True,
            )
            (folder / _SEED_DEMO_OUTPUT).write_text(seeding.stdout, encoding="utf-8")
            (folder / "seeded").touch()
    return folder


_SEED_DEMO_OUTPUT = "seed-demo.out"


def seed_demo_output(shared: Path) -> str:
    """What `courtyard seed-demo` printed when it seeded the run's demo (test_cli_newcomer reads it)."""
    return (seeded_demo_folder(shared) / _SEED_DEMO_OUTPUT).read_text(encoding="utf-8")


def copy_of_seeded_demo(shared: Path, destination: Path) -> Path:
    """A private copy of the run's seeded demo in `destination`, to serve with `courtyard_serve(destination, "--demo")`."""
    shutil.copytree(seeded_demo_folder(shared), destination, dirs_exist_ok=True)
    return destination


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
    environment = _environment(tmp_path, env)
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
