"""``build``: every configured part is made, each with its hooks passed to its constructor,
and none is assigned into afterwards (the parts are a frozen record; no module of the runtime
or the reload assigns an attribute of anything but itself)."""

from __future__ import annotations

import ast
import dataclasses
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import control, errors
from bot.config import load_settings
from bot.engine.sync_runs import Chain
from bot.runtime import Parts, Runtime, build
from tests.runtime.test_reload import BEFORE, environment, write
from tests.support.clock import FakeClock
from tests.support.servers import free_port

MINIMAL = """
[models]
anomaly = false
failure_risk = false
forecast = false

[[checks]]
kind = "selfreg"
name = "selfreg"
interval = "1s"
"""
ROOT = Path(__file__).resolve().parents[2]


async def made(config_path: Path, env: dict[str, str]) -> Parts:
    config = load_settings(str(config_path), env)
    return build(config, clock=FakeClock(time.time()), out=io.StringIO())


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[Parts]:
    write(tmp_path / "selfreg.toml", BEFORE, free_port())
    parts = await made(tmp_path / "selfreg.toml", environment(tmp_path))
    try:
        yield parts
    finally:
        await parts.http.close()
        parts.store.close()


@pytest.fixture
async def minimal(tmp_path: Path) -> AsyncIterator[Parts]:
    (tmp_path / "selfreg.toml").write_text(MINIMAL)
    env = {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"}
    parts = await made(tmp_path / "selfreg.toml", env)
    try:
        yield parts
    finally:
        await parts.http.close()
        parts.store.close()


async def test_every_configured_part_is_present(full: Parts) -> None:
    for name in ("slack_client", "slack_notifier", "remediation", "commands", "slack", "heartbeat"):
        assert getattr(full, name) is not None, name
    assert set(full.runner.checks) == {"old-api", "keep"}
    assert set(full.outbox.notifiers) == {"console", "slack"}
    assert not full.scheduler.running  # built, started by the monitors step


async def test_parts_the_config_leaves_out_are_none(minimal: Parts) -> None:
    for name in (
        "slack_client",
        "slack_notifier",
        "remediation",
        "commands",
        "slack",
        "heartbeat",
        "predictor",
    ):
        assert getattr(minimal, name) is None, name
    assert minimal.alerting.on_opened is None  # no remediation to tell
    recorded = minimal.runner.on_recorded
    assert isinstance(recorded, Chain)  # no predictor to feed; sync runs are always logged
    assert [c.__qualname__ for c in recorded.callbacks] == ["SyncRunLog.recorded"]


async def test_hooks_are_given_to_the_constructors(full: Parts) -> None:
    assert full.alerting.on_queued == full.outbox.wake.set
    assert full.alerting.on_opened is not None
    assert full.supervisor.on_crash_loop == full.alerting.handle
    assert full.commands is not None and full.slack is not None
    assert full.commands.predictor is full.predictor and full.slack.predictor is full.predictor
    assert full.slack.commands is full.commands
    assert isinstance(full.runner.on_recorded, Chain)
    assert full.predictor is not None
    assert full.runner.on_recorded.callbacks[0] == full.predictor.observe
    targets = full.reloader.targets
    assert (targets.runner, targets.alerting, targets.supervisor, targets.scheduler) == (
        full.runner,
        full.alerting,
        full.supervisor,
        full.scheduler,
    )
    assert targets.remediation is full.remediation
    assert full.remediation is not None and full.slack_notifier is not None
    assert full.slack_notifier.actions == full.remediation.actions  # one instance per action
    assert full.runner.stats()["checks_in_flight"] == 0.0  # the late-bound figures work


async def test_parts_are_a_frozen_record(minimal: Parts) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        minimal.runner = minimal.runner  # type: ignore[misc]


async def test_start_on_a_live_socket_raises_the_one_already_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "selfreg.toml").write_text(MINIMAL)
    env = {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"}
    monkeypatch.setattr(control, "socket_in_use", lambda path: True)
    runtime = Runtime(load_settings(str(tmp_path / "selfreg.toml"), env), out=io.StringIO())
    with pytest.raises(errors.AlreadyRunning):
        await runtime.start()


def assigned_attributes(path: Path) -> list[str]:
    """``x.attr = ...`` where ``x`` is not ``self``: one part assigning into another."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and not (
                isinstance(target.value, ast.Name) and target.value.id == "self"
            ):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(target)}")
    return found


def test_neither_the_runtime_nor_the_reload_assigns_into_a_part() -> None:
    reload = [ROOT / "bot/engine/reload.py", ROOT / "bot/engine/supervisor/reconfigure.py"]
    files = [*sorted((ROOT / "bot" / "runtime").glob("*.py")), *reload]
    assert [hit for path in files for hit in assigned_attributes(path)] == []
