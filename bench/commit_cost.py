"""What ``synchronous=FULL`` costs a commit, against NORMAL, on the data folder's file system.

The store runs WAL with ``synchronous=FULL`` (``bot/store/db.py``): each COMMIT fsyncs the
WAL, so a committed row survives a power loss or a file system turning read-only on an error,
where NORMAL (fsync only at checkpoints) lost the last seconds of commits
(``bench/disk_faults.py``). This prices it: two stores opened by ``open_store`` side by side in
a temporary folder inside ``--dir`` (default: the data folder, ``$SELFREG_DATA_DIR`` or
``./var``), one left at FULL, one set back to NORMAL, take ``--commits`` write transactions
each, turn about (so both see the same machine load), each shaped like a run's: ``--samples``
sample rows and an event. Printed per mode: the commit's time (BEGIN to COMMIT returned)
median, p99 and max, in ms, and the file system measured. Then a storm: ``--storm``
transactions back to back per mode, as the runner wrote the runs that change a status (each
alone, the moment it ended) when many checks changed at once: the total, in ms. It now writes
those that end in one turn of the loop in one transaction (``CheckRunner.record_soon``).

    python bench/commit_cost.py [--dir var] [--commits 2000] [--samples 20] [--storm 800]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.store import open_store  # noqa: E402
from bot.store.db import Store  # noqa: E402
from bot.store.samples import add_samples  # noqa: E402
from checks.base import Observation, Status  # noqa: E402

MODES = ("NORMAL", "FULL")


def commit_once(store: Store, at: float, samples: int) -> float:
    """One write transaction like a run's; seconds from BEGIN to COMMIT returned."""
    values = {f"metric_{i}": float(i) for i in range(samples)}
    seen = Observation(check="bench", status=Status.OK, summary="ok", values=values, at=at)
    started = time.perf_counter()
    with store.transaction():
        add_samples(store, [seen])
        store.record_event("check.ran", "bench", at)
    return time.perf_counter() - started


def file_system(folder: Path) -> str:
    """The mount holding ``folder``: its type and device, as ``findmnt`` would say."""
    real = os.path.realpath(folder)
    best = max(
        (p for p in psutil.disk_partitions(all=True) if real.startswith(p.mountpoint)),
        key=lambda p: len(p.mountpoint),
        default=None,
    )
    return f"{best.fstype} on {best.device} ({best.mountpoint})" if best else "unknown"


def measure(
    folder: Path, commits: int, samples: int, storm: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    stores = {mode: open_store(folder / f"{mode.lower()}.db") for mode in MODES}
    try:
        stores["NORMAL"]._conn.execute("PRAGMA synchronous = NORMAL")  # open_store sets FULL
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        for i in range(commits):
            for mode in MODES if i % 2 else reversed(MODES):
                times[mode].append(commit_once(stores[mode], time.time(), samples))
        storms = {
            mode: sum(commit_once(stores[mode], time.time(), samples) for _ in range(storm))
            for mode in MODES
        }
        return times, storms
    finally:
        for store in stores.values():
            store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("SELFREG_DATA_DIR", "var")))
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--storm", type=int, default=800)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="commit-cost-", dir=args.dir) as tmp:
        times, storms = measure(Path(tmp), args.commits, args.samples, args.storm)
        where = file_system(Path(tmp))
    print(
        f"commit cost: {args.commits} write transactions per mode ({args.samples} samples and "
        f"an event each), WAL, on {where}; load average {os.getloadavg()[0]:.1f}"
    )
    for mode in MODES:
        ms = sorted(t * 1000 for t in times[mode])
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        print(
            f"  synchronous={mode:<6} median {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, "
            f"max {ms[-1]:.2f} ms"
        )
    print(
        f"  a storm of {args.storm} back to back: "
        + ", ".join(f"{mode} {storms[mode] * 1000:.0f} ms" for mode in MODES)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
