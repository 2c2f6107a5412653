"""A seeded synthetic suite of the metric families operators meet, scored like NAB.

Eight families, four series each, every series four weeks at one sample per 5 minutes
(8,064 rows), starting on a Monday 00:00 UTC. Each series is generated from its own seed, so
the suite is the same on every machine and every run. Each anomaly is labelled by one point
(its onset; for a drift to failure, the failure), and the scored window is NAB's: 10 % of the
series divided by its number of anomalies, centred on that point. Scores are the NAB standard
profile at the fixed threshold 0.5, from the same scorer as ``bench/nab.py`` (``nab_score``).

The families, and what is (and is not) an anomaly in each:

- ``counts``: Poisson event counts (20 to 1,000 per 5 min at the daily peak) with a daily cycle
  and quieter weekends. Anomalies: a surge (x3 to x5, 30 to 90 min), an outage (x0.1).
- ``bursty``: the same counts with heavy-tailed noise (log-normal, sigma 0.35) and ordinary
  short bursts (x2 to x4 for 1 to 3 samples, about three a day) that are NOT anomalies.
  Anomalies: a sustained surge (x4 to x6 for 1 to 3 h), a drop to 5 %.
- ``drift``: a machine temperature (daily cycle, AR(1) noise) that creeps up by 4 to 8 units (half to all of its daily swing)
  over 6 to 12 h before the machine fails (reads ambient for 2 h, then recovers). Labelled at
  the failure: early warning during the creep scores best.
- ``shift``: a latency with a daily cycle whose level moves by 4 to 6 noise sigmas at a
  deploy and stays there (a regression; one series in four moves down).
- ``variance``: a level whose noise grows x2.5 to x4 for 6 to 24 h (flapping), then calms.
- ``stuck``: a sensor that freezes at its last reading for 3 to 12 h, twice (one series is
  quantised to 0.5, so short repeats are ordinary).
- ``dropout``: a throughput with daily and weekly seasonality that reads 0 for 15 to 90 min
  (collector lost) and, once, 35 % of its usual for 1 to 2 h (half the fleet down).
- ``jobs``: a CPU % with an hourly job (a 2 to 3 sample spike) and a nightly backup; the
  anomaly is a job that runs long (stays up for 1 to 2.5 h), twice.

The generator was fixed before any detector parameter was chosen and is not tuned to the
detector; the detector's parameters come from ``bench/nab.py --loco`` only.

    python bench/synthetic.py                 # per-family scores at the shipped parameters
    python bench/synthetic.py --set margin=0.4
    python bench/synthetic.py --write /tmp/syn   # also write NAB-style data + labels
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.nab import Series, load_scorer, nab_score, parse_params, score_corpus  # noqa: E402

STEP = 300.0
ROWS = 4 * 7 * 288
START = datetime(2026, 1, 5, tzinfo=UTC).timestamp()  # a Monday
SERIES_PER_FAMILY = 4
SEED = 2026
Anomalies = list[int]
Generator = Callable[[np.random.Generator, int, np.ndarray], tuple[np.ndarray, Anomalies]]


def clock(ats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hour of day (float) and weekday (0 Monday) of each timestamp."""
    hours = (ats % 86400.0) / 3600.0
    days = ((ats // 86400.0).astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    return hours, days


def daily(ats: np.ndarray, amplitude: float, weekend: float = 1.0) -> np.ndarray:
    """1 + a cosine peaking at 14:00, times ``weekend`` on Saturdays and Sundays."""
    hours, days = clock(ats)
    shape = 1.0 + amplitude * np.cos(2.0 * np.pi * (hours - 14.0) / 24.0)
    return shape * np.where(days >= 5, weekend, 1.0)


def ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) noise with marginal standard deviation ``sigma``."""
    shocks = rng.normal(0.0, sigma * np.sqrt(1.0 - phi * phi), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sigma)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


def onsets(rng: np.random.Generator, n: int, count: int, gap: int = 900) -> Anomalies:
    """``count`` onsets in the scored part (after 20 %, before 95 %), ``gap`` rows apart."""
    while True:
        picks = sorted(int(v) for v in rng.integers(int(0.2 * n), int(0.95 * n), count))
        if all(b - a >= gap for a, b in itertools.pairwise(picks)):
            return picks


def counts(rng: np.random.Generator, n: int, ats: np.ndarray) -> tuple[np.ndarray, Anomalies]:
    rate = rng.choice([20.0, 60.0, 200.0, 1000.0]) * daily(ats, rng.uniform(0.4, 0.7), 0.6)
    picks = onsets(rng, n, 2)
    for k, at in enumerate(picks):
        rate[at : at + int(rng.integers(6, 19))] *= rng.uniform(3.0, 5.0) if k == 0 else 0.1
    return rng.poisson(rate).astype(float), picks


def bursty(rng: np.random.Generator, n: int, ats: np.ndarray) -> tuple[np.ndarray, Anomalies]:
    rate = rng.choice([30.0, 100.0, 500.0]) * daily(ats, rng.uniform(0.4, 0.7), 0.7)
    rate *= rng.lognormal(0.0, 0.35, n)
    for start in np.nonzero(rng.random(n) < 0.01)[0]:  # ordinary bursts: not anomalies
        rate[start : start + int(rng.integers(1, 4))] *= rng.uniform(2.0, 4.0)
    picks = onsets(rng, n, 2)
    rate[picks[0] : picks[0] + int(rng.integers(12, 37))] *= rng.uniform(4.0, 6.0)
    rate[picks[1] : picks[1] + int(rng.integers(12, 37))] *= 0.05
    return rng.poisson(rate).astype(float), picks


def drift(rng: np.random.Generator, n: int, ats: np.ndarray) -> tuple[np.ndarray, Anomalies]:
    values = 60.0 + 4.0 * (daily(ats, 1.0) - 1.0) + ar1(rng, n, 0.8, 1.0)
    ramp = int(rng.integers(72, 145))
    [fail] = onsets(rng, n, 1)
    start = fail - ramp
    values[start:fail] += np.linspace(0.0, rng.uniform(4.0, 8.0), ramp)
    values[fail : fail + 24] = 25.0 + rng.normal(0.0, 0.3, len(values[fail : fail + 24]))
    return values, [fail]


def shift(rng: np.random.Generator, n: int, ats: np.ndarray) -> tuple[np.ndarray, Anomalies]:
    sigma = 5.0
    values = 100.0 * daily(ats, 0.15) + ar1(rng, n, 0.5, sigma)
    [at] = onsets(rng, n, 1)
    sign = -1.0 if rng.random() < 0.25 else 1.0
    values[at:] += sign * rng.uniform(4.0, 6.0) * sigma
    return values, [at]


def variance(rng: np.random.Generator, n: int, ats: np.ndarray) -> tuple[np.ndarray, Anomalies]:
    noise = rng.normal(0.0, 2.0, n)
    [at] = onsets(rng, n, 1)
    noise[at : at + int(rng.integers(72, 289))] *= rng.uniform(2.5, 4.0)
    return 50.0 + 5.0 * (daily(ats, 1.0) - 1.0) + noise, [at]


def stuck(rng: np.random.Generator, n: int, ats: np.ndarray) -> tuple[np.ndarray, Anomalies]:
    values = 20.0 + 3.0 * (daily(ats, 1.0) - 1.0) + ar1(rng, n, 0.6, 1.0)
    if rng.random() < 0.25:
        values = np.round(values * 2.0) / 2.0
    picks = onsets(rng, n, 2)
    for at in picks:
        values[at : at + int(rng.integers(36, 145))] = values[at - 1]
    return values, picks


def dropout(rng: np.random.Generator, n: int, ats: np.ndarray) -> tuple[np.ndarray, Anomalies]:
    level = rng.choice([40.0, 300.0, 2500.0]) * daily(ats, rng.uniform(0.3, 0.6), 0.6)
    values = level * (1.0 + rng.normal(0.0, 0.05, n))
    picks = onsets(rng, n, 2)
    values[picks[0] : picks[0] + int(rng.integers(3, 19))] = 0.0
    values[picks[1] : picks[1] + int(rng.integers(12, 25))] *= 0.35
    return values, picks


def jobs(rng: np.random.Generator, n: int, ats: np.ndarray) -> tuple[np.ndarray, Anomalies]:
    hours, _ = clock(ats)
    values = rng.uniform(10.0, 20.0) + rng.normal(0.0, 2.0, n)
    minute = int(rng.integers(0, 12))  # the hourly job's slot within the hour
    slot = ((ats // STEP) % 12).astype(int)
    width = int(rng.integers(2, 4))
    job = (slot >= minute) & (slot < minute + width)
    values[job] = rng.uniform(70.0, 90.0) + rng.normal(0.0, 3.0, int(job.sum()))
    backup = (hours >= 2.0) & (hours < 2.5)
    values[backup] += 40.0
    picks = onsets(rng, n, 2)
    for at in picks:
        end = at + int(rng.integers(12, 31))
        values[at:end] = 80.0 + rng.normal(0.0, 3.0, end - at)
    return np.clip(values, 0.0, 100.0), picks


FAMILIES: dict[str, Generator] = {
    "counts": counts,
    "bursty": bursty,
    "drift": drift,
    "shift": shift,
    "variance": variance,
    "stuck": stuck,
    "dropout": dropout,
    "jobs": jobs,
}


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def windows(points: Anomalies, n: int, stamps: Sequence[str]) -> list[list[str]]:
    """NAB's windows: 10 % of the rows shared by the anomalies, centred on each point."""
    half = int(0.1 * n / len(points)) // 2
    return [[stamps[max(p - half, 0)], stamps[min(p + half, n - 1)]] for p in points]


def suite(rows: int = ROWS) -> list[Series]:
    """Every family's series, ``category`` = the family (deterministic)."""
    ats = START + STEP * np.arange(rows)
    stamps = [stamp(at) for at in ats]
    out = []
    for f, (family, make) in enumerate(FAMILIES.items()):
        for i in range(SERIES_PER_FAMILY):
            rng = np.random.default_rng(SEED + 100 * f + i)
            values, points = make(rng, rows, ats)
            rel = f"{family}/{family}_{i}.csv"
            out.append(
                Series(rel, stamps, ats.tolist(), values.tolist(), windows(points, rows, stamps))
            )
    return out


def write(folder: Path, corpus: Sequence[Series]) -> None:
    """NAB-style ``data/<family>/<name>.csv`` and ``labels/combined_windows.json``."""
    for s in corpus:
        path = folder / "data" / s.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{t},{v!r}" for t, v in zip(s.stamps, s.values, strict=True)]
        path.write_text("timestamp,value\n" + "\n".join(lines) + "\n")
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    labels = {s.rel: s.windows for s in corpus}
    (folder / "labels" / "combined_windows.json").write_text(json.dumps(labels, indent=1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", action="append", default=[], help="detector param=value")
    parser.add_argument("--write", type=Path, help="also write the suite as NAB data + labels")
    args = parser.parse_args(argv)
    corpus = suite()
    if args.write:
        write(args.write, corpus)
    scores, cpu = score_corpus(corpus, 0.5, parse_params(args.set))
    scorer = load_scorer()
    print(f"{'family':10} {'score':>7} {'windows':>8} {'FP':>4}")
    results = []
    for family in FAMILIES:
        part = [s for s in corpus if s.category == family]
        r = nab_score(part, scores, scorer)
        results.append(r["score"])
        print(f"{family:10} {r['score']:7.2f} {r['detected']:>4}/{r['windows']:<3} {r['fp']:>4}")
    samples = sum(len(s.values) for s in corpus)
    print(f"mean {statistics.mean(results):.2f}, worst {min(results):.2f}")
    print(f"{samples} samples, {samples / cpu:,.0f} samples/s (one core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
