"""How many HTTP checks per second does one selfreg complete, and what does the engine add?

selfreg runs every HTTP check through one shared aiohttp session and records each run in
SQLite. This script measures that real code path end to end, so a regression anywhere in it
(the check, the runner, the transitions, the store) shows as a lower figure:

- one loopback HTTP server in a separate process (aiohttp, 127.0.0.1, a free port,
  ``/e0`` .. ``/e{N-1}`` answering 200), so the client and the server each get a core;
- ``--endpoints`` (default 2,000) ``checks.http.HttpCheck`` instances built from ``HttpSpec``,
  one per path;
- ``bot.engine.runner.CheckRunner`` with a real store (``bot.store.open_store`` on a temporary
  file) and the production session (``bot.runtime.make_http_session()``), driven by
  ``await runner.run_interval(interval)`` for ``--rounds`` rounds, exactly as the scheduler
  does, so every result is turned into state and written to the store.

Measured: completed checks per second (wall time) and CPU per check of this process (the
client side; the server's CPU is shown apart). The target (issue 15) is at least 4,000 checks
per second on two cores, or within 10 % of the bare aiohttp client measured in the same run. In the same run and the same way, a baseline: a bare aiohttp GET of the same
endpoints with the same concurrency (the same connection pool settings, every request started
at once, body read); the ratio selfreg / bare shows what the engine costs on top of aiohttp.
One unmeasured warm-up round precedes each (connections opened, store series created).

The floor on a fresh connection: ``--fresh`` adds one more bare measurement, GETs one after
the other on a new TCP connection each (aiohttp's ``force_close``), against an HTTP/1.0
``ThreadingHTTPServer``: what one check of a close-per-request endpoint costs in aiohttp and
the kernel alone, split into user and system CPU. It is the floor for the HTTP/1.0 case of
``overhead.py``. Then 50 checks of that server a round, for 40 rounds, CPU per check: bare
GETs started two every 5 ms (selfreg's spread before its start lines), and selfreg's engine
(its checks in line, every run recorded).

    python bench/http_checks.py                  # 2,000 endpoints x 5 rounds
    python bench/http_checks.py --fresh          # and the fresh-connection floor
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil
from loopback import (
    HOST,
    start_server,
    stop_server,
)

from bot.clock import SystemClock
from bot.engine.runner import CheckRunner
from bot.runtime import make_http_session
from bot.store import open_store
from bot.store.samples import count_samples
from checks.http import HttpCheck, HttpSpec

INTERVAL = 60.0  # long enough that every round ends well inside the runner's deadline
TARGET_PER_SECOND = 4000.0
TARGET_OF_BARE = 0.9  # ... or at least this share of the bare client's rate, same run
FRESH_REQUESTS = 2000
FRESH_CHECKS = 50  # the checks of one HTTP/1.0 server in a round, as in overhead.py ...
FRESH_ROUNDS = 40  # ... for this many rounds
SLOT = 0.005  # the timed spread's slot


@dataclass(frozen=True, slots=True)
class Throughput:
    """What a number of rounds cost: wall time, this process's CPU, the server's CPU."""

    label: str
    requests: int
    wall: float
    cpu: float
    server_cpu: float
    machine_busy: float  # CPU seconds every process on the machine used meanwhile
    best_round: float  # requests per second of the fastest round

    @property
    def per_second(self) -> float:
        return self.requests / self.wall

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000.0 * self.cpu / self.requests

    @property
    def server_ms_per_request(self) -> float:
        return 1000.0 * self.server_cpu / self.requests

    @property
    def others_cores(self) -> float:
        """Cores other processes kept busy on average (shared machines are noisy)."""
        return max(self.machine_busy - self.cpu - self.server_cpu, 0.0) / self.wall


@dataclass(frozen=True, slots=True)
class BuildCost:
    """What building the checks cost (outside the measured rounds, reported apart)."""

    seconds: float
    cpu: float
    rss_growth_mb: float


# ---- the loopback HTTP server (its own process) ------------------------------------------
# ---- measuring rounds ---------------------------------------------------------------------
def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


async def timed_rounds(
    label: str,
    one_round: Callable[[], Awaitable[int]],
    rounds: int,
    server: psutil.Process,
) -> Throughput:
    """One warm-up round, then ``rounds`` measured ones; each returns its request count.

    Between them the collector freezes what exists, as a started selfreg does
    (``bot/runtime/lifecycle.py``): the checks, the store and the session then live as long
    as the process and are not walked again by each full collection."""
    await one_round()
    gc.freeze()
    me = psutil.Process()
    cpu, server_cpu, busy = cpu_seconds(me), cpu_seconds(server), machine_busy_seconds()
    requests, best, wall = 0, 0.0, time.perf_counter()
    for _ in range(rounds):
        started = time.perf_counter()
        done = await one_round()
        best = max(best, done / (time.perf_counter() - started))
        requests += done
    return Throughput(
        label=label,
        requests=requests,
        wall=time.perf_counter() - wall,
        cpu=cpu_seconds(me) - cpu,
        server_cpu=cpu_seconds(server) - server_cpu,
        machine_busy=machine_busy_seconds() - busy,
        best_round=best,
    )


# ---- the baseline: bare aiohttp -------------------------------------------------------------
async def fetch(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        await response.read()
        return response.status


async def bare_round(session: aiohttp.ClientSession, urls: list[str]) -> int:
    """GET every URL at once through the pool; fail loudly on anything but 200."""
    statuses = await asyncio.gather(*(fetch(session, url) for url in urls))
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"bare GETs: {len(bad)} of {len(urls)} answered {Counter(bad)}")
    return len(urls)


async def measure_bare(urls: list[str], rounds: int, server: psutil.Process) -> Throughput:
    async with make_http_session() as session:
        return await timed_rounds("bare aiohttp", lambda: bare_round(session, urls), rounds, server)


# ---- selfreg: HttpCheck through CheckRunner into the store ---------------------------------
def build_checks(urls: list[str]) -> tuple[list[HttpCheck], BuildCost]:
    """One ``HttpCheck`` per URL, built as the config loader builds them; and what that cost."""
    me = psutil.Process()
    rss, cpu, wall = me.memory_info().rss, cpu_seconds(me), time.perf_counter()
    built = [
        HttpCheck(HttpSpec(kind="http", name=f"http-{n}", url=url, interval=INTERVAL))
        for n, url in enumerate(urls)
    ]
    cost = BuildCost(
        seconds=time.perf_counter() - wall,
        cpu=cpu_seconds(me) - cpu,
        rss_growth_mb=(me.memory_info().rss - rss) / 1e6,
    )
    return built, cost


async def engine_round(runner: CheckRunner, interval: float = INTERVAL) -> int:
    """One scheduler turn: every check of the interval, run and recorded; all must be ok."""
    await runner.run_interval(interval)
    if runner.in_flight:
        raise RuntimeError(f"{len(runner.in_flight)} checks still running after the round")
    statuses = Counter(state.status.value for state in runner.latest.values())
    if statuses.get("ok", 0) != len(runner.checks):
        raise RuntimeError(f"selfreg checks were not all ok: {dict(statuses)}")
    return len(runner.checks)


async def measure_engine(
    built: list[HttpCheck], rounds: int, server: psutil.Process, db: Path
) -> tuple[Throughput, int]:
    """Run the engine; return its throughput and the number of samples in the store."""
    store = open_store(db)
    try:
        async with make_http_session() as session:
            runner = CheckRunner(
                checks=built,
                store=store,
                clock=SystemClock(),
                http=session,
            )
            result = await timed_rounds(
                "selfreg engine", lambda: engine_round(runner), rounds, server
            )
        samples = count_samples(store)
    finally:
        store.close()
    return result, int(samples)


# ---- report ---------------------------------------------------------------------------------
def report(
    engine: Throughput, bare: Throughput, build: BuildCost, rounds: int, samples: int
) -> None:
    endpoints = engine.requests // rounds
    print()
    print(
        f"HTTP checks against one loopback server, {endpoints} endpoints x {rounds} rounds "
        f"(+1 warm-up each), {psutil.cpu_count()} cores, {time.strftime('%Y-%m-%d')}"
    )
    header = ("per second", "best round/s", "client CPU ms", "server CPU ms", "others' cores")
    print(f"{'':16}" + "".join(f"{h:>15}" for h in header))
    for row in (bare, engine):
        print(
            f"{row.label:16}{row.per_second:>15.0f}{row.best_round:>15.0f}"
            f"{row.cpu_ms_per_request:>15.3f}{row.server_ms_per_request:>15.3f}"
            f"{row.others_cores:>15.2f}"
        )
    rate_ratio = engine.per_second / bare.per_second
    cpu_ratio = engine.cpu_ms_per_request / bare.cpu_ms_per_request
    print(f"{'selfreg / bare':16}{rate_ratio:>14.2f}x{'':15}{cpu_ratio:>14.2f}x")
    overhead = engine.cpu_ms_per_request - bare.cpu_ms_per_request
    print(f"engine CPU on top of aiohttp: {overhead:.3f} ms per check")
    print(
        f"building {endpoints} HttpChecks (not in the rounds): {build.seconds:.2f} s, "
        f"{1000 * build.cpu / endpoints:.2f} ms CPU and {build.rss_growth_mb / endpoints:.3f} MB "
        "RSS per check"
    )
    print(f"samples written to the store: {samples}")
    met = engine.per_second >= TARGET_PER_SECOND or rate_ratio >= TARGET_OF_BARE
    print(
        f"target: at least {TARGET_PER_SECOND:.0f} checks/s on two cores, or within "
        f"{100 * (1 - TARGET_OF_BARE):.0f} % of bare aiohttp -> {'MET' if met else 'MISSED'} "
        f"({engine.per_second:.0f}/s, {rate_ratio:.2f}x bare)"
    )


def user_system() -> tuple[float, float]:
    times = psutil.Process().cpu_times()
    return times.user, times.system


async def fresh_floor(port: int, requests: int) -> tuple[float, float, float]:
    """(user, system, wall) ms per GET on a fresh connection each, one after the other."""
    url = f"http://{HOST}:{port}/e0"
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        for _ in range(100):  # warm-up
            await fetch(session, url)
        (user, system), wall = user_system(), time.perf_counter()
        for _ in range(requests):
            await fetch(session, url)
        (user_end, system_end), wall_end = user_system(), time.perf_counter()
    scale = 1000.0 / requests
    return (user_end - user) * scale, (system_end - system) * scale, (wall_end - wall) * scale


async def cpu_ms_per_check(round_of: Callable[[], Awaitable[object]]) -> float:
    """CPU ms per check of FRESH_ROUNDS rounds of FRESH_CHECKS (one warm-up round first)."""
    await round_of()
    me = psutil.Process()
    cpu = cpu_seconds(me)
    for _ in range(FRESH_ROUNDS):
        await round_of()
    return 1000 * (cpu_seconds(me) - cpu) / (FRESH_ROUNDS * FRESH_CHECKS)


async def fresh_rounds(port: int, db: Path) -> tuple[float, float]:
    """CPU ms per check of FRESH_CHECKS checks of one HTTP/1.0 server, a round at a time:
    bare GETs started two every 5 ms (how selfreg spread such a server's checks until its
    start lines), and selfreg's engine (``run_interval``, recorded)."""
    urls = [f"http://{HOST}:{port}/e{n}" for n in range(FRESH_CHECKS)]
    store = open_store(db)
    try:
        async with make_http_session() as session:

            async def timed_pair(n: int, url: str) -> int:
                await asyncio.sleep(SLOT * (n // 2))
                return await fetch(session, url)

            async def timed() -> None:
                await asyncio.gather(*(timed_pair(n, url) for n, url in enumerate(urls)))

            timed_ms = await cpu_ms_per_check(timed)
            checks = [
                HttpCheck(HttpSpec(kind="http", name=f"fresh-{n:03}", url=url, interval=5.0))
                for n, url in enumerate(urls)
            ]
            runner = CheckRunner(checks=checks, store=store, clock=SystemClock(), http=session)
            engine_ms = await cpu_ms_per_check(lambda: engine_round(runner, 5.0))
    finally:
        store.close()
    return timed_ms, engine_ms


def report_fresh(user: float, system: float, wall: float, timed: float, engine: float) -> None:
    floor = user + system
    print(
        f"floor, one aiohttp GET on a fresh connection (HTTP/1.0 server, {FRESH_REQUESTS} in "
        f"a row): {floor:.3f} ms CPU ({user:.3f} user + {system:.3f} system), "
        f"{wall:.3f} ms wall"
    )
    print(
        f"  50 such checks every 5 s: {100 * 50 * floor / 5000:.3f} % of a core "
        "before any engine work"
    )
    print(
        f"{FRESH_CHECKS} checks of that server a round, {FRESH_ROUNDS} rounds, CPU ms per check: "
        f"bare GETs two every {1000 * SLOT:.0f} ms {timed:.3f}; selfreg's engine (in line, "
        f"recorded) {engine:.3f}, {engine / floor:.2f}x the floor"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=2000, help="checks / paths (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    parser.add_argument("--fresh", action="store_true", help="also the fresh-connection floor")
    args = parser.parse_args(argv)
    if args.endpoints < 1 or args.rounds < 1:
        parser.error("--endpoints and --rounds must be at least 1")
    return args


async def run(endpoints: int, rounds: int, port: int, server: psutil.Process, db: Path) -> None:
    urls = [f"http://{HOST}:{port}/e{n}" for n in range(endpoints)]
    print(f"bare aiohttp: {rounds} rounds of {endpoints} GETs ...", flush=True)
    bare = await measure_bare(urls, rounds, server)
    print(f"building {endpoints} HttpChecks ...", flush=True)
    built, build = build_checks(urls)
    print(f"selfreg engine: {rounds} rounds of {endpoints} checks ...", flush=True)
    engine, samples = await measure_engine(built, rounds, server, db)
    report(engine, bare, build, rounds, samples)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    server: multiprocessing.Process | None = None
    with tempfile.TemporaryDirectory(prefix="selfreg-bench-") as tmp:
        try:
            server, port = start_server(args.endpoints)
            assert server.pid is not None
            watched = psutil.Process(server.pid)
            db = Path(tmp) / "bench.db"
            asyncio.run(run(args.endpoints, args.rounds, port, watched, db))
        finally:
            stop_server(server)
    if args.fresh:
        close_server, close_port = start_server(FRESH_CHECKS, kind="close")
        try:
            floor = asyncio.run(fresh_floor(close_port, FRESH_REQUESTS))
            with tempfile.TemporaryDirectory(prefix="selfreg-bench-") as tmp:
                rounds = asyncio.run(fresh_rounds(close_port, Path(tmp) / "fresh.db"))
            report_fresh(*floor, *rounds)
        finally:
            stop_server(close_server)


if __name__ == "__main__":
    main()
