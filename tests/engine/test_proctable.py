"""The shared process table, against real child processes and real sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import psutil
import pytest

from bot.engine.proctable import ProcessTableCache, ProcessTableView
from checks.base import ProcessEntry

SLEEPER = "import sys, time; print('ready', flush=True); time.sleep(30)"
SPINNER = "import sys; print('ready', flush=True)\nwhile True: pass"
LISTENER = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
    "print(s.getsockname()[1], flush=True); time.sleep(30)"
)

Spawn = Callable[..., tuple[subprocess.Popen[str], str]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start real children carrying a unique marker argument; kill every one at the end."""
    children: list[subprocess.Popen[str]] = []

    def start(code: str = SLEEPER) -> tuple[subprocess.Popen[str], str]:
        marker = f"proctable-{uuid.uuid4().hex}"
        child = subprocess.Popen(
            [sys.executable, "-c", code, marker], stdout=subprocess.PIPE, text=True
        )
        children.append(child)
        assert child.stdout is not None
        first_line = child.stdout.readline().strip()  # the child has exec'd and is running
        return child, first_line if code == LISTENER else marker

    yield start
    for child in children:
        child.kill()
        child.wait(timeout=10)


def entry_of(view: ProcessTableView, pid: int) -> ProcessEntry | None:
    return next((e for e in view.processes() if e.pid == pid), None)


def test_it_lists_a_new_process_with_its_name_and_command_line(spawn: Spawn) -> None:
    child, marker = spawn()

    entry = entry_of(ProcessTableCache().snapshot(), child.pid)

    assert entry is not None
    assert entry.name.startswith("python")
    assert entry.cmdline[-1] == marker
    assert abs(entry.create_time - time.time()) < 60


def test_it_reads_name_and_command_line_only_for_processes_not_seen_before(spawn: Spawn) -> None:
    cache = ProcessTableCache()
    old, _ = spawn()
    first = entry_of(cache.snapshot(), old.pid)
    new, _ = spawn()

    second = cache.snapshot()

    assert entry_of(second, old.pid) is first  # the cached entry, not a fresh read
    assert entry_of(second, new.pid) is not None


def test_it_forgets_a_process_that_has_exited(spawn: Spawn) -> None:
    cache = ProcessTableCache()
    child, _ = spawn()
    assert entry_of(cache.snapshot(), child.pid) is not None
    child.kill()
    child.wait(timeout=10)

    view = cache.snapshot()

    assert entry_of(view, child.pid) is None
    assert view.stats(child.pid) is None


def test_any_other_zombie_is_left_out_within_a_full_identity_round(spawn: Spawn) -> None:
    from bot.engine.proctable import VERIFY_EVERY

    cache = ProcessTableCache()
    child, _ = spawn()
    assert entry_of(cache.snapshot(), child.pid) is not None
    child.kill()
    deadline = time.monotonic() + 10
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child never became a zombie"
        time.sleep(0.01)
    views = [cache.snapshot() for _ in range(VERIFY_EVERY)]
    assert entry_of(views[-1], child.pid) is None


def test_it_leaves_out_a_zombie_a_check_was_watching(spawn: Spawn) -> None:
    cache = ProcessTableCache()
    child, _ = spawn()
    first = cache.snapshot()
    assert entry_of(first, child.pid) is not None
    assert first.stats(child.pid) is not None  # a check matched it and read its stats
    child.kill()  # not reaped yet: a zombie until wait()
    deadline = time.monotonic() + 10
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child never became a zombie"
        time.sleep(0.01)

    view = cache.snapshot()

    assert entry_of(view, child.pid) is None
    assert view.stats(child.pid) is None


def test_it_finds_the_pid_listening_on_a_port(spawn: Spawn) -> None:
    child, port = spawn(LISTENER)

    view = ProcessTableCache().snapshot()

    assert view.listening_pids(int(port)) == {child.pid}


def test_it_reads_listening_sockets_once_per_snapshot(spawn: Spawn) -> None:
    cache = ProcessTableCache()
    view = cache.snapshot()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        view.listening_pids(1)  # the first question reads the table for this view
        server.listen()
        port = server.getsockname()[1]

        assert view.listening_pids(port) == set()
        assert cache.snapshot().listening_pids(port) != set()


def test_it_reads_memory_threads_files_and_uptime_of_one_process(spawn: Spawn) -> None:
    child, _ = spawn()

    stats = ProcessTableCache().snapshot().stats(child.pid)

    assert stats is not None
    assert stats.pid == child.pid
    assert stats.rss > 1_000_000
    assert stats.threads >= 1
    assert stats.open_files >= 3  # stdin, stdout, stderr
    assert 0 <= stats.uptime < 60


def test_it_measures_cpu_since_the_previous_snapshot(spawn: Spawn) -> None:
    cache = ProcessTableCache()
    busy, _ = spawn(SPINNER)
    idle, _ = spawn()

    first = cache.snapshot()
    assert [first.stats(p).cpu_percent for p in (busy.pid, idle.pid)] == [0.0, 0.0]
    time.sleep(0.5)
    second = cache.snapshot()

    assert second.stats(busy.pid).cpu_percent > 20
    assert second.stats(idle.pid).cpu_percent < 20


def test_checks_sharing_a_snapshot_share_one_reading_of_a_process(spawn: Spawn) -> None:
    child, _ = spawn(SPINNER)
    cache = ProcessTableCache()
    cache.snapshot().stats(child.pid)
    time.sleep(0.3)
    view = cache.snapshot()

    first, second = view.stats(child.pid), view.stats(child.pid)

    assert first is second
    assert second is not None and second.cpu_percent > 20


def test_it_returns_none_for_a_pid_it_does_not_know() -> None:
    view = ProcessTableCache().snapshot()
    unused = max(e.pid for e in view.processes()) + 100_000

    assert view.stats(unused) is None
    assert view.listening_pids(1) == set()
