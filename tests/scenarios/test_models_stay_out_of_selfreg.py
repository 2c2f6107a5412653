"""A real ``selfreg run`` with the models on fits them in a worker process: after a
``selfreg models train`` that fits a forest, neither scikit-learn nor SciPy is mapped into
selfreg's own memory (they cost about 90 MB of RSS there, and are only needed to fit)."""

from __future__ import annotations

import random
from pathlib import Path

from bot.engine.predict import GROUP_ROWS
from bot.engine.predict.state import ModelFiles
from models.anomaly import FEATURES, AnomalyDetector, score_interval
from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env

WARMUP = 50
CONFIG = f"""
[models]
warmup = {WARMUP}

[[checks]]
kind = "tcp"
name = "db-port"
port = 5432
interval = "1h"
enabled = false
connect_time = {{ warn = "300ms", critical = "2s" }}
"""


def saved_history(data_dir: Path, intervals: int = 320) -> None:
    """An anomaly state, as a Predictor saves it, whose group "db-port|" has enough rows
    (over the detector's 300) for a forest to be fitted at the next train."""
    rng = random.Random(3)
    detector = AnomalyDetector(warmup=WARMUP, group_rows=GROUP_ROWS)
    for i in range(intervals):
        latency = 0.004 + rng.uniform(0.0, 0.0005)
        sample = [("db-port||connect_time", latency), ("db-port||up", 1.0 + rng.gauss(0, 0.01))]
        score_interval(detector, 1_000_000.0 + 5.0 * i, sample)
    ModelFiles(data_dir / "models").save("anomaly", detector, FEATURES)


# package folders; not a file name: numpy ships its own "libscipy_openblas64_" library
FITTING_PACKAGES = {"sklearn", "scipy", "scikit_learn.libs", "scipy.libs"}


def mapped_paths(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as maps:
        return {line.split()[-1] for line in maps if len(line.split()) >= 6}


def test_after_a_train_scikit_learn_and_scipy_are_not_in_selfregs_memory(tmp_path: Path) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG)
    saved_history(tmp_path / "data")
    env = selfreg_env(tmp_path / "data")
    selfreg = SelfregProcess(config, env)
    try:
        selfreg.wait_ready()
        done = run_cli("models", "train", "--config", str(config), env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Models fitted by the running instance.")
        assert "2 metrics, 1 group forests" in done.stdout  # a forest was really fitted
        paths = mapped_paths(selfreg.proc.pid)
        assert any("numpy" in p for p in paths)  # the maps are read right: numpy scores
        assert not [p for p in paths if FITTING_PACKAGES & set(Path(p).parts)]
    finally:
        assert selfreg.stop() == 0
