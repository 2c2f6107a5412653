"""How fast is the dashboard over a full store, and what does it cost while nobody looks?

Seeds a store as 100 metrics watched for 30 days leave it: 30 days of one-minute rollups
(4.3 million rows) and 24 h of raw samples every 5 s (1.7 million rows), plus components,
incidents, a proposal and predictions (``tests/support/dashboard_seed.py``). Then, over the
dashboard's own read-only ``Reader`` (what the web server uses):

- the overview: reading it and rendering its HTML, every time (median and worst of N);
- a 30-day chart: its data (rollups folded into 400 min/mean/max buckets, thresholds,
  anomaly marks, transitions) and its SVG;
- the same two through HTTP on 127.0.0.1, as a browser asks for them;
- CPU while idle: the dashboard served by a child process, its CPU time over a window with
  no page open, and (for contrast) with one page holding the live stream.

Targets (issue 14): overview under 150 ms, 30-day chart data under 300 ms, no measurable
CPU while nobody looks. Usage: ``python3 bench/dashboard.py [--runs 20] [--idle 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store import open_store
from bot.store.history import Series
from bot.store.samples import find_series
from bot.web.dashboard_data import Reader
from bot.web.dashboard_html import overview_page
from bot.web.svg import chart_svg
from tests.support.dashboard_seed import NOW, seed
from tests.support.dashboard_server import FACTS, DashboardServer

METRICS, DAYS, STEP = 100, 30, 5.0


def timed(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, worst) milliseconds of ``runs`` calls after one warm-up call."""
    work()
    found = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        found.append((time.perf_counter() - start) * 1000)
    return statistics.median(found), max(found)


async def over_http(url: str, runs: int) -> tuple[float, float]:
    async with aiohttp.ClientSession() as http:

        async def once() -> None:
            async with http.get(url) as answer:
                await answer.read()

        await once()
        found = []
        for _ in range(runs):
            start = time.perf_counter()
            await once()
            found.append((time.perf_counter() - start) * 1000)
    return statistics.median(found), max(found)


def idle_cpu(path: Path, seconds: float, watching: bool) -> float:
    """CPU % of one core a child process serving the dashboard uses over ``seconds``."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        time.sleep(2.0)
        stream = None
        if watching:
            stream = subprocess.Popen(
                ["curl", "-sN", f"{url}/dashboard/events"], stdout=subprocess.DEVNULL
            )
            time.sleep(1.0)
        proc = psutil.Process(child.pid)
        before = proc.cpu_times()
        time.sleep(seconds)
        after = proc.cpu_times()
        if stream is not None:
            stream.kill()
            stream.wait()
        used = (after.user - before.user) + (after.system - before.system)
        return used / seconds * 100
    finally:
        child.kill()
        child.wait()


def serve(path: Path) -> None:
    """The child of ``idle_cpu``: serve the dashboard until killed."""
    server = DashboardServer(path, time.time)
    print(server.start(), flush=True)
    while True:
        time.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--serve", type=Path)
    parser.add_argument(
        "--store", type=Path, help="keep the seeded store here and reuse it on the next run"
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.store or Path(folder) / "selfreg.db"
        seeded = path.exists()
        store = open_store(path)
        if not seeded:
            start = time.perf_counter()
            seed(store, metrics=METRICS, days=DAYS, raw_hours=24, step=STEP)
            print(f"seeded {METRICS} metrics, {DAYS} days, in {time.perf_counter() - start:.1f} s")
        reader = Reader(store.path, lambda: FACTS, lambda: NOW)
        found = find_series(store, "api-health", "", "latency")
        assert found is not None
        series = Series(id=found, check="api-health", subject="", metric="latency")
        rows = [
            ("overview: read + HTML", timed(lambda: overview_page(reader.overview(), FACTS), args.runs), 150),
            ("30-day chart: data", timed(lambda: reader.chart(series, NOW - 30 * 86400, NOW), args.runs), 300),
            ("30-day chart: data + SVG", timed(lambda: chart_svg(reader.chart(series, NOW - 30 * 86400, NOW)), args.runs), 300),
            ("24 h chart (rollups): data + SVG", timed(lambda: chart_svg(reader.chart(series, NOW - 86400, NOW)), args.runs), 300),
            ("1 h chart (raw, 720 points): data + SVG", timed(lambda: chart_svg(reader.chart(series, NOW - 3600, NOW)), args.runs), 300),
        ]  # fmt: skip
        server = DashboardServer(store.path, lambda: NOW)
        url = server.start()
        rows.append(
            ("GET /dashboard over HTTP", asyncio.run(over_http(f"{url}/dashboard", args.runs)), 150)
        )
        rows.append(("GET /dashboard/check/api-health?range=30d", asyncio.run(over_http(f"{url}/dashboard/check/api-health?range=30d", args.runs)), 300))  # fmt: skip
        server.stop()
        print(f"{'what':48} {'median ms':>10} {'worst ms':>9} {'target':>7}")
        for name, (median, worst), target in rows:
            print(f"{name:48} {median:10.1f} {worst:9.1f} {'<' + str(target):>7}")
        quiet = idle_cpu(store.path, args.idle, watching=False)
        watched = idle_cpu(store.path, args.idle, watching=True)
        print(f"CPU of a process serving the dashboard, nobody looking: {quiet:.3f} % of a core")
        print(f"CPU of the same with one page holding the live stream: {watched:.3f} % of a core")
        store.close()


if __name__ == "__main__":
    main()
