"""Does the failure-risk model warn earlier and better than a static threshold? A simulation.

A simulated service is sampled every 10 s for ``--days`` (latency, errors, memory, CPU,
restarts), with a daily load cycle. It fails about every 3.5 hours, each failure one of:

* overload (half): latency, errors and CPU creep up over 10 to 30 minutes, then it falls over;
* memory leak (a quarter): memory climbs for 40 to 90 minutes, latency rises at the end, OOM;
* crash (a quarter): no warning at all (neither predictor can see it coming).

Benign load spikes (latency x3 to x4.5 for 2 to 10 minutes, a few errors, about five a day)
never lead to a failure. A failure is the rule incident (the health check failing); the
service is down 1 to 4 minutes, then restarts.

The model (``FailureRisk`` through ``build_dataset``, exactly as the engine runs them) is fitted
on the first ``--train`` days and scored on the rest, unseen. The baseline, measured on the same
stretch, is a static rule as an operator would configure it: latency at least 300 ms or memory
at least 900 MB. Both are read as warnings: a warning episode starts when the predictor rises
and ends after 5 minutes below; it is true when a failure follows within the horizon (15 min)
of its start or while it lasts. Recall counts failures preceded by a true warning; lead time is
from the first such warning to the failure.

Targets: recall at least the rule's, precision at least 0.7, median lead time at least 5 min.
The model's default threshold (0.8) was chosen on seeds 1 to 5; the default seed here is 7.

    python bench/failure.py
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from models.failure import FailureRisk, Sample, build_dataset  # noqa: E402

STEP, DAY, HORIZON, GAP = 10.0, 86400.0, 900.0, 300.0
LATENCY_RULE, MEMORY_RULE = 300.0, 900.0


def simulate(days: float, seed: int) -> tuple[list[Sample], list[tuple[float, float]], list[str]]:
    """Samples, (failed, restarted) spans and each failure's kind; deterministic per seed."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    spans: list[tuple[float, float]] = []
    kinds: list[str] = []
    t, end, memory = 0.0, days * DAY, 300.0
    spike_until, spike_factor, restarted = -1.0, 1.0, 0.0
    while t < end:
        fail_at = t + 1800.0 + rng.expovariate(1.0 / 10800.0)
        kind = rng.choices(["overload", "leak", "crash"], weights=[2, 1, 1])[0]
        onset = fail_at - (
            rng.uniform(600, 1800) if kind == "overload" else rng.uniform(2400, 5400)
        )
        leak_from = memory
        while t < min(fail_at, end):
            load = 1.0 + 0.4 * math.sin(2 * math.pi * t / DAY)
            if t >= spike_until and t < onset and rng.random() < STEP * 5 / DAY:
                spike_until, spike_factor = t + rng.uniform(120, 600), rng.uniform(3.0, 4.5)
            spiking = t < spike_until
            p = max(0.0, (t - onset) / (fail_at - onset)) if kind != "crash" else 0.0
            factor, error_rate, cpu = 1.0, 0.2 * load, 30.0 * load
            if spiking:
                factor, error_rate, cpu = spike_factor, 1.0, cpu + 30.0
            if kind == "overload":
                factor, error_rate, cpu = (
                    factor + 5.0 * p * p,
                    error_rate + 4.0 * p * p,
                    cpu + 60 * p,
                )
            if kind == "leak":
                memory = leak_from + (1000.0 - leak_from) * p if p > 0 else memory
                factor += 1.5 * max(0.0, (p - 0.8) / 0.2) ** 2
            memory += 2.0 * STEP / 3600.0 + rng.gauss(0.0, 1.0) * (p == 0)
            values = {
                "latency_ms": 80.0 * load * factor * rng.lognormvariate(0.0, 0.15),
                "errors": float(_poisson(rng, error_rate)),
                "memory_mb": memory,
                "cpu_percent": min(100.0, cpu + rng.gauss(0.0, 3.0)),
                "restarts": float(t - restarted < STEP),
            }
            samples.append((t, values))
            t += STEP
        if t >= end:
            break
        restarted = fail_at + rng.uniform(60, 240)
        spans.append((fail_at, restarted))
        kinds.append(kind)
        t, memory, spike_until = restarted, 300.0 + rng.uniform(-20, 20), -1.0
    return samples, spans, kinds


def _poisson(rng: random.Random, rate: float) -> int:
    n, p, limit = 0, 1.0, math.exp(-rate)
    while (p := p * rng.random()) > limit:
        n += 1
    return n


def episodes(times: np.ndarray, raised: np.ndarray) -> list[tuple[float, float]]:
    """(start, last raised) of each warning; it ends after ``GAP`` seconds below."""
    out: list[list[float]] = []
    for at in times[raised]:
        if out and at - out[-1][1] <= GAP:
            out[-1][1] = at
        else:
            out.append([at, at])
    return [(a, b) for a, b in out]


def score(warnings: list[tuple[float, float]], failures: Sequence[float]) -> dict[str, float]:
    """Precision, recall and median lead time of warnings against failure times."""

    def covers(w: tuple[float, float], f: float) -> bool:
        return w[0] < f <= max(w[0] + HORIZON, w[1] + GAP)

    true = sum(any(covers(w, f) for f in failures) for w in warnings)
    leads = {
        f: f - min(w[0] for w in warnings if covers(w, f))
        for f in failures
        if any(covers(w, f) for w in warnings)
    }
    return {
        "warnings": len(warnings),
        "precision": true / len(warnings) if warnings else float("nan"),
        "recall": len(leads) / len(failures),
        "lead": statistics.median(leads.values()) if leads else float("nan"),
        "caught": len(leads),
        "leads": leads,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=10.0)
    parser.add_argument("--train", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    samples, spans, kinds = simulate(args.days, args.seed)
    split = args.train * DAY
    train = [s for s in samples if s[0] < split]
    test = [s for s in samples if s[0] >= split - 300.0]
    cpu = time.process_time()
    data = build_dataset(train, [s for s in spans if s[0] < split], horizon=HORIZON)
    model = FailureRisk(horizon=HORIZON).fit(data.X, data.y, data.feature_names, times=data.times)
    fit_cpu = time.process_time() - cpu
    status = model.status()
    print(
        f"trained on {args.train:g} days: {status.n_samples} rows, {status.n_failures} failures,"
        f" {status.state.value}; its own hold-out (last {model.holdout:.0%}): precision"
        f" {status.precision:.2f}, recall {status.recall:.2f}; fit {fit_cpu:.1f} s CPU"
    )
    seen = build_dataset(test, [s for s in spans if s[0] >= split], horizon=HORIZON, step=STEP)
    failures = [f for f, _ in spans if split + HORIZON <= f <= seen.times[-1] + HORIZON]
    kind_of = dict(zip((f for f, _ in spans), kinds, strict=True))
    by_kind = {k: sum(kind_of[f] == k for f in failures) for k in ("overload", "leak", "crash")}
    print(f"unseen: {(args.days - args.train):g} days, {len(failures)} failures {by_kind}")
    cpu = time.process_time()
    risk = model.predict_proba(seen.X)[:, 1]
    per_row = 1e3 * (time.process_time() - cpu) / len(risk)
    names = list(seen.feature_names)
    latency = seen.X[:, names.index("latency_ms:last")]
    memory = seen.X[:, names.index("memory_mb:last")]
    static = (latency >= LATENCY_RULE) | (memory >= MEMORY_RULE)
    rule = score(episodes(seen.times, static), failures)
    ours = score(episodes(seen.times, risk >= model.threshold), failures)
    for name, r in (("static rule", rule), ("failure risk", ours)):
        caught, lead = f"{r['caught']}/{len(failures)}", r["lead"] / 60.0
        print(
            f"{name:13} warnings {r['warnings']:3d}  precision {r['precision']:.2f}  recall"
            f" {r['recall']:.2f} ({caught})  median lead {lead:.1f} min"
        )
    ratio = {k: ours[k] / rule[k] for k in ("precision", "recall", "lead")}
    print(
        f"ratios, model / rule: precision x{ratio['precision']:.2f}, recall"
        f" x{ratio['recall']:.2f}, lead x{ratio['lead']:.2f}; predict {per_row:.3f} ms a row"
    )
    first = next(i for i, r in enumerate(risk) if r >= model.threshold)
    example = model.predict_risk(dict(zip(names, seen.X[first], strict=True)))
    print(
        f"first warning: risk {example.risk:.2f}, top features "
        + ", ".join(f"{n} {w:.0%}" for n, w in example.top_features)
    )
    both = [ours["leads"][f] - rule["leads"][f] for f in ours["leads"] if f in rule["leads"]]
    gain = statistics.median(both) if both else float("nan")
    print(
        f"on the {len(both)} failures both caught, the model warned a median {gain / 60:.1f} min"
        " before the static rule"
    )
    checks = {
        "recall >= rule's": ours["recall"] >= rule["recall"],
        "precision >= 0.7": ours["precision"] >= 0.7,
        "median lead >= 5 min": ours["lead"] >= 300.0,
    }
    print("targets: " + ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in checks.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
