"""Adaptive scaling under a synthetic load: does a ``[[regulate.scale]]`` rule hold its band
without flapping?

A real ``selfreg run`` (child process) supervises a worker pool: the component ``workers``,
each instance a small Python program that takes jobs from a load server (this process, an
aiohttp server on 127.0.0.1) one at a time, ``SERVICE`` seconds each. The load server adds
jobs at a rate that follows ``PROFILE`` (quiet, a surge needing three workers, quiet again),
and answers ``/probe`` after a delay proportional to its queue (``PER_JOB`` a job), so the
``http`` check's ``latency`` is the signal. The rule (mode ``auto``) keeps it in
``LOW``..``HIGH`` with ``scale_component`` actions, 3 samples of hysteresis (15 to scale
down) and a 10 s cool-down.

Printed: the time in band (every 0.5 s the bench samples the queue's latency: in band when
inside the band, or below it with the pool already at its minimum) and at or under ``HIGH``,
each move with the signal that caused it, the scale moves (from the store's decisions), and
oscillations: direction reversals within one cool-down (target 0).

    python bench/regulation.py [--seconds 160]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.store import open_store  # noqa: E402
from bot.store import regulation as store_regulation  # noqa: E402
from tests.support.selfreg_process import SelfregProcess, selfreg_env  # noqa: E402
from tests.support.servers import LoopThread, free_port  # noqa: E402

SERVICE = 0.05  # seconds a worker spends on one job: 20 jobs/s per worker at most
PER_JOB = 0.005  # probe delay per queued job: 50 jobs = 0.25 s
LOW, HIGH = 0.02, 0.25
COOLDOWN = 10.0
PROFILE = [(0.2, 12.0), (0.6, 45.0), (1.0, 12.0)]  # (until this share of the run, jobs/s)

WORKER = """
import os, sys, time, urllib.request
url = sys.argv[1] + "/take?pid=" + str(os.getpid())
while True:
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=5).read()
    except OSError:
        pass
    time.sleep(%(service)r)  # one job's work, or a pause before asking again
"""

CONFIG = """
[[components]]
name = "workers"
command = ["python", "-c", {worker}, "http://127.0.0.1:{port}"]
instances = 1

[[checks]]
name = "queue"
kind = "http"
url = "http://127.0.0.1:{port}/probe"
interval = "1s"
timeout = "3s"

{actions}
[regulate]
budget = "40/1h"

[[regulate.scale]]
name = "workers"
check = "queue"
metric = "latency"
low = {low}
high = {high}
up = "workers-up"
down = "workers-down"
min = 1
max = 4
samples = 3
down_samples = 15
cooldown = "{cooldown}s"
mode = "auto"
budget = "20/1h"
"""


ACTION = """
[[actions]]
name = "workers-{way}"
kind = "scale_component"
component = "workers"
step = {step}
min = 1
max = 4
risk = "low"
approvers = ["*"]
cooldown = "0s"
verify_after = "1s"
budget = "20/1h"
"""


class LoadServer:
    """The queue: jobs arrive by the profile, workers take them, /probe answers slower the
    longer the queue."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.depth = 0.0
        self.started = time.monotonic()
        self.seen: dict[int, float] = {}
        self.runner: web.AppRunner | None = None
        self.arrivals: asyncio.Task[None] | None = None

    def rate(self) -> float:
        share = (time.monotonic() - self.started) / self.seconds
        return next((r for until, r in PROFILE if share < until), PROFILE[-1][1])

    async def take(self, request: web.Request) -> web.Response:
        self.seen[int(request.query.get("pid", "0"))] = time.monotonic()
        if self.depth >= 1.0:
            self.depth -= 1.0
            return web.Response(text="1")
        return web.Response(text="0")

    async def probe(self, request: web.Request) -> web.Response:
        await asyncio.sleep(min(self.depth * PER_JOB, 2.0))
        return web.Response(text="ok")

    async def arrive(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            self.depth += self.rate() * 0.1

    def workers(self) -> int:
        now = time.monotonic()
        return sum(1 for at in self.seen.values() if now - at < 1.0)

    async def start(self, port: int) -> None:
        app = web.Application()
        app.router.add_post("/take", self.take)
        app.router.add_get("/probe", self.probe)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.arrivals = asyncio.get_running_loop().create_task(self.arrive())

    async def stop(self) -> None:
        if self.arrivals is not None:
            self.arrivals.cancel()
        if self.runner is not None:
            await self.runner.cleanup()


def run(seconds: float, folder: Path) -> dict[str, float]:
    port = free_port()
    loop = LoopThread()
    server = LoadServer(seconds)
    loop.run(server.start(port))
    config = folder / "selfreg.toml"
    worker = json.dumps(WORKER % {"service": SERVICE})
    scale = ACTION.format(way="up", step=1) + ACTION.format(way="down", step=-1)
    values = {"low": LOW, "high": HIGH, "cooldown": COOLDOWN, "actions": scale}
    config.write_text(CONFIG.format(worker=worker, port=port, **values))
    selfreg = SelfregProcess(config, selfreg_env(folder / "data"))
    in_band = under_high = total = 0
    try:
        selfreg.wait_ready()
        server.started = time.monotonic()
        deadline = server.started + seconds
        while time.monotonic() < deadline:
            time.sleep(0.5)
            latency = loop.call(lambda: server.depth) * PER_JOB
            workers = loop.call(server.workers)
            total += 1
            in_band += LOW <= latency <= HIGH or (latency < LOW and workers <= 1)
            under_high += latency <= HIGH
    finally:
        selfreg.stop()
        loop.run(server.stop())
        loop.close()
    shares = {"in_band": in_band / max(total, 1), "under_high": under_high / max(total, 1)}
    return {**shares, **moves(folder / "data" / "selfreg.db")}


def moves(path: Path) -> dict[str, float]:
    """Scale moves and direction reversals within a cool-down, from the store's decisions."""
    store = open_store(path, readonly=True)
    try:
        rows = list(reversed(store_regulation.decisions(store, "workers", 1000)))
    finally:
        store.close()
    moved = [d for d in rows if d.outcome == "moved"]
    reversals = sum(
        1
        for a, b in itertools.pairwise(moved)
        if a.direction != b.direction and b.at - a.at < COOLDOWN
    )
    ups = sum(1 for d in moved if d.direction > 0)
    start = rows[0].at if rows else 0.0
    for d in moved:
        signal = d.signal
        print(
            f"  +{d.at - start:5.1f} s  {'up  ' if d.direction > 0 else 'down'} from "
            f"{signal.get('instances')} instances: latency {signal.get('value', 0):.3f} s "
            f"({signal.get('why')}, recent {[round(v, 3) for v in signal.get('recent', [])[-3:]]})"
        )
    return {
        "moves": len(moved),
        "up": ups,
        "down": len(moved) - ups,
        "oscillations": reversals,
        "not_moved": len(rows) - len(moved),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=160.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = run(args.seconds, Path(folder))
    print(
        f"regulation over {args.seconds:.0f} s (load {PROFILE}): time in band "
        f"{result['in_band']:.0%} (at or under high {result['under_high']:.0%}), scale moves {result['moves']} ({result['up']} up, "
        f"{result['down']} down), oscillations {result['oscillations']}, "
        f"decisions not moved {result['not_moved']}"
    )


if __name__ == "__main__":
    main()
