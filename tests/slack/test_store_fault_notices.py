"""Slack hears when the store cannot record and when it can again, not through the store.

A locked store is another connection holding ``BEGIN EXCLUSIVE`` on the file, as another
process would; a full one is real SQLite refusing a write: ``PRAGMA max_page_count`` held at
the file's size makes the next page SQLite needs fail with SQLITE_FULL ("database or disk is
full"), as a full disk does (``bench/disk_faults.py`` does both under a running selfreg, the
full one on a tmpfs). The notices go to the Slack stand-in on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import load_settings
from bot.runtime import build
from bot.slack import store_faults
from bot.slack.store_faults import StoreFaultNotices
from bot.store import Store, db
from bot.store.db import WriteFault
from tests.runtime.test_build import MINIMAL  # a selfreg check every 1 s, no models
from tests.support.clock import FakeClock
from tests.support.slack_selfreg import CHANNEL, slack_env
from tests.support.slack_standin import SlackEmulator


def fill(store: Store) -> None:
    """No page beyond those the file has now: SQLite's own "database or disk is full"."""
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")


def free(store: Store) -> None:
    store._conn.execute("PRAGMA max_page_count = 1073741823")


def write_until_refused(store: Store, limit: int = 2000) -> int:
    """Rows ever smaller until even an empty one is refused: the room the pages had left is
    taken (a check run's few rows no longer fit). Returns the writes refused."""
    refused = 0
    for size in (2000, 200, 20, 0):
        for n in range(limit):
            try:
                with store.transaction():
                    store.record_event("test.filler", "", 0.0, blob="x" * size, n=n)
            except sqlite3.OperationalError:
                refused += 1
                break
        else:
            raise AssertionError("the store never refused a write")
    return refused


async def until(found: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if found():
            return
        await asyncio.sleep(0.02)


@pytest.fixture
def emulator() -> SlackEmulator:
    with SlackEmulator() as emu:
        emu.add_channel(CHANNEL, "alerts", members=[emu.config.bot_user_id])
        yield emu


async def test_a_locked_store_is_told_in_slack_once_and_its_recovery_once_while_checks_run(
    tmp_path: Path, emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)  # the first refused write waits this long
    monkeypatch.setattr(store_faults, "SETTLE", 0.05)  # "records again" after writes worked
    (tmp_path / "selfreg.toml").write_text(MINIMAL)
    env = slack_env(emulator, tmp_path / "data", mode="post")
    config = load_settings(str(tmp_path / "selfreg.toml"), env)
    parts = build(config, clock=FakeClock(time.time()), out=io.StringIO())
    other = sqlite3.connect(parts.store.path, isolation_level=None)  # another process's hold
    try:
        other.execute("BEGIN EXCLUSIVE")
        for _ in range(3):  # checks go on: each run's write is refused
            await parts.runner.run_interval(1.0)
        assert parts.store.write_error == "database is locked"
        ran = sum(n for _, n in parts.runner.tally.counts("check_runs"))
        other.execute("ROLLBACK")
        await parts.runner.run_interval(1.0)
        assert parts.store.write_error is None
        await until(lambda: len(emulator.messages(CHANNEL)) >= 2)
    finally:
        other.close()
        await parts.http.close()
        parts.store.close()
    texts = [m.text for m in emulator.messages(CHANNEL)]
    assert ran == 3
    assert len(texts) == 2, texts
    assert "selfreg cannot record" in texts[0] and "database is locked" in texts[0]
    assert "selfreg records again" in texts[1] and "Nothing committed before was lost" in texts[1]
    assert "3 writes refused" in texts[1]


async def test_a_notice_is_retried_while_slack_fails_and_dropped_after_its_attempts(
    store: Store, emulator: SlackEmulator
) -> None:
    client = AsyncWebClient(token=emulator.config.bot_token, base_url=emulator.base_url)
    notices = StoreFaultNotices(client, CHANNEL, attempts=3, first_pause=0.01, settle=0.01)
    store.on_write_fault(notices)
    emulator.fail("chat.postMessage", "internal_error", times=2)  # the fault notice: 3rd try
    fill(store)
    write_until_refused(store)
    await until(lambda: notices.sent == 1)
    emulator.fail("chat.postMessage", "internal_error", times=3)  # the recovery: all 3 fail
    free(store)
    with store.transaction():
        store.record_event("test.after", "", 0.0)
    await until(lambda: notices.dropped == 1)
    await notices.close()
    texts = [m.text for m in emulator.messages(CHANNEL)]
    assert (notices.sent, notices.dropped) == (1, 1)
    assert len(texts) == 1 and "selfreg cannot record" in texts[0]
    assert len(emulator.calls("chat.postMessage")) == 6


async def test_a_refused_notice_is_not_retried(store: Store, emulator: SlackEmulator) -> None:
    client = AsyncWebClient(token=emulator.config.bot_token, base_url=emulator.base_url)
    notices = StoreFaultNotices(client, "C0NOSUCH", attempts=5, first_pause=0.01)
    store.on_write_fault(notices)
    fill(store)
    write_until_refused(store)
    await until(lambda: notices.dropped == 1)
    assert len(emulator.calls("chat.postMessage")) == 1


async def test_a_store_that_flaps_is_one_episode_two_messages(
    store: Store, emulator: SlackEmulator
) -> None:
    client = AsyncWebClient(token=emulator.config.bot_token, base_url=emulator.base_url)
    notices = StoreFaultNotices(client, CHANNEL, first_pause=0.01, settle=0.3)
    store.on_write_fault(notices)
    refused = 0
    for _ in range(3):  # full, a write fits, full again: well within the settle time
        fill(store)
        refused += write_until_refused(store)
        free(store)
        with store.transaction():
            store.record_event("test.fits", "", 0.0)
    await until(lambda: notices.sent == 2)
    await asyncio.sleep(0.5)  # nothing more comes
    texts = [m.text for m in emulator.messages(CHANNEL)]
    assert len(texts) == 2, texts
    assert "selfreg cannot record" in texts[0]
    assert "selfreg records again" in texts[1] and f"{refused} writes refused" in texts[1]


async def test_a_commit_that_wrote_nothing_does_not_end_a_fault(store: Store) -> None:
    told: list[WriteFault] = []
    store.on_write_fault(told.append)
    fill(store)
    write_until_refused(store)
    with store.transaction():
        pass  # takes the write lock, writes no page: on a read-only disk this commits
    assert store.write_error == "database or disk is full"
    assert [f.error for f in told] == ["database or disk is full"]


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("database or disk is full", "Free space on its disk."),
        ("disk I/O error: the file system is read-only", "Make its file system writable"),
        ("database is locked", "Stop what holds the store"),
        ("disk I/O error", "Check the disk it is on"),
    ],
)
def test_the_cannot_record_notice_advises_by_the_kind_of_fault(error: str, advice: str) -> None:
    from bot import messages

    text = messages.store_fault_slack("/data/selfreg.db", error)

    assert advice in text
    assert "takes writes again by itself" in text
