"""The predictors inside a real Runtime: a forecast proposes a fix that waits for a person,
model state survives a restart, and a tampered state file is refused (the rest still runs)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from bot.config import load_settings
from bot.engine.runner import RunResult
from bot.runtime import Runtime
from bot.store import incidents as rows
from bot.store import proposals as store_proposals
from checks.base import Observation, Status
from tests.support import db
from tests.support.clock import FakeClock

CONFIG = """
[models]
warmup = 50
clear_after = "1m"

[[checks]]
kind = "system"
name = "host"
interval = "1h"
enabled = false
mounts = ["/data"]
disk = {{ warn = "85%", critical = "95%" }}
remediate = ["cleanup-data"]

[[actions]]
name = "cleanup-data"
kind = "cleanup_files"
folder = "{folder}"
older_than = "1d"
mode = "auto"
risk = "low"
"""


def make_runtime(tmp_path: Path, clock: FakeClock) -> Runtime:
    folder = tmp_path / "junk"
    folder.mkdir(exist_ok=True)
    (tmp_path / "selfreg.toml").write_text(CONFIG.format(folder=folder))
    config = load_settings(
        str(tmp_path / "selfreg.toml"),
        {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"},
    )
    return Runtime(config, clock=clock, out=open(tmp_path / "out.txt", "a"))


def feed_disk(runtime: Runtime, clock: FakeClock, values: list[float]) -> None:
    """The host check's /data observations, written through the runner as a run would be."""
    assert runtime.runner is not None
    check = runtime.runner.checks["host"]
    for value in values:
        clock.advance(5.0)
        observation = Observation(
            check="host",
            subject="/data",
            status=Status.OK,
            summary=f"disk {value:.0f}%",
            values={"disk_percent": value},
            at=clock.now(),
        )
        runtime.runner.record(
            [RunResult(check=check, observations=[observation], state_writes={}, duration=0)]
        )


def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "junk" / "old.log"
    path.write_text("x")
    week_ago = time.time() - 7 * 86400
    os.utime(path, (week_ago, week_ago))
    return path


async def test_a_forecast_inside_the_horizon_proposes_the_fix_and_never_runs_it_alone(
    tmp_path: Path,
) -> None:
    clock = FakeClock(time.time())
    runtime = make_runtime(tmp_path, clock)
    junk = old_file(tmp_path)
    await runtime.start()
    try:
        # forecasts run once a minute per series: 60 samples (5 min) hold three or four
        feed_disk(runtime, clock, [50 + 0.5 * i for i in range(60)])
        store = runtime.store
        assert store is not None
        [incident] = [i for i in rows.open_incidents(store) if i.kind == "forecast"]
        assert incident.fingerprint == "host|/data|forecast:disk_percent"
        assert incident.summary.startswith("disk /data reaches 85% (warning) in about ")
        assert ", between " in incident.summary
        [proposal] = store_proposals.for_incident(store, incident.id)
        assert proposal.action == "cleanup-data" and proposal.mode.value == "approve"
        assert runtime.remediation is not None
        await asyncio.sleep(0.3)
        await runtime.remediation.wait_idle(5)
        current = store_proposals.get(store, proposal.id)
        assert current is not None and current.state.value == "proposed"
        runs = db.scalar(store, "SELECT count(*) FROM action_runs")
        assert runs == 0 and junk.exists()  # auto mode, low risk: still waits for a person
        assert [i.kind for i in rows.open_incidents(store)] == ["forecast"]  # no rule incident
    finally:
        await runtime.stop()


async def test_model_state_survives_a_restart_and_a_tampered_file_is_refused(
    tmp_path: Path,
) -> None:
    clock = FakeClock(time.time())
    first = make_runtime(tmp_path, clock)
    await first.start()
    try:
        feed_disk(first, clock, [40.0 + (i % 3) for i in range(60)])
    finally:
        await first.stop()
    models = tmp_path / "data" / "models"
    assert {p.name for p in models.iterdir()} >= {"anomaly.state", "forecast.state", "model.key"}
    assert oct((models / "anomaly.state").stat().st_mode & 0o777) == "0o600"

    second = make_runtime(tmp_path, clock)
    await second.start()
    try:
        predictor = second.predictor
        assert predictor is not None and predictor.detector is not None
        assert predictor.detector.series_["host|/data|disk_percent"].n == 60
        assert predictor.forecaster is not None
        assert len(predictor.forecaster.series_["host|/data|disk_percent"]) == 60
        assert predictor.files.refused == []
    finally:
        await second.stop()

    state = models / "forecast.state"
    state.write_bytes(b"SELFREG-MODEL 1\n" + os.urandom(len(state.read_bytes()) - 16))
    third = make_runtime(tmp_path, clock)
    await third.start()
    try:
        predictor = third.predictor
        assert predictor is not None and predictor.files.refused == ["forecast"]
        assert predictor.forecaster is not None and predictor.forecaster.series_ == {}
        assert predictor.detector is not None and predictor.detector.series_  # kept
        ok, _body = third.health()
        assert ok
    finally:
        await third.stop()
