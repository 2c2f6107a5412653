"""Run selfreg's anomaly detector over NAB-style data: result files, the NAB score, LOCO.

Every CSV under ``--data`` (``timestamp,value``) is one metric watched by its own fresh
detector, fed one row per interval through ``models.anomaly.score_interval``: the same call,
the same code path and the same default threshold as the engine, streaming (a row's score
uses only that row and earlier rows). For ``<category>/<name>.csv`` it writes
``--out/<category>/<name>.csv`` with ``timestamp,value,anomaly_score``; rows still in warm-up
score 0. The threshold (default: selfreg's ``DEFAULT_THRESHOLD``) maps to 0.5 in the files, so
a fixed NAB threshold of 0.5 scores the detector as it would alert.

    python bench/nab.py                      # ../shared/nab/data -> bench/out/nab, and its score
    python ../shared/nab/score.py bench/out/nab --threshold 0.5   # the same score, independently
    python bench/nab.py --loco               # leave-one-category-out over the GRID below

The score printed is the NAB standard profile at the fixed threshold 0.5, computed by the
scorer beside the data (``score.py``, loaded as a module: one scorer for every bench; the
synthetic suite uses it through ``nab_score``). ``--loco`` scores every GRID point once over
all files, then for each of the four dev categories picks the point with the best score on
the other three and scores it on the held-out one; it prints each fold, the mean and the
worst, and the per-parameter median of the fold choices (what the shipped defaults are).

It prints the throughput (samples scored per second of CPU, one core): the budget is 100
metrics an interval in under 2 ms, i.e. at least 50,000 samples a second; and the memory a
metric costs the detector (``memory_per_metric``: tracemalloc over 50 metrics of 2,500
samples, the dev files in turn).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from models.anomaly import AnomalyDetector, score_interval  # noqa: E402
from models.base import DEFAULT_THRESHOLD  # noqa: E402

NAB = ROOT.parent / "shared" / "nab"
GRID: dict[str, list[Any]] = {
    "margin": [0.25, 0.3, 0.4],
    "extreme_rank": [4, 6, 8],
    "drift_span": [0, 24, 96],
    "spread_span": [12, 24],
}
"""The LOCO search: few parameters, coarse steps (every point costs one pass over the data)."""


class Series(NamedTuple):
    """One labelled metric: ``rel`` is ``category/name.csv``; windows as ``[start, end]``."""

    rel: str
    stamps: list[str]
    ats: list[float]
    values: list[float]
    windows: list[list[str]]

    @property
    def category(self) -> str:
        """NAB's two artificial folders are one category (one of them has no window)."""
        head = self.rel.split("/")[0]
        return "artificial" if head.startswith("artificial") else head


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


def load_corpus(data: Path, labels: Mapping[str, list[list[str]]] | None = None) -> list[Series]:
    """Every CSV under ``data``, with its windows from ``labels`` (none when unlabelled)."""
    files = sorted(data.rglob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files under {data}")
    out = []
    for path in files:
        rel = path.relative_to(data).as_posix()
        stamps, ats, values = read_series(path)
        out.append(Series(rel, stamps, ats, values, list((labels or {}).get(rel, []))))
    return out


def to_nab(score: float, threshold: float) -> float:
    """Map a detector score to the file's scale so that ``threshold`` lands on 0.5."""
    if threshold == 0.5:
        return score
    if score < threshold:
        return 0.5 * score / threshold
    return 0.5 + 0.5 * (score - threshold) / max(1.0 - threshold, 1e-12)


def score_series(
    name: str,
    ats: Sequence[float],
    values: Sequence[float],
    threshold: float,
    params: Mapping[str, Any] | None = None,
) -> list[float]:
    """Stream one series through a fresh detector, one interval per row; 0 during warm-up."""
    detector = AnomalyDetector(**(params or {}))
    key = f"nab|{name}|value"
    limits = {key: threshold}
    out = []
    for at, value in zip(ats, values, strict=True):
        scored = score_interval(detector, at, [(key, value)], limits)
        out.append(to_nab(scored[0].score, threshold) if scored else 0.0)
    return out


def score_corpus(
    corpus: Sequence[Series], threshold: float, params: Mapping[str, Any] | None = None
) -> tuple[dict[str, np.ndarray], float]:
    """Every series scored (NAB scale); returns the scores by ``rel`` and the CPU seconds."""
    scores, cpu = {}, 0.0
    for s in corpus:
        start = time.process_time()
        scored = score_series(s.rel.removesuffix(".csv"), s.ats, s.values, threshold, params)
        cpu += time.process_time() - start
        scores[s.rel] = np.array(scored)
    return scores, cpu


def memory_per_metric(corpus: Sequence[Series], metrics: int = 50, samples: int = 2500) -> float:
    """KB a metric costs the detector (tracemalloc): ``metrics`` series fed ``samples``
    samples each, one interval at a time as the engine does, every 5 minutes. The series are
    the corpus's files in turn, each repeated from its start when shorter."""
    tracemalloc.start()
    try:
        detector = AnomalyDetector()
        keys = [f"nab|m{i}|value" for i in range(metrics)]
        for t in range(samples):
            batch = []
            for i, key in enumerate(keys):
                values = corpus[i % len(corpus)].values
                batch.append((key, values[t % len(values)]))
            score_interval(detector, 300.0 * t, batch)
        used = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return used / metrics / 1024


def load_scorer(path: Path = NAB / "score.py") -> ModuleType:
    """The NAB scorer beside the data (numpy only), imported as a module."""
    spec = importlib.util.spec_from_file_location("nab_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no NAB scorer at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nab_score(
    corpus: Sequence[Series], scores: Mapping[str, np.ndarray], scorer: ModuleType
) -> dict[str, Any]:
    """The NAB standard-profile result at the fixed threshold 0.5: score, detected, windows,
    false positives and the per-file rows (the scorer's own dict)."""
    entries = []
    for s in corpus:
        times = scorer.to_dt64(s.stamps)
        spans = scorer.window_rows(times, s.windows, s.rel, lambda m: None)
        entries.append(
            scorer.FileEntry(s.rel, scores[s.rel], spans, scorer.probation_rows(len(times)))
        )
    standard = {"standard": scorer.PROFILES["standard"]}
    return scorer.score(entries, standard, fixed={"standard": 0.5})["standard"]


def write_results(out: Path, corpus: Sequence[Series], scores: Mapping[str, np.ndarray]) -> None:
    """NAB result files: ``out/<category>/<name>.csv`` with ``timestamp,value,anomaly_score``."""
    for s in corpus:
        target = out / s.rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["timestamp", "value", "anomaly_score"])
            for stamp, value, score in zip(s.stamps, s.values, scores[s.rel], strict=True):
                writer.writerow([stamp, repr(value), repr(float(score))])


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    names = sorted(grid)
    combos = itertools.product(*(grid[name] for name in names))
    return [dict(zip(names, combo, strict=True)) for combo in combos]


def fold_choice(
    corpus: Sequence[Series], runs: Sequence[dict[str, np.ndarray]], scorer: ModuleType
) -> tuple[int, float]:
    """The grid point with the best NAB score on ``corpus`` (first on ties), and that score."""
    best, best_score = 0, float("-inf")
    for i, scores in enumerate(runs):
        value = nab_score(corpus, scores, scorer)["score"]
        if value > best_score:
            best, best_score = i, value
    return best, best_score


def median_choice(choices: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per parameter, the median of the fold choices (the lower median; for a word, the most
    frequent, first on ties)."""
    out: dict[str, Any] = {}
    for name in choices[0]:
        values = [c[name] for c in choices]
        if all(isinstance(v, int | float) for v in values):
            out[name] = statistics.median_low(values)
        else:
            out[name] = max(values, key=values.count)
    return out


def loco(corpus: Sequence[Series], grid: Mapping[str, Sequence[Any]], scorer: ModuleType) -> int:
    """Leave one category out: choose on three, score on the fourth; print folds and summary."""
    points = grid_points(grid)
    runs = []
    for i, params in enumerate(points):
        runs.append(score_corpus(corpus, 0.5, params)[0])
        print(f"grid point {i + 1}/{len(points)} scored: {params}", flush=True)
    categories = sorted({s.category for s in corpus})
    tests, choices = [], []
    for held in categories:
        train = [s for s in corpus if s.category != held]
        test = [s for s in corpus if s.category == held]
        best, train_score = fold_choice(train, runs, scorer)
        result = nab_score(test, runs[best], scorer)
        tests.append(result["score"])
        choices.append(points[best])
        print(
            f"fold {held:18} train {train_score:6.2f}  test {result['score']:6.2f}"
            f"  ({result['detected']}/{result['windows']} windows, {result['fp']} FP)"
            f"  chosen {json.dumps(points[best], sort_keys=True)}"
        )
    print(f"LOCO mean {statistics.mean(tests):.2f}, worst fold {min(tests):.2f}")
    shipped = median_choice(choices)
    print(f"median of the fold choices: {json.dumps(shipped, sort_keys=True)}")
    best, all_score = fold_choice(corpus, runs, scorer)
    print(
        f"the same search on all four categories: {json.dumps(points[best], sort_keys=True)}"
        f" (dev {all_score:.2f})"
    )
    return 0


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``--set name=value`` pairs, values read as JSON when they parse (numbers), else text."""
    out: dict[str, Any] = {}
    for item in items:
        name, _, raw = item.partition("=")
        try:
            out[name] = json.loads(raw)
        except json.JSONDecodeError:
            out[name] = raw
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=NAB / "data")
    parser.add_argument("--labels", type=Path, default=NAB / "labels" / "combined_windows.json")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "nab")
    parser.add_argument("--loco", action="store_true", help="leave-one-category-out search")
    parser.add_argument("--set", action="append", default=[], help="detector param=value")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="alert threshold on the detector's score (written as 0.5)",
    )
    args = parser.parse_args(argv)
    labels = json.loads(args.labels.read_text()) if args.labels.is_file() else None
    corpus = load_corpus(args.data, labels)
    if args.loco:
        return loco(corpus, GRID, load_scorer())
    scores, cpu = score_corpus(corpus, args.threshold, parse_params(args.set))
    write_results(args.out, corpus, scores)
    samples = sum(len(s.values) for s in corpus)
    rate = samples / cpu if cpu > 0 else float("inf")
    print(f"scored {samples} samples in {cpu:.2f} s of CPU: {rate:,.0f} samples/s (one core)")
    print(f"results in {args.out}; score with: python ../shared/nab/score.py {args.out}")
    kb = memory_per_metric(corpus)
    print(f"memory: {kb:.1f} KB per metric (tracemalloc, 50 metrics x 2,500 samples)")
    if labels is not None and all(s.rel in labels for s in corpus):
        result = nab_score(corpus, scores, load_scorer())
        print(
            f"NAB standard at 0.5: {result['score']:.2f}"
            f" ({result['detected']}/{result['windows']} windows, {result['fp']} FP)"
        )
        for category in sorted({s.category for s in corpus}):
            part = nab_score([s for s in corpus if s.category == category], scores, load_scorer())
            print(f"  {category:18} {part['score']:6.2f}  ({part['fp']} FP)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
