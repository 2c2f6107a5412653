"""bot.engine.reload: what tests/runtime/test_reload.py leaves, in process against real parts:
the three triggers (SIGHUP's task, ``/selfreg reload``, a changed file seen by the watcher),
stopping the watcher, and a reload that fails part-way without killing selfreg."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import LoadedConfig, load_settings
from bot.engine.reload import Reloader, ReloadTargets, fingerprint
from bot.runtime import Parts, build
from bot.store import audit
from tests.support.clock import FakeClock
from tests.support.servers import free_port

BEFORE = '[[checks]]\nkind = "tcp"\nname = "api"\nport = {port}\ninterval = "1s"\n'
AFTER = BEFORE + '\n[[checks]]\nkind = "tcp"\nname = "db"\nport = {port}\ninterval = "2s"\n'
MODELS_OFF = "[models]\nanomaly = false\nfailure_risk = false\nforecast = false\n"


def write(path: Path, template: str, port: int) -> None:
    path.write_text(MODELS_OFF + template.format(port=port))
    time.sleep(0.01)  # a new modification time even on a coarse clock


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    path = tmp_path / "selfreg.toml"
    port = free_port()
    write(path, BEFORE, port)
    env = {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"}
    config = load_settings(str(path), env)
    made = build(
        config,
        clock=FakeClock(time.time()),
        out=io.StringIO(),
        load=lambda: load_settings(str(path), env),
    )
    try:
        yield made
    finally:
        await made.reloader.stop()
        await made.http.close()
        made.store.close()


def reload_events(parts: Parts) -> list[tuple[str, dict[str, Any]]]:
    with sqlite3.connect(parts.config.db_path) as conn:
        rows = conn.execute(
            "SELECT kind, detail FROM events WHERE kind LIKE 'config.%' ORDER BY id"
        )
        return [(kind, json.loads(detail)) for kind, detail in rows]


async def settle(reloader: Reloader) -> None:
    """Wait (2 s at most) for the reload tasks the triggers spawned."""
    for _ in range(40):
        if not reloader._tasks:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the reload task did not finish")


async def test_the_slack_command_answers_with_the_outcome(parts: Parts) -> None:
    text = await parts.reloader.from_command("U1")
    assert text == "config reloaded: no change."
    [(kind, detail)] = reload_events(parts)
    assert kind == "config.reloaded" and detail["by"] == "slack:U1"
    assert detail["applied"] is False


async def test_sighup_reloads_in_a_task_of_its_own(parts: Parts, tmp_path: Path) -> None:
    write(tmp_path / "selfreg.toml", AFTER, free_port())
    parts.reloader.on_signal()
    assert len(parts.reloader._tasks) == 1  # the handler returns at once
    await settle(parts.reloader)
    assert list(parts.runner.checks) == ["api", "db"]
    [(kind, detail)] = reload_events(parts)
    assert kind == "config.reloaded" and detail["by"] == "signal"
    assert "+ check db" in detail["changes"]


async def test_a_changed_file_is_reloaded_once_it_has_settled(parts: Parts, tmp_path: Path) -> None:
    reloader = parts.reloader
    await reloader.poll()  # nothing changed: nothing read
    assert reload_events(parts) == []
    path = tmp_path / "selfreg.toml"
    before = fingerprint([path])
    write(path, AFTER, free_port())
    assert fingerprint([path]) != before
    assert fingerprint([tmp_path / "gone.toml"]) == (None,)
    await asyncio.wait_for(reloader.poll(), 5)
    assert "db" in parts.runner.checks
    [(kind, detail)] = reload_events(parts)
    assert kind == "config.reloaded" and detail["by"] == "file"
    await reloader.poll()  # seen now: not reloaded again
    assert len(reload_events(parts)) == 1


async def test_the_watcher_polls_until_stopped(parts: Parts, tmp_path: Path) -> None:
    reloader = parts.reloader
    reloader.start()
    assert reloader._watcher is not None and not reloader._watcher.done()
    await reloader.stop()
    assert reloader._watcher.cancelled()


async def test_a_reload_failing_part_way_is_recorded_and_announced_not_raised(
    parts: Parts, tmp_path: Path
) -> None:
    def breaks(_: LoadedConfig) -> None:
        raise RuntimeError("the heartbeat would not take it")

    targets = ReloadTargets(
        runner=parts.runner,
        alerting=parts.alerting,
        supervisor=parts.supervisor,
        scheduler=parts.scheduler,
        settings=[breaks],
    )
    reloader = Reloader(
        parts.config,
        load=parts.reloader.load,
        store=parts.store,
        clock=parts.clock,
        announcer=parts.announcer,
        targets=targets,
    )
    write(tmp_path / "selfreg.toml", AFTER, free_port())
    outcome = await reloader.reload("test")
    assert not outcome.ok and not outcome.applied
    assert "RuntimeError: the heartbeat would not take it" in outcome.text
    assert reloader.config is parts.config  # not taken as the running config
    [(kind, detail)] = reload_events(parts)
    assert kind == "config.reload_failed" and detail["text"] == outcome.text


async def test_every_reload_is_in_the_audit_trail_with_who_and_the_door(
    parts: Parts, tmp_path: Path
) -> None:
    """Reloads change permissions and approvers: the keyed trail has each, whoever asked."""
    await parts.reloader.from_command("U1")
    write(tmp_path / "selfreg.toml", AFTER, free_port())
    parts.reloader.on_signal()
    await settle(parts.reloader)
    (tmp_path / "selfreg.toml").write_text("[[checks]]\nkind = 'nope'\n")
    await parts.reloader.reload("cli:alice")
    with sqlite3.connect(parts.config.db_path) as conn:
        rows = conn.execute("SELECT kind, actor, detail FROM audit ORDER BY id").fetchall()
    seen = [(kind, actor, json.loads(detail)["door"]) for kind, actor, detail in rows]
    assert seen == [
        ("config.reloaded", "U1", "slack"),
        ("config.reloaded", "signal", "signal"),
        ("config.reload_refused", "alice", "cli"),
    ]
    assert "+ check db" in json.loads(rows[1][2])["changes"]
    assert audit.verify(parts.store).tampered is None
