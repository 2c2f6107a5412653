"""Regulation in Slack, in process: selfreg as ``build`` makes it, the Slack stand-in. A scale
rule's proposed move is posted as a REGULATION message with Approve, Approve at quiet time,
Deny and Pause regulation; *Approve at quiet time* schedules it (said in the thread), ``/selfreg
plan`` lists it and cancels it; *Pause regulation* pauses automatic moves; resuming is for
admins."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.runtime import Parts
from bot.slack import delivery
from bot.slack.render import PAUSE_REGULATION, QUIET_PREFIX
from bot.store import regulation as store_regulation
from tests.support.clock import FakeClock
from tests.support.regulation_rig import scale_rule
from tests.support.slack_inprocess import QUIET, Selfreg, built, standin_env
from tests.support.slack_selfreg import ALICE, BOB, CHANNEL
from tests.support.slack_standin import SlackEmulator

CONFIG = (
    QUIET
    + """
[slack]
admins = ["{alice}"]

[[checks]]
kind = "http"
name = "queue"
url = "http://127.0.0.1:9/"

[[actions]]
name = "workers-up"
kind = "scale_component"
component = "workers"
max = 3
approvers = ["*"]

{rule}
"""
)


@pytest.fixture
async def selfreg(
    emu: SlackEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Selfreg, Parts]]:
    monkeypatch.setattr(delivery, "PACE", 0.0)
    path = tmp_path / "selfreg.toml"
    path.write_text(CONFIG.format(alice=ALICE, rule=scale_rule(max=3)))
    config = load_settings(str(path), standin_env(emu, tmp_path / "data"))
    async with built(emu, config, FakeClock(time.time())) as (driver, parts):
        assert parts.regulation is not None
        yield driver, parts


async def above_the_band(driver: Selfreg, parts: Parts) -> int:
    """Three samples above the band: a proposed scale-up; returns its proposal id."""
    assert parts.regulation is not None
    rule = parts.regulation.scaler.rules[0]
    for _ in range(3):
        driver.clock.advance(5)
        parts.regulation.scaler.sample(rule, 0.5, driver.clock.now())
    await driver.deliver()
    [decision] = store_regulation.decisions(parts.store)
    assert decision.outcome == "proposed"
    return decision.proposal_id or 0


async def test_a_proposed_move_is_scheduled_for_the_quiet_window_and_cancelled(
    selfreg: tuple[Selfreg, Parts],
) -> None:
    driver, parts = selfreg
    proposal = await above_the_band(driver, parts)
    message = driver.message("queue")
    assert message.text.startswith("⚖️ REGULATION")
    blocks = str(message.blocks)
    assert "Approve at quiet time" in blocks and "Pause regulation" in blocks
    await driver.click(message, f"{QUIET_PREFIX}{proposal}", user=BOB)
    await driver.deliver()
    [run] = store_regulation.scheduled_runs(parts.store)
    assert run.proposal_id == proposal and run.scheduled_by == BOB
    thread = [m.text for m in driver.emu.messages(CHANNEL) if m.thread_ts == message.ts]
    assert any("approved workers-up for the next quiet window" in t for t in thread), thread
    answer = await driver.slash("plan", user=BOB)
    assert f"run {run.id}: workers-up at" in str(answer.body)
    answer = await driver.slash(f"plan cancel {run.id}", user=BOB)
    assert "cancelled" in str(answer.body)
    assert store_regulation.scheduled_runs(parts.store) == []


async def test_pause_regulation_is_for_everyone_and_resume_for_admins(
    selfreg: tuple[Selfreg, Parts],
) -> None:
    driver, parts = selfreg
    await above_the_band(driver, parts)
    await driver.click(driver.message("queue"), PAUSE_REGULATION, user=BOB)
    assert store_regulation.paused(parts.store) == ("on", BOB)
    answer = await driver.slash("plan resume", user=BOB)
    assert "admins" in str(answer.body) and store_regulation.paused(parts.store) is not None
    await driver.slash("plan resume", user=ALICE)
    assert store_regulation.paused(parts.store) is None
