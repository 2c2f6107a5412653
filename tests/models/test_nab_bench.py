"""The NAB bench: it runs the engine's scorer, streams causally, and is reproducible."""

from __future__ import annotations

import csv
import importlib.util
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import models.anomaly
from models.anomaly import AnomalyDetector

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def nab() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_nab", ROOT / "bench" / "nab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_series(path: Path, values: list[float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    start = datetime(2014, 4, 1, tzinfo=UTC)
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["timestamp", "value"])
        for i, v in enumerate(values):
            writer.writerow([(start + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S"), v])


def series(seed: int, n: int = 700) -> list[float]:
    rng = random.Random(seed)
    values = [20.0 + rng.gauss(0.0, 1.0) for _ in range(n)]
    values[500] = 60.0
    return values


def read_scores(path: Path) -> list[float]:
    with path.open() as f:
        return [float(row["anomaly_score"]) for row in csv.DictReader(f)]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    write_series(tmp_path / "data" / "synthetic" / "one.csv", series(1))
    write_series(tmp_path / "data" / "other" / "two.csv", series(2))
    return tmp_path / "data"


def test_the_bench_writes_nab_result_files(nab: ModuleType, data: Path, tmp_path: Path) -> None:
    assert nab.main(["--data", str(data), "--out", str(tmp_path / "out")]) == 0
    out = tmp_path / "out" / "synthetic" / "one.csv"
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"] and len(rows) == 700
    scores = [float(r["anomaly_score"]) for r in rows]
    assert scores[:300] == [0.0] * 300  # warm-up
    assert scores[500] >= 0.5 and all(0.0 <= s <= 1.0 for s in scores)


def test_the_bench_and_the_engine_call_the_same_scorer(nab: ModuleType, data: Path) -> None:
    assert nab.score_interval is models.anomaly.score_interval
    assert nab.DEFAULT_THRESHOLD == models.base.DEFAULT_THRESHOLD
    _, ats, values = nab.read_series(data / "synthetic" / "one.csv")
    detector, engine = AnomalyDetector(), []
    for at, value in zip(ats, values, strict=True):  # what the engine does every interval
        scored = models.anomaly.score_interval(detector, at, [("nab|synthetic/one|value", value)])
        engine.append(scored[0].score if scored else 0.0)
    assert nab.score_series("synthetic/one", ats, values, nab.DEFAULT_THRESHOLD) == engine


def test_changing_later_rows_leaves_earlier_scores_unchanged(
    nab: ModuleType, tmp_path: Path
) -> None:
    values = series(3)
    changed = values[:420] + [v * 5.0 - 7.0 for v in values[420:]]
    write_series(tmp_path / "a" / "s" / "x.csv", values)
    write_series(tmp_path / "b" / "s" / "x.csv", changed)
    nab.main(["--data", str(tmp_path / "a"), "--out", str(tmp_path / "out_a")])
    nab.main(["--data", str(tmp_path / "b"), "--out", str(tmp_path / "out_b")])
    first = read_scores(tmp_path / "out_a" / "s" / "x.csv")
    second = read_scores(tmp_path / "out_b" / "s" / "x.csv")
    assert first[:420] == second[:420]
    assert first[420:] != second[420:]


def test_two_runs_write_identical_files(nab: ModuleType, data: Path, tmp_path: Path) -> None:
    nab.main(["--data", str(data), "--out", str(tmp_path / "one")])
    nab.main(["--data", str(data), "--out", str(tmp_path / "two")])
    for rel in ("synthetic/one.csv", "other/two.csv"):
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes()


def test_loco_ships_the_median_of_the_fold_choices(nab: ModuleType) -> None:
    choices = [
        {"margin": 0.3, "extreme_rank": 6, "flag": "a"},
        {"margin": 0.2, "extreme_rank": 6, "flag": "b"},
        {"margin": 0.4, "extreme_rank": 4, "flag": "b"},
        {"margin": 0.3, "extreme_rank": 8, "flag": "a"},
    ]
    assert nab.median_choice(choices) == {"margin": 0.3, "extreme_rank": 6, "flag": "a"}
    points = nab.grid_points({"b": [1, 2], "a": ["x"]})
    assert points == [{"a": "x", "b": 1}, {"a": "x", "b": 2}]


@pytest.fixture(scope="module")
def synthetic() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_synthetic", ROOT / "bench" / "synthetic.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_synthetic_suite_is_seeded_and_labelled_inside_each_series(
    synthetic: ModuleType,
) -> None:
    first, second = synthetic.suite(rows=2016), synthetic.suite(rows=2016)
    assert [s.values for s in first] == [s.values for s in second]
    assert {s.category for s in first} == set(synthetic.FAMILIES)
    for s in first:
        assert s.windows and all(s.stamps[0] <= a <= b <= s.stamps[-1] for a, b in s.windows)


def test_the_synthetic_suite_is_scored_by_the_nab_scorer(
    nab: ModuleType, synthetic: ModuleType
) -> None:
    if not (nab.NAB / "score.py").is_file():
        pytest.skip("the NAB scorer is not beside this checkout")
    corpus = [s for s in synthetic.suite(rows=2016) if s.category == "dropout"]
    scorer = nab.load_scorer()
    perfect = {}
    for s in corpus:
        scores = np.zeros(len(s.values))
        for start, _ in s.windows:
            scores[s.stamps.index(start)] = 1.0
        perfect[s.rel] = scores
    assert nab.nab_score(corpus, perfect, scorer)["score"] == pytest.approx(100.0)
    never = {s.rel: np.zeros(len(s.values)) for s in corpus}
    assert nab.nab_score(corpus, never, scorer)["score"] == pytest.approx(0.0)
