"""What the anomaly detector of issue 15's selfreg keeps: 150 series (20 process checks' five
metrics, which do not move, and 50 latencies, log-normal) scored ``--rounds`` intervals in
place, against the same state saved and restored in a fresh process.

Prints, for each: the resident memory added after ``gc.collect`` and ``malloc_trim`` (the
imports made before the baseline), the detector's own allocations (``tracemalloc``), and
whether ``numpy.ma`` was imported. Grown in place is what a long-running selfreg holds; the
restored figure is what a restart holds, the floor for the same learned state.

    python bench/model_memory.py                  # 2,200 rounds (three hours at 5 s): ~1 min
    python bench/model_memory.py --rounds 400     # just past the warm-up
"""

from __future__ import annotations

import argparse
import gc
import random
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.engine.predict.predictor import GROUP_ROWS  # noqa: E402
from bot.engine.predict.state import ModelFiles  # noqa: E402
from bot.runtime.memory import trim_heap  # noqa: E402
from models import anomaly  # noqa: E402

FLAT = ("count", "cpu_percent", "rss", "open_files", "threads")
KEYS = [f"proc-{i}||{m}" for i in range(20) for m in FLAT] + [
    f"http-{i}||latency" for i in range(50)
]


def resident_mb() -> float:
    """This process's resident memory after a collection and a heap trim."""
    gc.collect()
    trim_heap()
    return psutil.Process().memory_info().rss / 1e6


def detector() -> anomaly.AnomalyDetector:
    return anomaly.AnomalyDetector(warmup=300, group_rows=GROUP_ROWS)


def grow(rounds: int, folder: Path) -> None:
    """Score ``rounds`` intervals in place, report, save the state to ``folder``."""
    base = resident_mb()
    tracemalloc.start()
    model, rng = detector(), random.Random(1)
    for step in range(rounds):
        batch = [
            (key, 0.0015 * rng.lognormvariate(0.0, 0.3) if key.startswith("http") else 1.0)
            for key in KEYS
        ]
        anomaly.score_interval(model, 1.8e9 + 5.0 * step, batch)
    traced = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    report(f"grown in place, {rounds} rounds", resident_mb() - base, traced)
    ModelFiles(folder).save("anomaly", model, anomaly.FEATURES)


def restore(folder: Path) -> None:
    """Load the state ``grow`` saved into a fresh detector, report."""
    base = resident_mb()
    tracemalloc.start()
    model = detector()
    ModelFiles(folder).restore("anomaly", model, anomaly.FEATURES)
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    report("restored from its saved state", resident_mb() - base, traced)


def report(label: str, resident: float, traced: float) -> None:
    masked = "numpy.ma" in sys.modules
    print(f"{label:34} +{resident:5.2f} MB resident, {traced:5.2f} MB allocated, numpy.ma {masked}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description="The anomaly detector's memory, grown and restored"
    )
    parser.add_argument("--rounds", type=int, default=2200, help="intervals scored (2200)")
    parser.add_argument("--restore", type=Path, help=argparse.SUPPRESS)  # the second process
    args = parser.parse_args()
    if args.restore:
        restore(args.restore)
        return
    with tempfile.TemporaryDirectory(prefix="selfreg-models-") as tmp:
        grow(args.rounds, Path(tmp))
        subprocess.run([sys.executable, __file__, "--restore", tmp], check=True, timeout=300)


if __name__ == "__main__":
    main()
