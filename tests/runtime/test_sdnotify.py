"""sd_notify over a real unix datagram socket: what systemd would read, and when."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.runtime import sdnotify
from tests.test_startup import env_for, foreground, write_config


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[socket.socket]:
    """The socket systemd would listen on (non-blocking reads)."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.setblocking(False)
        yield sock


def received(sock: socket.socket) -> list[str]:
    """Every datagram waiting on ``sock``, as text."""
    got: list[str] = []
    for _ in range(1000):
        try:
            got.append(sock.recv(4096).decode())
        except BlockingIOError:
            break
    return got


def test_notify_sends_one_datagram_of_newline_separated_fields(
    systemd: socket.socket,
) -> None:
    env = {"NOTIFY_SOCKET": systemd.getsockname()}
    assert sdnotify.notify("READY=1", "STATUS=running", env=env)
    assert received(systemd) == ["READY=1\nSTATUS=running"]


def test_notify_reaches_an_abstract_socket_named_with_an_at_sign() -> None:
    name = f"selfreg-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.setblocking(False)
        assert sdnotify.notify("WATCHDOG=1", env={"NOTIFY_SOCKET": "@" + name})
        assert received(sock) == ["WATCHDOG=1"]


def test_without_notify_socket_nothing_is_sent_and_a_dead_socket_is_no_error(
    tmp_path: Path,
) -> None:
    assert not sdnotify.notify("READY=1", env={})
    assert not sdnotify.notify("READY=1", env={"NOTIFY_SOCKET": str(tmp_path / "gone")})


def test_the_watchdog_pings_at_half_its_interval_and_only_for_this_process() -> None:
    assert sdnotify.watchdog_every({"WATCHDOG_USEC": "30000000"}) == 15.0
    mine = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert sdnotify.watchdog_every(mine) == 1.0
    assert sdnotify.watchdog_every({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}) is None
    assert sdnotify.watchdog_every({}) is None
    assert sdnotify.watchdog_every({"WATCHDOG_USEC": "0"}) is None


async def test_run_says_ready_pings_while_healthy_and_says_stopping(
    tmp_path: Path, systemd: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", systemd.getsockname())
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # a ping every 0.05 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    config = load_settings(str(write_config(tmp_path, "")), env_for(tmp_path))
    out = io.StringIO()
    got: list[str] = []
    async with foreground(config, out) as running:
        for _ in range(300):  # 15 s at most
            got += received(systemd)
            if "WATCHDOG=1" in got or running.done():
                break
            await asyncio.sleep(0.05)
        assert got and got[0].startswith("READY=1\nSTATUS=running: 0 check(s)"), got
        assert "WATCHDOG=1" in got, got
        assert "selfreg is running: " in out.getvalue()  # READY came after the start
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(running, 10) == 0
    after = received(systemd)
    stopping = [m for m in after if m.startswith("STOPPING=1")]
    assert len(stopping) == 1 and "STATUS=stopping" in stopping[0]
    assert after[-1] == stopping[0] or all(m == "WATCHDOG=1" for m in after)
