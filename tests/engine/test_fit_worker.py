"""The fit worker process never outlives selfreg and leaves nothing behind
(bot/engine/predict/fit.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bot.engine.predict.fit import FitPool
from bot.errors import FitFailed

ROOT = Path(__file__).resolve().parents[2]

PARENT = """
import asyncio, os, sys, time
from bot.engine.predict.fit import FitPool

async def main():
    pool = FitPool()
    print(await pool.run(os.getpid), flush=True)
    time.sleep(60)  # killed long before: the pool is never shut down

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )


def test_a_worker_whose_selfreg_is_killed_9_ends_within_seconds() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert worker != parent.pid and _alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the fit worker outlived its killed parent"
    finally:
        parent.kill()
        parent.wait(timeout=10)


def _children() -> set[int]:
    return {child.pid for child in psutil.Process().children() if _alive(child.pid)}


def test_a_retrains_fits_run_elsewhere_and_leave_no_process_behind() -> None:
    before = _children()

    async def fits() -> tuple[list[int], int]:
        async with FitPool() as pool:
            first = await pool.run(os.getpid)
            assert await pool.run(sum, [1, 2, 3]) == 6
        return pool.pids, first

    pids, first = asyncio.run(fits())
    assert first != os.getpid() and pids == [first, first]  # one worker for the retrain
    assert _children() <= before, "a helper process (e.g. a resource tracker) stayed"


def test_a_fit_that_raises_in_the_worker_is_fit_failed_with_its_traceback() -> None:
    async def fails() -> None:
        async with FitPool() as pool:
            await pool.run(int, "not a number")

    with pytest.raises(FitFailed, match="invalid literal"):
        asyncio.run(fails())
