"""What writing one round's samples costs on an aged store: straight into the indexed table
against appended to ``samples_recent`` and filed every five minutes (``bot/store/samples.py``).

A store is made with ``--series`` series (240: what ``bench/overhead.py``'s 70 checks write)
and ``--hours`` of history each, one sample per ``--interval`` (5 s), filed in ``samples``
as a long-running selfreg's would be. Then ``--rounds`` rounds are written on a copy of it
each way, one transaction a round (with its COMMIT and fsync, ``synchronous=FULL``, as
``CheckRunner.record`` writes them), and the CPU of the process (user + system) is divided
by the rounds:

* ``straight``: each round's rows inserted into ``samples`` (the index on (series, at) gains
  one row at the end of every series: one page per series, written again to the WAL at every
  commit);
* ``recent``: ``samples.add_samples`` (appended to ``samples_recent``), and every
  ``FILE_AFTER / interval`` rounds ``samples.file_recent`` (its CPU included and also shown
  alone).

    python bench/sample_writes.py                 # 240 series, 3 h, 360 rounds (30 min)
    python bench/sample_writes.py --hours 24      # a day of history (the default retention)
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bot.store import Store, open_store, samples  # noqa: E402
from checks.base import Observation, Status  # noqa: E402


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def aged_store(path: Path, series: int, hours: float, interval: float) -> float:
    """A store of ``series`` series with ``hours`` of filed samples; returns the last time."""
    store = open_store(path)
    ids = [samples.series_id(store, f"check-{i // 4}", "", f"m{i % 4}") for i in range(series)]
    steps = int(hours * 3600 / interval)
    end = 1_800_000_000.0
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO samples (series, at, value) VALUES (?, ?, ?)",
            ((s, end - k * interval, float(k % 97 + s)) for k in range(steps, 0, -1) for s in ids),
        )
    store.close()
    return end


def rounds(store: Store, way: str, start: float, args: argparse.Namespace) -> tuple[float, float]:
    """CPU per round (ms) writing ``args.rounds`` rounds ``way``, and the filing's part."""
    keys = [(f"check-{i // 4}", f"m{i % 4}") for i in range(args.series)]
    file_every = max(1, int(samples.FILE_AFTER / args.interval))
    filing, began = 0.0, cpu()
    for n in range(1, args.rounds + 1):
        at = start + n * args.interval
        observations = [
            Observation(
                check=check,
                subject="",
                status=Status.OK,
                summary="",
                values={metric: float(n % 89)},
                at=at,
            )
            for check, metric in keys
        ]
        with store.transaction() as conn:
            if way == "recent":
                samples.add_samples(store, observations)
            else:
                conn.executemany(
                    "INSERT INTO samples (series, at, value) VALUES (?, ?, ?)",
                    [
                        (samples.series_id(store, o.check, o.subject, m), o.at, v)
                        for o in observations
                        for m, v in o.values.items()
                    ],
                )
        if way == "recent" and n % file_every == 0:
            mark = cpu()
            while samples.file_recent(store) == samples.FILE_BATCH:
                pass
            filing += cpu() - mark
    took = cpu() - began
    return 1000 * took / args.rounds, 1000 * filing / args.rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=240)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=360)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each way, alternating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="selfreg-sample-writes-") as tmp:
        base = Path(tmp) / "aged.db"
        made = time.monotonic()
        start = aged_store(base, args.series, args.hours, args.interval)
        rows = args.series * int(args.hours * 3600 / args.interval)
        print(
            f"aged store: {args.series} series x {args.hours:g} h = {rows:,} samples, "
            f"{base.stat().st_size / 1e6:.0f} MB ({time.monotonic() - made:.0f} s to make)"
        )
        print(f"{args.rounds} rounds of {args.series} samples each way, CPU per round:")
        for attempt in range(args.repeat):
            for way in ("straight", "recent"):
                copy = Path(tmp) / f"{way}.db"
                shutil.copy(base, copy)
                store = open_store(copy)
                per_round, filing = rounds(store, way, start, args)
                store.close()
                for leftover in Path(tmp).glob(f"{way}.db*"):
                    leftover.unlink()
                extra = f" (filing {filing:.3f} of it)" if way == "recent" else ""
                print(f"  run {attempt + 1}, {way:8s}: {per_round:.3f} ms{extra}", flush=True)


if __name__ == "__main__":
    main()
