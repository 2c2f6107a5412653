"""Run selfreg's anomaly detector over NAB-style data and write NAB result files.

Every CSV under ``--data`` (``timestamp,value``) is one metric watched by its own fresh
detector, fed one row per interval through ``models.anomaly.score_interval``: the same call,
the same code path and the same default threshold as the engine, streaming (a row's score
uses only that row and earlier rows). For ``<category>/<name>.csv`` it writes
``--out/<category>/<name>.csv`` with ``timestamp,value,anomaly_score``; rows still in warm-up
score 0. The threshold (default: selfreg's ``DEFAULT_THRESHOLD``) maps to 0.5 in the files, so
a fixed NAB threshold of 0.5 scores the detector as it would alert.

    python bench/nab.py                      # ../shared/nab/data -> bench/out/nab
    python ../shared/nab/score.py bench/out/nab --threshold 0.5

It prints the throughput (samples scored per second of CPU, one core): the budget is 100
metrics an interval in under 2 ms, i.e. at least 50,000 samples a second.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from models.anomaly import AnomalyDetector, score_interval  # noqa: E402
from models.base import DEFAULT_THRESHOLD  # noqa: E402


def read_series(path: Path) -> tuple[list[str], list[float], list[float]]:
    """Timestamps as written, epoch seconds (UTC), values; rows in file order."""
    stamps, ats, values = [], [], []
    with path.open(newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            if not row:
                continue
            stamps.append(row[0])
            ats.append(datetime.fromisoformat(row[0]).replace(tzinfo=UTC).timestamp())
            values.append(float(row[1]))
    return stamps, ats, values


def to_nab(score: float, threshold: float) -> float:
    """Map a detector score to the file's scale so that ``threshold`` lands on 0.5."""
    if threshold == 0.5:
        return score
    if score < threshold:
        return 0.5 * score / threshold
    return 0.5 + 0.5 * (score - threshold) / max(1.0 - threshold, 1e-12)


def score_series(
    name: str, ats: Sequence[float], values: Sequence[float], threshold: float
) -> list[float]:
    """Stream one series through a fresh detector, one interval per row; 0 during warm-up."""
    detector = AnomalyDetector()
    key = f"nab|{name}|value"
    limits = {key: threshold}
    out = []
    for at, value in zip(ats, values, strict=True):
        scored = score_interval(detector, at, [(key, value)], limits)
        out.append(to_nab(scored[0].score, threshold) if scored else 0.0)
    return out


def run(data: Path, out: Path, threshold: float) -> tuple[int, float]:
    """Score every CSV under ``data`` into ``out``; returns (samples, CPU seconds scoring)."""
    samples, cpu = 0, 0.0
    files = sorted(data.rglob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files under {data}")
    for path in files:
        rel = path.relative_to(data)
        stamps, ats, values = read_series(path)
        start = time.process_time()
        scores = score_series(str(rel.with_suffix("")), ats, values, threshold)
        cpu += time.process_time() - start
        samples += len(values)
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["timestamp", "value", "anomaly_score"])
            for stamp, value, score in zip(stamps, values, scores, strict=True):
                writer.writerow([stamp, repr(value), repr(score)])
    return samples, cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "nab" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "nab")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="alert threshold on the detector's score (written as 0.5)",
    )
    args = parser.parse_args(argv)
    samples, cpu = run(args.data, args.out, args.threshold)
    rate = samples / cpu if cpu > 0 else float("inf")
    print(f"scored {samples} samples in {cpu:.2f} s of CPU: {rate:,.0f} samples/s (one core)")
    print(f"results in {args.out}; score with: python ../shared/nab/score.py {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
