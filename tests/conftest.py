"""Fixtures shared by every test package: a real store, a fake clock, an HTTP client, Slack.

A test module that needs something different defines a fixture of the same name; pytest
prefers the nearer one (tests/support/test_slack_standin.py does that for ``emu``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.store import Store, open_store
from tests.support.clock import FakeClock
from tests.support.slack_selfreg import new_emulator
from tests.support.slack_standin import SlackEmulator


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real store: one SQLite file under tmp_path, migrations applied, closed at the end."""
    opened = open_store(tmp_path / "selfreg.db")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    """A clock that stands still at 1_700_000_000 until the test advances it."""
    return FakeClock()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp client session on the test's event loop."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    """A started Slack stand-in with the alert channel, three people and an on-call group."""
    emulator = new_emulator()
    yield emulator
    emulator.use_http(None)
    emulator.stop()
