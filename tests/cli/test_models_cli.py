"""``selfreg models status|train``: alone (from the store and the saved state) and through a
running instance's control socket."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bot.config import load_settings
from bot.engine.runner import RunResult
from bot.runtime import Runtime
from checks.base import Observation, Status
from tests.support.clock import FakeClock
from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env

CONFIG = """
[models]
warmup = 50

[[checks]]
kind = "selfreg"
name = "selfreg"
interval = "1h"

[[checks]]
kind = "tcp"
name = "db-port"
port = 5432
interval = "1h"
enabled = false
connect_time = { warn = "300ms", critical = "2s" }
"""


async def recorded_history(tmp_path: Path) -> Path:
    """A data folder holding 80 intervals of db-port samples and the models' saved state."""
    config_path = tmp_path / "selfreg.toml"
    config_path.write_text(CONFIG)
    clock = FakeClock(time.time() - 3600)
    config = load_settings(
        str(config_path), {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"}
    )
    runtime = Runtime(config, clock=clock, out=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    await runtime.start()
    try:
        assert runtime.runner is not None
        check = runtime.runner.checks["db-port"]
        for i in range(80):
            clock.advance(5.0)
            observation = Observation(
                check="db-port",
                status=Status.OK,
                summary="up",
                values={"connect_time": 0.004 + 0.0001 * (i % 5), "up": 1.0},
                at=clock.now(),
            )
            runtime.runner.record(
                [RunResult(check=check, observations=[observation], state_writes={}, duration=0)]
            )
    finally:
        await runtime.stop()
    return config_path


async def test_models_status_and_train_work_without_a_running_instance(tmp_path: Path) -> None:
    config = await recorded_history(tmp_path)
    env = selfreg_env(tmp_path / "data")
    done = run_cli("models", "status", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("anomaly   on  trained: yes samples: 160")
    assert "precision n/a (useful 0, false alarms 0)" in lines[0]
    assert "2 metrics, 0 group forests" in lines[0]
    assert lines[1].startswith("risk      on  trained: no ")
    assert lines[2].startswith("forecast  on  trained: yes samples: 80 ")  # connect_time only

    shutil.rmtree(tmp_path / "data" / "models")  # cold: train replays the store's history
    done = run_cli("models", "train", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Models fitted here (no instance is running).")
    assert "anomaly   on  trained: yes samples: 160" in done.stdout
    assert "last fit: never" not in done.stdout.splitlines()[1]  # anomaly fitted just now
    assert "db-port (learning: 0 samples, 0 failures)" in done.stdout  # too little history
    assert (tmp_path / "data" / "models" / "anomaly.state").exists()


def test_models_train_goes_through_the_running_instance(tmp_path: Path) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG)
    env = selfreg_env(tmp_path / "data")
    selfreg = SelfregProcess(config, env)
    try:
        selfreg.wait_ready()
        done = run_cli("models", "train", "--config", str(config), env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Models fitted by the running instance.")
        assert "risk      on  trained: no " in done.stdout
        assert "selfreg (learning: 0 samples, 0 failures)" in done.stdout
        status = run_cli("models", "status", "--config", str(config), env=env)
        assert status.returncode == 0 and status.stdout.startswith("anomaly   on  trained: no ")
    finally:
        assert selfreg.stop() == 0
