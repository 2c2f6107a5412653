"""bot.cli.predictors in-process: ``models status`` / ``models train`` through the running
instance (a control-socket stand-in), or alone from the store."""

from __future__ import annotations

import time
from pathlib import Path

from bot.config import load_settings
from bot.store import open_store
from bot.store.samples import add_samples
from checks.base import Observation, Status
from tests.support.control_standin import ControlStandin, invoke, write_config

CONFIG = """
[models]
warmup = 10

[[checks]]
kind = "tcp"
name = "db-port"
port = 1
interval = "1h"
connect_time = { warn = "300ms", critical = "2s" }
"""


def row(model: str, trained: bool, samples: int, **extra: object) -> dict[str, object]:
    return {
        "model": model,
        "enabled": True,
        "trained": trained,
        "samples": samples,
        "last_fit": None,
        "precision": None,
        "useful": 0,
        "false_alarms": 0,
        "note": "",
        **extra,
    }


def recorded(tmp_path: Path, data_dir: Path, intervals: int) -> Path:
    """A config and a store holding ``intervals`` db-port samples five seconds apart."""
    config = write_config(tmp_path, CONFIG)
    store = open_store(load_settings(str(config), {"SELFREG_DATA_DIR": str(data_dir)}).db_path)
    start = time.time() - 5 * intervals
    with store.transaction():
        add_samples(
            store,
            [
                Observation(
                    check="db-port",
                    status=Status.OK,
                    summary="up",
                    values={"connect_time": 0.004 + 0.0001 * (i % 5), "up": 1.0},
                    at=start + 5 * i,
                )
                for i in range(intervals)
            ],
        )
    store.close()
    return config


def test_models_before_the_first_run_say_selfreg_never_ran(tmp_path: Path, data_dir: Path) -> None:
    config = write_config(tmp_path, CONFIG)
    for verb in ("status", "train"):
        result = invoke(data_dir, "models", verb, "--config", str(config))
        assert result.exit_code == 0, result.output
        assert "selfreg has not run with the data folder" in result.stdout
    assert not data_dir.exists()


def test_models_status_shows_the_running_instances_rows(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("GET", "/models")] = (
        200,
        {"models": [row("anomaly", True, 160, precision=0.5, useful=1, false_alarms=1)]},
    )
    result = invoke(data_dir, "models", "status", "--config", str(write_config(tmp_path, CONFIG)))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("anomaly   on  trained: yes samples: 160 ")
    assert "precision 50% (useful 1, false alarms 1)" in result.stdout
    assert [(m, r) for m, r, _ in control.asked] == [("GET", "/models")]


def test_models_train_goes_through_the_running_instance(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/models/train")] = (200, {"models": [row("risk", False, 0)]})
    result = invoke(data_dir, "models", "train", "--config", str(write_config(tmp_path, CONFIG)))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Models fitted by the running instance.\nrisk      on ")
    assert [(m, r) for m, r, _ in control.asked] == [("POST", "/models/train")]


def test_models_refused_by_the_instance_exit_2(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("GET", "/models")] = (404, {"error": "every model is off in [models]"})
    result = invoke(data_dir, "models", "status", "--config", str(write_config(tmp_path, CONFIG)))
    assert result.exit_code == 2
    assert result.stderr.strip() == "selfreg: every model is off in [models]"


def test_models_status_alone_reads_the_store_and_saved_state_without_training(
    tmp_path: Path, data_dir: Path
) -> None:
    config = recorded(tmp_path, data_dir, 20)
    result = invoke(data_dir, "models", "status", "--config", str(config))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["anomaly", "risk", "forecast"]
    assert lines[0].startswith("anomaly   on  trained: no  samples: 0 "), "no saved state"
    assert not (data_dir / "models" / "anomaly.state").exists(), "status saves nothing"


def test_models_train_alone_replays_the_store_into_cold_models_and_saves_them(
    tmp_path: Path, data_dir: Path
) -> None:
    config = recorded(tmp_path, data_dir, 20)
    result = invoke(data_dir, "models", "train", "--config", str(config))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Models fitted here (no instance is running)."
    assert lines[1].startswith("anomaly   on  trained: yes samples: 40 "), "2 metrics x 20"
    assert "last fit: never" not in lines[1]
    assert lines[3].startswith("forecast  on  trained: no  samples: 20 "), "connect_time only"
    assert (data_dir / "models" / "anomaly.state").exists()
