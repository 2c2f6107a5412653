"""The seed example's stand-in programs (``examples/seed/``) as tests run them: their paths,
the argv of a stand-in tunnel agent, and finding / ending the processes a test made.

Each argv carries a marker word unique to the test (the programs ignore extra words), so a
test finds its processes by command line, never by a guessed pid, and kills them at the end
even when an assertion failed half-way.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.slack_standin import Message

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed"


@pytest.fixture
def marker() -> Iterator[str]:
    """A marker word for this test's processes; every process carrying it is killed after."""
    made = f"selfreg-test-{uuid.uuid4().hex[:12]}"
    yield made
    kill_all(made)


def fake_ngrok_argv(api: int, edge: int, upstream: int, marker: str) -> list[str]:
    """The stand-in ngrok agent: API on ``api``, edge on ``edge``, forwarding to ``upstream``."""
    return [
        sys.executable,
        str(SEED / "fake_ngrok.py"),
        "--api-port",
        str(api),
        "--edge-port",
        str(edge),
        "--upstream",
        f"http://127.0.0.1:{upstream}",
        marker,
    ]


def pids_with(*words: str) -> set[int]:
    """Live processes (not zombies) whose command line holds every one of ``words``."""
    found: set[int] = set()
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if process.info["status"] != psutil.STATUS_ZOMBIE and all(w in cmdline for w in words):
            found.add(process.pid)
    return found


def kill_all(marker: str) -> None:
    """SIGKILL every process carrying ``marker``."""
    for pid in pids_with(marker):
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()


def approve_id(message: Message, label: str = "") -> str:
    """The action id of the first Approve button on an incident message whose text holds
    ``label`` (e.g. "restart" when a rollback is offered beside it)."""
    return next(
        e["action_id"]
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("proposal.approve.") and label in str(e.get("text"))
    )
