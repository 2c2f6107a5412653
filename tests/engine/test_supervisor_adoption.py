"""A restarted selfreg adopts the components its predecessor left running: no duplicates.

The predecessor is "killed" by abandoning its supervisor without stopping anything (the
scenario test ``test_components_adoption.py`` does it for real with ``kill -9``).
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bot.engine.supervisor import Supervisor, resolve_command
from bot.engine.supervisor.processes import boot_id
from tests.engine.test_supervisor_support import SLEEPER, Harness, alive, harness, wait_until
from tests.support.db import execute, rows
from tests.support.servers import free_port

__all__ = ["harness"]


def abandon(supervisor: Supervisor) -> None:
    """Forget a supervisor as a ``kill -9`` would: its processes keep running, unwatched."""
    supervisor._stopping = True
    for component in supervisor.components.values():
        for instance in component.instances:
            for task in (instance.task, instance.ready_task):
                if task is not None:
                    task.cancel()
    if supervisor._housekeeping is not None:
        supervisor._housekeeping.cancel()


async def test_a_running_component_is_adopted_and_restarted_when_it_dies(
    harness: Harness,
) -> None:
    entry = harness.component("api", SLEEPER)
    first = harness.supervisor(entry)
    await first.start()
    pid = first.snapshot()[0]["pid"]
    abandon(first)
    harness.supervisors.remove(first)

    second = harness.supervisor(entry)
    await second.start()
    component = second.snapshot()[0]
    assert component["pid"] == pid and component["status"] == "running"
    assert await harness.settled({pid}) == {pid}
    assert harness.events("api")[-1] == ("component.adopted", {"instance": 0, "pid": pid})

    os.kill(pid, signal.SIGKILL)  # watched through its pidfd
    assert await wait_until(lambda: second.snapshot()[0]["pid"] not in (None, pid), 5)
    component = second.snapshot()[0]
    assert alive(component["pid"]) and component["restarts"] == 1
    assert component["last_exit_code"] is None  # not our child: its exit code is unknowable
    assert await harness.settled({component["pid"]}) == {component["pid"]}


async def test_a_changed_command_replaces_the_old_process(harness: Harness) -> None:
    first = harness.supervisor(harness.component("api", SLEEPER))
    await first.start()
    old = first.snapshot()[0]["pid"]
    abandon(first)
    harness.supervisors.remove(first)

    second = harness.supervisor(harness.component("api", SLEEPER + "  # v2"))
    await second.start()
    new = second.snapshot()[0]["pid"]
    assert await harness.settled({new}) == {new}
    assert new != old and alive(new) and not alive(old)
    stopped = [d for k, d in harness.events("api") if k == "component.stopped"]
    assert stopped[0]["reason"] == "command changed"


async def test_a_component_no_longer_configured_is_stopped(harness: Harness) -> None:
    first = harness.supervisor(
        harness.component("api", SLEEPER), harness.component("old", SLEEPER, instances=2)
    )
    await first.start()
    abandon(first)
    harness.supervisors.remove(first)

    second = harness.supervisor(harness.component("api", SLEEPER))
    await second.start()
    running = {second.snapshot()[0]["pid"]}
    assert await harness.settled(running) == running
    names = [r[0] for r in rows(harness.store, "SELECT name FROM components")]
    assert names == ["api"]


async def test_a_reused_pid_is_never_adopted_or_signalled(harness: Harness) -> None:
    entry = harness.component("api", SLEEPER)
    first = harness.supervisor(entry)
    await first.start()
    await first.stop()
    harness.supervisors.remove(first)
    stranger = subprocess.Popen([sys.executable, "-c", SLEEPER])  # not a component of ours
    try:
        # the store claims the stranger's pid: once with another start time, once from an
        # earlier boot; either way it is not the process selfreg started
        for start_ticks, boot in ((1, boot_id()), (start_ticks_of(stranger.pid), "an-old-boot")):
            execute(
                harness.store,
                "UPDATE component_instances SET pid = ?, start_ticks = ?, boot_id = ?, argv = ?",
                (stranger.pid, start_ticks, boot, json.dumps(resolve_command(entry["command"]))),
            )
            second = harness.supervisor(entry)
            await second.start()
            assert second.snapshot()[0]["pid"] not in (None, stranger.pid)
            await second.stop()
            assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait(10)


async def test_a_script_with_a_shebang_is_adopted_too(harness: Harness) -> None:
    # /proc shows "python script.py" for it, not the configured argv: adoption must not care
    script = harness.tmp_path / "serve.py"
    script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(600)\n")
    script.chmod(0o755)
    entry = {"name": "script", "command": [str(script), harness.marker]}
    first = harness.supervisor(entry)
    await first.start()
    pid = first.snapshot()[0]["pid"]
    abandon(first)
    harness.supervisors.remove(first)

    second = harness.supervisor(entry)
    await second.start()
    assert second.snapshot()[0]["pid"] == pid
    assert await harness.settled({pid}) == {pid}


def start_ticks_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[19])


async def test_without_pidfd_an_adopted_process_is_polled(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = harness.component("api", SLEEPER)
    first = harness.supervisor(entry)
    await first.start()
    pid = first.snapshot()[0]["pid"]
    abandon(first)
    harness.supervisors.remove(first)

    def no_pidfd(pid: int) -> int:
        raise OSError(errno.ENOSYS, "pidfd_open is not implemented")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd)  # an old kernel
    second = harness.supervisor(entry)
    await second.start()
    assert second.snapshot()[0]["pid"] == pid

    os.kill(pid, signal.SIGKILL)
    assert await wait_until(lambda: second.snapshot()[0]["pid"] not in (None, pid), 5)


async def test_an_adopted_component_that_hung_does_not_hold_up_the_start(
    harness: Harness,
) -> None:
    port = free_port()
    # listens for a moment, then stops answering while staying alive: hung
    hangs = (
        "import socket, time\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {port})); s.listen(16)\n"
        "time.sleep(0.5); s.close(); time.sleep(600)\n"
    )
    entry = harness.component("api", hangs, health={"tcp": f"127.0.0.1:{port}", "timeout": "20s"})
    first = harness.supervisor(entry)
    await first.start()
    pid = first.snapshot()[0]["pid"]
    abandon(first)
    harness.supervisors.remove(first)
    await asyncio.sleep(0.7)  # now it is hung

    second = harness.supervisor(entry)
    began = time.monotonic()
    await second.start()
    assert time.monotonic() - began < 3
    component = second.snapshot()[0]
    assert component["pid"] == pid and component["status"] == "starting"  # probed meanwhile
