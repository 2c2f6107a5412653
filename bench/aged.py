"""A selfreg data folder aged by hours: its store holds ``hours`` of history for every series
the config's checks produce, and its models were trained on it, so the next ``selfreg run``
starts with its models ready and its windows grown (the steady state a long-running selfreg
reaches, measured in minutes instead of hours).

How: selfreg runs the config for ``ROUNDS`` check rounds (three minutes at 5 s: every series
exists, with real values and their real spread); then the store gets ``hours`` of samples
before those, one per interval, each one of its series' real values drawn at random, times a
random factor that spreads it as much again on a log scale (whole numbers, counts and codes,
stay as drawn). Hours of history spread wider than three minutes do, and a history as narrow
as the short run makes ordinary latencies look anomalous once the models are ready: aged
from 36 real values alone, the HTTP/1.0 selfreg opened 100 latency incidents in its first
minutes (2 on keep-alive), from 5 % noise around three values 123. Then it is rolled up into
minutes as the minute job would have done; the short run's saved model state is removed and
``selfreg models train`` replays the store into cold models and fits the group forests in
its worker, as an operator would after an import. Only the bench calls this
(``bench/overhead.py --aged``).
"""

from __future__ import annotations

import math
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bot.store import open_store, retention, samples
from checks.base import Observation, Status

ROUNDS = 36  # check rounds of the short run: every series has real values to draw from
TRAIN_TIMEOUT = 900.0
BATCH = 100  # intervals added per transaction


def age(config: Path, env: dict[str, str], hours: float, interval: float, running) -> None:
    """Age the data folder in ``env`` by ``hours`` (see the module docstring); ``running`` is
    the bench's context manager that runs selfreg until it says it runs."""
    started = time.monotonic()
    with running(config, env):
        time.sleep(ROUNDS * interval + 1.0)
    data_dir = Path(env["SELFREG_DATA_DIR"])
    shutil.rmtree(data_dir / "models", ignore_errors=True)
    count = seed_history(data_dir / "selfreg.db", hours, interval)
    subprocess.run(
        [sys.executable, "-m", "bot", "models", "train", "--config", str(config)],
        env=env,
        cwd=data_dir,
        check=True,
        capture_output=True,
        timeout=TRAIN_TIMEOUT,
    )
    took = time.monotonic() - started
    print(f"  aged by {hours:g} h: {count:,} samples added, models trained ({took:.0f} s)")


def seed_history(db_path: Path, hours: float, interval: float, seed: int = 15) -> int:
    """Add ``hours`` of samples before the first stored one, per series (see the module
    docstring); returns how many were added."""
    rng = random.Random(seed)
    store = open_store(db_path)
    try:
        real: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        first = float("inf")
        for check, subject, metric, at, value in samples.samples_since(store, 0.0):
            real[(check, subject, metric)].append(value)
            first = min(first, at)
        spreads = {key: log_spread(values) for key, values in real.items()}
        steps = int(hours * 3600 / interval)
        rows: list[Observation] = []
        added = 0
        for step in range(steps, 0, -1):
            at = first - step * interval
            rows += [
                Observation(
                    check=check,
                    subject=subject,
                    status=Status.OK,
                    summary="aged",
                    values={metric: aged_value(rng, values, spreads[check, subject, metric])},
                    at=at,
                )
                for (check, subject, metric), values in real.items()
            ]
            if step % BATCH == 1 or step == 1:
                with store.transaction():
                    samples.add_samples(store, rows)
                added += len(rows)
                rows = []
        while samples.file_recent(store):  # filed, as a long-running selfreg's would be
            pass
        retention.roll_up(store, time.time())  # as the minute job would have, minute by minute
        return added
    finally:
        store.close()


def log_spread(values: list[float]) -> float:
    """The standard deviation of the logarithms of a series' positive non-whole values (0 for
    counts, codes and constants: those are drawn as they are)."""
    logs = [math.log(v) for v in values if v > 0 and v != int(v)]
    return statistics.pstdev(logs) if len(logs) > 1 else 0.0


def aged_value(rng: random.Random, values: list[float], spread: float) -> float:
    """One of the real values, spread by a log-normal factor of ``spread`` (if not whole)."""
    value = rng.choice(values)
    if not spread or value == int(value):
        return value
    return value * math.exp(rng.gauss(0.0, spread))
