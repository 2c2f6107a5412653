"""Component output lands in its own file, rotated by size, keeping ``log_keep`` old files."""

from __future__ import annotations

from pathlib import Path

from bot.engine.supervisor.logs import rotate_if_large
from tests.engine.test_supervisor_support import Harness, harness, wait_until

__all__ = ["harness"]

CHATTY = (
    "import sys, time\n"
    "n = 0\n"
    "while True:\n"
    "    n += 1\n"
    "    sys.stdout.write(f'{n:09d} ' + 'x' * 990 + '\\n'); sys.stdout.flush()\n"
    "    time.sleep(0.001)\n"
)


def changed(path: Path) -> int | None:
    """When ``path`` last changed (None while a rotation has it renamed away)."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


async def test_a_chatty_components_log_rotates_and_keeps_log_keep_files(
    harness: Harness,
) -> None:
    supervisor = harness.supervisor(
        harness.component("chatty", CHATTY, log_max_bytes="50kB", log_keep=2),
        log_check_every=0.05,
    )
    await supervisor.start()
    log = harness.log_dir / "chatty.log"
    third = log.with_name("chatty.log.3")

    newest = log.with_name("chatty.log.1")
    assert await wait_until(lambda: log.with_name("chatty.log.2").exists(), 20)
    for _ in range(3):  # a few more rotations: the oldest must keep dropping off
        before = changed(newest)
        assert await wait_until(lambda b=before: changed(newest) not in (None, b), 20)
        assert not third.exists()
    await supervisor.stop()

    names = sorted(p.name for p in harness.log_dir.iterdir())
    assert names == ["chatty.log", "chatty.log.1", "chatty.log.2"]
    assert b"\0" not in log.read_bytes()  # O_APPEND: writes after a truncation start at 0
    older, newer = (
        int(p.read_bytes()[:9])
        for p in (log.with_name("chatty.log.2"), log.with_name("chatty.log.1"))
    )
    assert older < newer  # .1 is the newest


async def test_each_instance_writes_its_own_log(harness: Harness) -> None:
    code = "import os, time; print('instance', os.environ['SELFREG_INSTANCE'], flush=True); time.sleep(600)"
    supervisor = harness.supervisor(harness.component("workers", code, instances=2))
    await supervisor.start()
    logs = [harness.log_dir / f"workers-{i}.log" for i in range(2)]
    assert await wait_until(lambda: all(p.exists() and p.stat().st_size for p in logs), 10)
    assert [p.read_text() for p in logs] == ["instance 0\n", "instance 1\n"]


def test_rotation_shifts_the_old_files_and_drops_the_oldest(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    for generation in range(1, 5):
        log.write_text(f"generation {generation}\n")
        assert rotate_if_large(log, max_bytes=5, keep=2)
    assert log.read_text() == ""
    assert (tmp_path / "api.log.1").read_text() == "generation 4\n"
    assert (tmp_path / "api.log.2").read_text() == "generation 3\n"
    assert not (tmp_path / "api.log.3").exists()
    log.write_text("tiny")
    assert not rotate_if_large(log, max_bytes=5, keep=2)
    assert not rotate_if_large(tmp_path / "missing.log", max_bytes=5, keep=2)
