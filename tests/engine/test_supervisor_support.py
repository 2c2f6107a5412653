"""Shared harness for the supervisor tests: a real store, real child processes, full cleanup.

Every component command carries a marker argument unique to the test, so cleanup can find
and kill every process the test made (even one a failed assertion left behind) by its
command line, never by a guessed pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from bot.clock import SystemClock
from bot.config import ComponentSettings
from bot.engine.supervisor import Supervisor
from bot.store import Store, open_store
from tests.support.db import rows

SLEEPER = "import time; time.sleep(600)"
EXIT_AT_ONCE = "raise SystemExit(3)"


def tcp_server_code(port: int, delay: float = 0.0) -> str:
    """A component that listens on ``port`` after ``delay`` seconds and accepts forever."""
    return (
        "import socket, time\n"
        f"time.sleep({delay})\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {port})); s.listen(16)\n"
        "while True: s.accept()[0].close()\n"
    )


def alive(pid: int | None) -> bool:
    """True when ``pid`` runs (a zombie waiting for its parent counts as ended)."""
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_marked(marker: str) -> int:
    """SIGKILL every process whose command line carries ``marker``; how many there were."""
    killed = 0
    for process in psutil.process_iter(["cmdline"]):
        if marker in (process.info["cmdline"] or []):
            try:
                process.kill()
                killed += 1
            except psutil.Error:
                pass
    return killed


class Harness:
    """Builds supervisors over one store and one log folder, and cleans up after them."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.store: Store = open_store(tmp_path / "selfreg.db")
        self.log_dir = tmp_path / "logs"
        self.marker = f"selfreg-test-{uuid.uuid4().hex[:12]}"
        self.supervisors: list[Supervisor] = []

    def component(self, name: str, code: str, **fields: Any) -> dict[str, Any]:
        """A component entry running ``python -c code`` with this test's marker."""
        return {"name": name, "command": ["python", "-c", code, self.marker], **fields}

    def supervisor(self, *components: dict[str, Any], **options: Any) -> Supervisor:
        settings = [ComponentSettings.model_validate(c) for c in components]
        supervisor = Supervisor(
            settings, self.store, SystemClock(), self.log_dir, self.tmp_path, **options
        )
        self.supervisors.append(supervisor)
        return supervisor

    def events(self, subject: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(kind, detail) of the component events, oldest first."""
        found = rows(
            self.store,
            "SELECT kind, subject, detail FROM events WHERE kind LIKE 'component.%' ORDER BY id",
        )
        return [
            (r["kind"], json.loads(r["detail"]))
            for r in found
            if subject is None or r["subject"] == subject
        ]

    def marked_pids(self) -> set[int]:
        """Live processes carrying this test's marker.

        A child forked a moment ago may not have exec'd its program yet: its command line is
        still this process's, without the marker. Such children are waited for (5 s at most),
        so a loaded machine cannot make a fresh component look absent.
        """
        own = psutil.Process().cmdline()
        for _ in range(500):
            children = psutil.Process().children(recursive=True)
            with contextlib.suppress(psutil.Error):
                if not any(c.cmdline() == own for c in children):
                    break
            time.sleep(0.01)
        return {
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if self.marker in (p.info["cmdline"] or []) and alive(p.pid)
        }

    async def wait_marked(self, count: int, timeout: float = 5.0) -> set[int]:
        """The marked processes once there are ``count`` of them (``timeout`` at most): on a
        loaded machine a process that has just exited or started may still show a moment."""
        found = self.marked_pids()
        for _ in range(int(timeout / 0.02)):
            if len(found) == count:
                break
            await asyncio.sleep(0.02)
            found = self.marked_pids()
        return found

    async def settled(self, expected: set[int], timeout: float = 5.0) -> set[int]:
        """The marked processes once they are ``expected`` (``timeout`` at most): a process
        just stopped may take a moment to be gone on a loaded machine."""
        found = self.marked_pids()
        for _ in range(int(timeout / 0.02)):
            if found == expected:
                break
            await asyncio.sleep(0.02)
            found = self.marked_pids()
        return found

    async def cleanup(self) -> None:
        for supervisor in reversed(self.supervisors):
            # cleanup must go on whatever happens: the kill below is the safety net
            with contextlib.suppress(Exception):
                await asyncio.wait_for(supervisor.stop(), 30)
        kill_marked(self.marker)
        self.store.close()


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Check ``predicate`` every 5 ms until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.005)
    return predicate()


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    made = Harness(tmp_path)
    try:
        yield made
    finally:
        await made.cleanup()


async def test_the_harness_kills_every_marked_process_it_made(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("sleeper", SLEEPER))
    await supervisor.start()
    pid = supervisor.snapshot()[0]["pid"]
    assert alive(pid) and harness.marked_pids() == {pid}
    supervisor.components["sleeper"].instances[0].stopping = True  # as if selfreg were gone
    assert kill_marked(harness.marker) == 1
    assert await wait_until(lambda: not alive(pid), 5)
