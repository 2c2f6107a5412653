"""Live reload in this process, against real parts made by ``build`` on a tmp_path config and
store: a changed config is applied part by part through each part's ``reconfigure``, an
invalid one is refused and the old one runs on."""

from __future__ import annotations

import io
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.engine.runner import RunResult
from bot.runtime import Parts, build
from bot.store.incidents import open_incidents
from checks.base import Observation, Status
from tests.support.clock import FakeClock
from tests.support.servers import free_port

BEFORE = """
[alerts]
cooldown = "10m"

[heartbeat]
every = "1m"

[slack]
admins = ["U1"]

[remediation]
dry_run = false

[[checks]]
kind = "tcp"
name = "old-api"
port = {closed}
interval = "1s"
open_after = 1

[[checks]]
kind = "tcp"
name = "keep"
port = {closed}
interval = "2s"
open_after = 1
remediate = ["tidy"]

[[actions]]
name = "tidy"
kind = "cleanup_files"
folder = "{folder}"
older_than = "1d"
mode = "auto"
risk = "low"
"""

AFTER = """
[alerts]
cooldown = "12m"

[heartbeat]
every = "2m"
timeout = "7s"

[slack]
admins = ["U1", "U2"]
permissions = {{ ack = ["U3"] }}

[remediation]
dry_run = true

[[checks]]
kind = "tcp"
name = "keep"
port = {closed}
interval = "2s"
open_after = 1
remediate = ["tidy"]

[[checks]]
kind = "tcp"
name = "disk-data"
port = {closed}
interval = "3s"
open_after = 1

[[actions]]
name = "tidy"
kind = "cleanup_files"
folder = "{folder}"
older_than = "1d"
mode = "auto"
risk = "low"
"""


def environment(tmp_path: Path) -> dict[str, str]:
    """Slack on in HTTP mode (never reached here), a heartbeat URL nobody answers."""
    return {
        "SELFREG_DATA_DIR": str(tmp_path / "data"),
        "SELFREG_WEB_PORT": "0",
        "SELFREG_HEARTBEAT_URL": "http://127.0.0.1:9/ping",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_CHANNEL": "C1",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }


def write(path: Path, template: str, closed: int) -> None:
    folder = path.parent / "junk"
    folder.mkdir(exist_ok=True)
    path.write_text(template.format(closed=closed, folder=folder))
    time.sleep(0.01)  # a new modification time even on a coarse clock


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "selfreg.toml"


@pytest.fixture
def closed() -> int:
    return free_port()


@pytest.fixture
async def parts(tmp_path: Path, config_path: Path, closed: int) -> AsyncIterator[Parts]:
    write(config_path, BEFORE, closed)
    env = environment(tmp_path)
    config = load_settings(str(config_path), env)
    made = build(
        config,
        clock=FakeClock(time.time()),
        out=io.StringIO(),
        load=lambda: load_settings(str(config_path), env),
    )
    try:
        yield made
    finally:
        await made.http.close()
        made.store.close()


def fail(parts: Parts, check: str) -> None:
    """One failing run of ``check``, recorded as the scheduler's round would."""
    parts.clock.advance(1.0)
    observation = Observation(
        check=check, status=Status.CRITICAL, summary="refused", values={}, at=parts.clock.now()
    )
    result = RunResult(
        check=parts.runner.checks[check], observations=[observation], state_writes={}, duration=0
    )
    parts.runner.record([result])


def state_rows(parts: Parts) -> set[str]:
    with sqlite3.connect(parts.config.db_path) as conn:
        return {row[0] for row in conn.execute('SELECT "check" FROM state')}


async def test_a_changed_check_is_applied_without_disturbing_the_others(
    parts: Parts, config_path: Path, closed: int
) -> None:
    keep = parts.runner.checks["keep"]
    fail(parts, "old-api")
    fail(parts, "keep")
    assert {i.check for i in open_incidents(parts.store)} == {"old-api", "keep"}
    assert state_rows(parts) == {"old-api", "keep"}

    write(config_path, AFTER, closed)
    outcome = await parts.reloader.reload("test")

    assert outcome.ok and outcome.applied
    assert "+ check disk-data" in outcome.text and "− check old-api" in outcome.text
    assert list(parts.runner.checks) == ["keep", "disk-data"]
    assert parts.runner.checks["keep"] is keep  # unchanged: the same instance, its state kept
    assert {key[0] for key in parts.runner.latest} == {"keep"}
    assert state_rows(parts) == {"keep"}  # the removed check's state is forgotten
    assert {i.check for i in open_incidents(parts.store)} == {"keep"}  # old-api's resolved
    assert parts.reloader.config.settings.alerts.cooldown == 720.0
    jobs = {job.id for job in parts.scheduler.get_jobs()}
    assert jobs == {"checks:2s", "checks:3s"}


async def test_settings_reach_each_part_through_its_reconfigure(
    parts: Parts, config_path: Path, closed: int
) -> None:
    assert parts.remediation is not None and parts.heartbeat is not None
    assert parts.commands is not None
    tidy = parts.remediation.actions["tidy"]

    write(config_path, AFTER, closed)
    outcome = await parts.reloader.reload("test")

    assert outcome.ok and outcome.applied
    assert parts.alerting.policy.cooldown == 720.0
    assert set(parts.alerting.specs) == {"keep", "disk-data"}
    assert parts.remediation.dry_run is True
    assert parts.remediation.actions["tidy"] is tidy  # unchanged action: same instance
    assert parts.slack_notifier is not None
    assert parts.slack_notifier.actions == parts.remediation.actions
    assert parts.permissions.admins == {"U1", "U2"}
    assert parts.permissions.rules == {"ack": ["U3"]}
    assert parts.commands.admins == {"U1", "U2"}
    assert (parts.heartbeat.every, parts.heartbeat.timeout) == (120.0, 7.0)
    assert parts.housekeeping.config is parts.reloader.config


async def test_the_alerts_policy_is_applied_last_and_kept_when_a_reload_fails(
    parts: Parts, config_path: Path, closed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail(parts, "old-api")  # its incident is closed when the reload removes the check
    policies = []

    def close(incident_id: int, note: str) -> None:
        policies.append(parts.alerting.policy.cooldown)
        raise RuntimeError("cannot close")

    monkeypatch.setattr(parts.alerting, "close", close)
    write(config_path, AFTER, closed)
    outcome = await parts.reloader.reload("test")

    assert not outcome.ok and "cannot close" in outcome.text
    assert policies == [600.0]  # removed checks' incidents close under the running policy
    assert parts.alerting.policy.cooldown == 600.0  # failed part-way: the old policy runs on
    assert parts.heartbeat is not None and parts.heartbeat.every == 60.0


async def test_an_invalid_config_is_refused_and_the_old_one_runs_on(
    parts: Parts, config_path: Path
) -> None:
    before = dict(parts.runner.checks)
    running = parts.reloader.config
    config_path.write_text(config_path.read_text().replace('interval = "2s"', 'interval = "soon"'))

    outcome = await parts.reloader.reload("test")

    assert not outcome.ok and not outcome.applied
    assert "config reload refused" in outcome.text and "interval" in outcome.text
    assert parts.runner.checks == before
    assert parts.reloader.config is running
    with sqlite3.connect(parts.config.db_path) as conn:
        kinds = [
            row[0] for row in conn.execute("SELECT kind FROM events WHERE kind LIKE 'config.%'")
        ]
    assert kinds == ["config.reload_refused"]  # recorded, and nothing applied


async def test_a_reload_without_change_says_so_and_touches_nothing(parts: Parts) -> None:
    keep = parts.runner.checks["keep"]
    outcome = await parts.reloader.reload("test")
    assert outcome.ok and not outcome.applied
    assert outcome.text == "config reloaded: no change."
    assert parts.runner.checks["keep"] is keep
