"""Adaptive scaling under a synthetic load: does a ``[[regulate.scale]]`` rule hold its band
without flapping, and how does a fixed pool do under the same load?

A real ``selfreg run`` (child process) supervises a worker pool, the component ``workers``:
real processes taking jobs from a load server in this process (``tests.support.worker_pool``:
Poisson arrivals following ``PROFILE``, a quiet stretch, a ramp up, an instant surge, a ramp
down; 20 jobs/s a worker). The signal is the pool's busy share over 10 s, read by a
``prometheus`` check from the load server (which answers as Prometheus would); the rule
(mode ``auto``, ``proportional``) keeps it in ``LOW``..``HIGH`` with ``scale_component``
actions, 1 worker at least, 4 at most (after a warm-up at the first rate, so every pool's
busy share is a full window when the profile starts). Beside it, in the same run, the same load (the same
arrivals) against fixed pools of 1 and 4 workers with no regulation: the baselines.

Measured every 0.5 s on each pool, by the bench, from the load server: the busy share (in
band when inside ``LOW``..``HIGH``, or below it with the pool at its minimum) and what jobs
waited for a worker (p90 over 10 s; the latency objective ``SLO``). Printed for each pool: time
in band over the whole run and *after the first move settles* (from the first in-band sample
after the regulated pool's first move to the end; the baselines over the same stretch), the
share of time within the latency objective, and for the regulated pool each move with the
signal that caused it, the moves, direction reversals, and oscillations (reversals within one
cool-down; target 0).

    python bench/regulation.py [--seconds 240] [--seed 1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.store import open_store  # noqa: E402
from bot.store import regulation as store_regulation  # noqa: E402
from tests.support.selfreg_process import SelfregProcess, selfreg_env  # noqa: E402
from tests.support.servers import LoopThread, free_port  # noqa: E402
from tests.support.worker_pool import WORKER, LoadServer, start_workers, stop_workers  # noqa: E402

LOW, HIGH = 0.35, 0.85
SLO = 0.25  # seconds a job may wait for a worker (p90)
MIN, MAX = 1, 4
COOLDOWN = 10.0
PROFILE = [(0, 10), (0.08, 10), (0.35, 32), (0.45, 32), (0.46, 48), (0.6, 48), (0.95, 10), (1, 10)]
BASELINES = (MIN, MAX)
WARM_UP = 15.0  # seconds at the first rate before the profile (and the measuring) starts

CONFIG = """
[[components]]
name = "workers"
command = ["python", "-c", {worker}, "http://127.0.0.1:{port}"]
instances = {min}

[[checks]]
name = "pool"
kind = "prometheus"
url = "http://127.0.0.1:{port}"
query = "avg(rate(worker_busy_seconds_total[10s]))"
metric = "busy"
interval = "1s"
timeout = "1s"

{actions}
[regulate]
budget = "40/1h"

[[regulate.scale]]
name = "workers"
check = "pool"
metric = "busy"
low = {low}
high = {high}
up = "workers-up"
down = "workers-down"
min = {min}
max = {max}
up_for = "1s"
down_for = "3s"
cooldown = "{cooldown}s"
forecast = "10s"
proportional = true
mode = "auto"
budget = "20/1h"
"""

ACTION = """
[[actions]]
name = "workers-{way}"
kind = "scale_component"
component = "workers"
step = {step}
min = {min}
max = {max}
risk = "low"
approvers = ["*"]
cooldown = "0s"
verify_after = "1s"
budget = "20/1h"
"""

Sample = tuple[float, float, int, float]
"""(time, busy share, workers, p90 wait) of one pool."""


def write_config(folder: Path, port: int) -> Path:
    bounds = {"min": MIN, "max": MAX}
    scale = ACTION.format(way="up", step=1, **bounds) + ACTION.format(way="down", step=-1, **bounds)
    config = folder / "selfreg.toml"
    config.write_text(
        CONFIG.format(
            worker=json.dumps(WORKER), port=port, actions=scale, low=LOW, high=HIGH,
            cooldown=COOLDOWN, **bounds,
        )
    )  # fmt: skip
    return config


def run(seconds: float, seed: int, folder: Path) -> tuple[dict[str, list[Sample]], list]:
    """The regulated pool and the baselines under the same load; their samples and moves."""
    loop = LoopThread()
    ports = {name: free_port() for name in ("regulated", *BASELINES)}
    servers = {name: LoadServer(PROFILE, seconds, seed) for name in ports}
    fixed: list = []
    selfreg = None
    samples: dict[str, list[Sample]] = {name: [] for name in ports}
    try:
        for name, server in servers.items():
            loop.run(server.start(ports[name]))
        selfreg = SelfregProcess(
            write_config(folder, ports["regulated"]), selfreg_env(folder / "data")
        )
        selfreg.wait_ready()
        fixed = [w for n in BASELINES for w in start_workers(n, ports[n])]
        time.sleep(WARM_UP)  # the first rate, steady, until every busy share is a full window
        for server in servers.values():
            server.started = time.monotonic()  # the profile starts now, on every pool at once
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.5)
            for name, server in servers.items():
                samples[name].append(loop.call(lambda s=server: pool_sample(s)))
    finally:
        if selfreg is not None:
            selfreg.stop()
        stop_workers(fixed)
        for server in servers.values():
            loop.run(server.stop())
        loop.close()
    return samples, decisions(folder / "data" / "selfreg.db")


def pool_sample(server: LoadServer) -> Sample:
    return (time.time(), server.busy_share(), server.workers(), server.wait_p90())


def decisions(path: Path) -> list:
    store = open_store(path, readonly=True)
    try:
        return list(reversed(store_regulation.decisions(store, "workers", 1000)))
    finally:
        store.close()


def in_band(sample: Sample) -> bool:
    _, busy, workers, _ = sample
    return LOW <= busy <= HIGH or (busy < LOW and workers <= MIN)


def shares(samples: list[Sample], since: float) -> dict[str, float]:
    """Time in band (all, and from ``since``) and within the latency objective."""
    after = [s for s in samples if s[0] >= since]
    return {
        "in_band": sum(map(in_band, samples)) / max(len(samples), 1),
        "after": sum(map(in_band, after)) / max(len(after), 1),
        "slo": sum(1 for s in samples if s[3] <= SLO) / max(len(samples), 1),
    }


def settled_at(samples: list[Sample], moved: list) -> float:
    """The first in-band sample after the first move (the end of the run when none)."""
    if not moved:
        return samples[-1][0] if samples else 0.0
    return next((s[0] for s in samples if s[0] > moved[0].at and in_band(s)), samples[-1][0])


def report(samples: dict[str, list[Sample]], rows: list, seconds: float) -> None:
    moved = [d for d in rows if d.outcome == "moved"]
    since = settled_at(samples["regulated"], moved)
    start = samples["regulated"][0][0] if samples["regulated"] else 0.0
    for d in moved:
        signal = d.signal
        print(
            f"  +{d.at - start:5.1f} s  {'up  ' if d.direction > 0 else 'down'} from "
            f"{signal.get('instances')} workers: busy {signal.get('value', 0):.2f} "
            f"({signal.get('why')} for {signal.get('lasted', 0):.0f} s)"
        )
    reversals = [(a, b) for a, b in itertools.pairwise(moved) if a.direction != b.direction]
    oscillations = sum(1 for a, b in reversals if b.at - a.at < COOLDOWN)
    print(
        f"load {PROFILE} (share of {seconds:.0f} s, jobs/s); band {LOW}..{HIGH} busy; "
        f"settled {since - start:.0f} s into the run"
    )
    for name, found in samples.items():
        share = shares(found, since)
        label = "regulated" if name == "regulated" else f"fixed {name}"
        print(
            f"{label:>9}: in band {share['in_band']:.0%} of the run, {share['after']:.0%} after "
            f"the first move settled; jobs waited at most {SLO} s (p90) {share['slo']:.0%}"
        )
    ups = sum(1 for d in moved if d.direction > 0)
    print(
        f"regulated: scale moves {len(moved)} ({ups} up, {len(moved) - ups} down), reversals "
        f"{len(reversals)}, oscillations {oscillations}, decisions not moved "
        f"{len(rows) - len(moved)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        samples, rows = run(args.seconds, args.seed, Path(folder))
    report(samples, rows, args.seconds)


if __name__ == "__main__":
    main()
