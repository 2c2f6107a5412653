"""``selfreg.log`` is rotated at start and while selfreg runs, by copy-then-truncate.

A real child process writes into the file the way a detached selfreg does (its stdout, an
inherited descriptor opened with O_APPEND by ``selfreg start``), so the rotation is proven
against a writer that keeps its file open.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bot.runtime import own_log

# writes numbered 100-byte lines until stdin closes (bounded: 20 s at most)
WRITER = """
import sys, time, select
deadline = time.monotonic() + 20
n = 0
while time.monotonic() < deadline:
    if select.select([sys.stdin], [], [], 0.002)[0]:
        break
    n += 1
    sys.stdout.write(f"{n:08d} " + "x" * 90 + "\\n")
    sys.stdout.flush()
"""


def test_a_log_past_its_limit_is_rotated_and_old_ones_shift(tmp_path: Path) -> None:
    log = tmp_path / "selfreg.log"
    for generation in ("first", "second", "third", "fourth"):
        log.write_text(generation * 10)
        own_log.rotate(log, limit=20, keep=2)
    assert log.read_text() == ""  # truncated in place: a writer keeps writing into it
    assert (tmp_path / "selfreg.log.1").read_text().startswith("fourth")
    assert (tmp_path / "selfreg.log.2").read_text().startswith("third")
    assert not (tmp_path / "selfreg.log.3").exists()


def test_a_small_log_is_left_to_grow(tmp_path: Path) -> None:
    log = tmp_path / "selfreg.log"
    log.write_text("short")
    assert not own_log.rotate(log, limit=1000)
    assert log.read_text() == "short" and not (tmp_path / "selfreg.log.1").exists()


async def test_a_running_writer_log_is_kept_small_while_it_writes(tmp_path: Path) -> None:
    log = own_log.log_file(tmp_path)
    with log.open("ab") as output:
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER], stdin=subprocess.PIPE, stdout=output
        )
    keeper = asyncio.create_task(own_log.keep_rotated(log, every=0.05, limit=20_000))
    try:
        for _ in range(200):  # up to 10 s for two rotations to have happened
            await asyncio.sleep(0.05)
            if (tmp_path / "selfreg.log.2").exists():
                break
    finally:
        keeper.cancel()
        assert writer.stdin is not None
        writer.stdin.close()
        writer.wait(10)
    assert (tmp_path / "selfreg.log.2").exists()
    assert log.stat().st_size < 200_000  # never the whole output in one file
    text = log.read_bytes()
    assert b"\0" not in text  # O_APPEND: after a truncation the next write lands at 0
    lines = text.decode().splitlines()
    assert lines and all(len(line) == 99 for line in lines[:-1])
