"""bot.pidfile: claiming a data folder's pid file, recognising a stale one, releasing it.

Real files under tmp_path; where the file names a process, a real child process (alive, or
ended and reaped) stands for it, so "alive" is decided by /proc as in production.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from bot import __version__, pidfile
from bot.engine.supervisor.processes import Identity, identity_of
from bot.errors import AlreadyStarted

# prints a line once running, then sleeps until killed (bounded: 60 s at most)
SLEEPER = "import sys, time; print('up', flush=True); time.sleep(60)"


@contextmanager
def child(*extra: str) -> Iterator[subprocess.Popen[str]]:
    """A live python child; ``extra`` words end up in its command line."""
    process = subprocess.Popen(
        [sys.executable, "-c", SLEEPER, *extra], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "up"
        yield process
    finally:
        process.kill()
        process.wait(5)


def ended_identity() -> Identity:
    """The identity of a process that ran and is gone (reaped) now."""
    with child() as process:
        identity = identity_of(process.pid, process.args)
    assert identity is not None
    return identity


def write_identity(path: Path, identity: Identity) -> None:
    """A pid file as ``claim`` writes it: the pid, then the identity as JSON."""
    path.write_text(f"{identity.pid}\n{json.dumps(asdict(identity))}\n")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return pidfile.pid_path(tmp_path / "data")


def test_claim_writes_the_pid_then_this_process_identity(path: Path) -> None:
    assert not path.parent.exists()
    done = pidfile.claim(path)
    assert done == f"{path} holds pid {os.getpid()}"
    assert path.name == "selfreg.pid"
    lines = path.read_text().splitlines()
    assert lines[0] == str(os.getpid())  # what `kill $(head -1 selfreg.pid)` reads
    found = pidfile.read(path)
    assert isinstance(found, Identity)
    assert found == pidfile.own_identity()
    assert json.loads(lines[1])["pid"] == os.getpid()
    assert pidfile.alive(found)
    assert pidfile.pid_of(found) == os.getpid()
    assert pidfile.started_at(found) == found.create_time


def test_a_second_claim_while_the_first_lives_is_refused(path: Path) -> None:
    pidfile.claim(path)
    before = path.read_text()
    with pytest.raises(AlreadyStarted) as refused:
        pidfile.claim(path)
    assert refused.value.pid == os.getpid() and refused.value.path == path
    text = str(refused.value)
    assert f"selfreg already runs with this data folder (pid {os.getpid()}, up " in text
    assert f"pid file {path}): `selfreg stop` or `selfreg restart` it" in text
    assert path.read_text() == before  # untouched


def test_a_dead_process_makes_the_file_stale_and_claim_replaces_it(path: Path) -> None:
    gone = ended_identity()
    path.parent.mkdir(parents=True)
    write_identity(path, gone)
    assert pidfile.read(path) == gone
    assert not pidfile.alive(gone)
    done = pidfile.claim(path)
    assert done == f"{path} holds pid {os.getpid()} (replaced a stale one of pid {gone.pid})"
    assert pidfile.pid_of(pidfile.read(path)) == os.getpid()


def test_an_identity_from_another_boot_is_stale(path: Path) -> None:
    own = pidfile.own_identity()
    assert own is not None
    other_boot = replace(own, boot_id="00000000-0000-0000-0000-000000000000")
    path.parent.mkdir(parents=True)
    write_identity(path, other_boot)
    assert not pidfile.alive(pidfile.read(path))  # same pid, same ticks: another boot
    assert "(replaced a stale one of pid" in pidfile.claim(path)


def test_a_reused_pid_with_other_start_ticks_is_stale(path: Path) -> None:
    with child("selfreg") as process:
        live = identity_of(process.pid, process.args)
        assert live is not None and pidfile.alive(live)
        reused = replace(live, start_ticks=live.start_ticks - 1)  # an earlier process's pid
        path.parent.mkdir(parents=True)
        write_identity(path, reused)
        assert not pidfile.alive(pidfile.read(path))
        done = pidfile.claim(path)
    assert done.endswith(f"(replaced a stale one of pid {process.pid})")


def test_a_bare_pid_counts_only_when_that_process_is_a_selfreg(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with child("some-other-program") as other:
        path.write_text(f"{other.pid}\n")  # written by hand: no identity
        assert pidfile.read(path) == other.pid
        assert pidfile.started_at(other.pid) is None
        assert not pidfile.alive(other.pid)  # alive, but not a selfreg
        assert pidfile.claim(path).endswith(f"(replaced a stale one of pid {other.pid})")
    with child("selfreg-marker") as selfreg:
        path.write_text(f"{selfreg.pid}\n")
        assert pidfile.alive(selfreg.pid)
        with pytest.raises(AlreadyStarted) as refused:
            pidfile.claim(path)
        assert refused.value.pid == selfreg.pid
        assert f"(pid {selfreg.pid}; pid file {path})" in str(refused.value)  # no "up ..."


def test_a_bare_dead_pid_is_stale(path: Path) -> None:
    gone = ended_identity()
    path.parent.mkdir(parents=True)
    path.write_text(f"{gone.pid}\n")
    assert not pidfile.alive(gone.pid)
    assert pidfile.claim(path).endswith(f"(replaced a stale one of pid {gone.pid})")


def test_garbled_or_missing_files_read_as_nothing_and_are_replaced(path: Path) -> None:
    assert pidfile.read(path) is None  # no folder yet
    assert pidfile.read(path / "below-a-file") is None
    assert not pidfile.alive(None)
    path.parent.mkdir(parents=True)
    for text in ("", "not a pid\n", "\n12\n"):
        path.write_text(text)
        assert pidfile.read(path) is None
    path.write_text("4242\n{not json\n")  # a bad identity line: the bare pid is kept
    assert pidfile.read(path) == 4242
    path.write_text('4242\n{"pid": 4242}\n')  # an identity missing fields: the bare pid
    assert pidfile.read(path) == 4242
    path.write_text("garbage")
    assert pidfile.claim(path) == f"{path} holds pid {os.getpid()} (replaced)"


def test_release_removes_only_this_process_file(path: Path) -> None:
    pidfile.release(path)  # nothing there: nothing to do
    pidfile.claim(path)
    pidfile.release(path)
    assert not path.exists()
    pidfile.release(path)  # twice is fine

    with child("selfreg") as other:
        path.write_text(f"{other.pid}\n")
        pidfile.release(path)
        assert path.read_text() == f"{other.pid}\n"  # another selfreg's: kept


def test_process_facts_name_this_process() -> None:
    facts = pidfile.process_facts()
    assert facts["pid"] == os.getpid()
    assert facts["version"] == __version__
    assert isinstance(facts["started_at"], float) and facts["started_at"] > 0


@pytest.fixture(autouse=True)
def release_claims(path: Path) -> Iterator[None]:
    """Each test's claims end with it (the lock is held per process, like selfreg's)."""
    yield
    pidfile.release(path)


def test_the_lock_not_the_file_decides_and_dies_with_its_holder(path: Path) -> None:
    """A holder of the flock refuses others even with no pid file; kill -9 frees it."""
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        path.unlink()  # the pid file gone: the kernel lock still says no
        with pytest.raises(AlreadyStarted) as refused:
            pidfile.claim(path)
        assert "(starting now; pid file" in str(refused.value)
    finally:
        holder.kill()
        holder.wait(5)
    assert pidfile.claim(path) == f"{path} holds pid {os.getpid()}"


def test_claims_racing_from_many_processes_leave_exactly_one_winner(path: Path) -> None:
    """Four processes claim the same folder at one instant, 5 rounds: one wins each."""
    path.parent.mkdir(parents=True)
    for round_number in range(5):
        go = path.parent / f"go-{round_number}"
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(path), str(go)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        assert all(racer.stdout and racer.stdout.readline() == "ready\n" for racer in racers)
        go.touch()
        outcomes = [racer.communicate(timeout=30)[0].strip() for racer in racers]
        assert sorted(outcomes) == ["refused"] * 3 + ["won"], (round_number, outcomes)


# takes the lock the way selfreg does, says so, then waits to be killed (60 s at most)
LOCKER = """
import sys, time
from pathlib import Path
from bot import pidfile
pidfile.claim(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(60)
"""

# says it is ready, waits for the go file, claims, reports, and holds a winning claim while the others try
RACER = """
import sys, time
from pathlib import Path
from bot import pidfile
from bot.errors import AlreadyStarted
path, go = Path(sys.argv[1]), Path(sys.argv[2])
print("ready", flush=True)
deadline = time.monotonic() + 20
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
try:
    pidfile.claim(path)
except AlreadyStarted:
    print("refused")
else:
    time.sleep(0.3)
    pidfile.release(path)
    print("won")
"""
