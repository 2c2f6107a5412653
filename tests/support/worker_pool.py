"""A demo worker pool under a synthetic load, for ``bench/regulation.py``.

``LoadServer`` (an aiohttp server on 127.0.0.1) is the pool's queue: jobs arrive as a Poisson
process whose rate follows a profile (ramps and a surge, as real load changes), and each worker
(``WORKER``, a real process) long-polls ``POST /take`` for the next job and works on it for an
exponentially distributed time (``SERVICE`` on average: 1 / SERVICE jobs a second a worker).
It also answers ``POST /api/v1/query`` as a Prometheus would a query of the pool's busy share:
the share of its live workers' time spent on jobs over the last ``WINDOW`` seconds (what
``avg(rate(busy_seconds_total[10s]))`` gives a real pool), so a ``prometheus`` check reads it.
What a job waited for a worker is kept too: the latency a client of the pool sees.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence

from aiohttp import web

SERVICE = 0.05  # seconds of work a job, on average: 20 jobs/s a worker
WINDOW = 10.0  # seconds the busy share is measured over
TICK = 0.1  # how often the busy share is sampled
ALIVE = 2.0  # a worker not heard from for this long is gone

WORKER = """
import sys, time, urllib.request
url = sys.argv[1] + "/take?pid=" + str(__import__("os").getpid())
while True:
    try:
        work = float(urllib.request.urlopen(urllib.request.Request(url, method="POST"),
                                            timeout=5).read())
    except (OSError, ValueError):
        work = 0.0
        time.sleep(0.1)
    time.sleep(work)  # the job's work (0: none came within the long poll)
"""

Profile = Sequence[tuple[float, float]]
"""(share of the run, jobs a second) points, the rate linear between them."""


def rate_at(profile: Profile, share: float) -> float:
    """The arrival rate at ``share`` of the run."""
    for (a, rate_a), (b, rate_b) in itertools.pairwise(profile):
        if share <= b:
            return rate_a + (rate_b - rate_a) * (share - a) / (b - a) if b > a else rate_b
    return profile[-1][1]


class LoadServer:
    """The queue: jobs arrive by the profile, workers take them one at a time."""

    def __init__(self, profile: Profile, seconds: float, seed: int) -> None:
        self.profile, self.seconds = profile, seconds
        self.arrivals_rng, self.work_rng = random.Random(seed), random.Random(seed + 1)
        self.started = time.monotonic()
        self.jobs: asyncio.Queue[float] = asyncio.Queue()
        self.seen: dict[int, float] = {}
        self.busy_until: dict[int, float] = {}
        self.busy: deque[tuple[int, int]] = deque(maxlen=int(WINDOW / TICK))
        self.waits: deque[tuple[float, float]] = deque()
        self.runner: web.AppRunner | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def rate(self) -> float:
        return rate_at(self.profile, (time.monotonic() - self.started) / self.seconds)

    async def take(self, request: web.Request) -> web.Response:
        pid = int(request.query.get("pid", "0"))
        self.seen[pid] = time.monotonic()
        try:
            arrived = await asyncio.wait_for(self.jobs.get(), 1.0)
        except TimeoutError:
            return web.Response(text="0")
        now = self.seen[pid] = time.monotonic()
        work = self.work_rng.expovariate(1 / SERVICE)
        self.busy_until[pid] = now + work
        self.waits.append((now, now - arrived))
        return web.Response(text=f"{work:.4f}")

    async def query(self, request: web.Request) -> web.Response:
        value = [time.time(), f"{self.busy_share():.4f}"]
        result = [{"metric": {}, "value": value}]
        return web.json_response(
            {"status": "success", "data": {"resultType": "vector", "result": result}}
        )

    def workers(self) -> int:
        """Workers heard from lately (a scaled-down one is gone within ``ALIVE``)."""
        now = time.monotonic()
        return sum(1 for at in self.seen.values() if now - at < ALIVE)

    def busy_share(self) -> float:
        """The live workers' busy share over the last ``WINDOW`` seconds."""
        return sum(b for b, _ in self.busy) / max(1, sum(n for _, n in self.busy))

    def wait_p90(self) -> float:
        """The 90th percentile of what jobs waited for a worker over the last ``WINDOW``."""
        now = time.monotonic()
        while self.waits and self.waits[0][0] < now - WINDOW:
            self.waits.popleft()
        waits = sorted(w for _, w in self.waits)
        return waits[int(0.9 * (len(waits) - 1))] if waits else 0.0

    async def _arrive(self) -> None:
        while not self.seen:  # the pool opens when its first worker asks for work
            await asyncio.sleep(0.05)
        due = time.monotonic()
        while True:
            due += self.arrivals_rng.expovariate(self.rate())
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            self.jobs.put_nowait(due)

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            busy = sum(
                1
                for pid, until in self.busy_until.items()
                if until > now and now - self.seen[pid] < ALIVE
            )
            self.busy.append((busy, self.workers()))

    async def start(self, port: int) -> None:
        app = web.Application()
        app.router.add_post("/take", self.take)
        app.router.add_post("/api/v1/query", self.query)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.started = time.monotonic()
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._arrive()), loop.create_task(self._sample())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.runner is not None:
            await self.runner.cleanup()


def start_workers(count: int, port: int) -> list[subprocess.Popen[bytes]]:
    """A fixed pool: ``count`` workers, no regulation (the baseline)."""
    command = [sys.executable, "-c", WORKER, f"http://127.0.0.1:{port}"]
    return [subprocess.Popen(command) for _ in range(count)]


def stop_workers(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(10)
