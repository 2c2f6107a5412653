"""Fly end to end, in process: selfreg as ``build`` makes it, the Machines API stand-in, the
Slack stand-in. A machine that stops opens an incident with a proposed restart; Alice's click
restarts it and the message turns green. A deploy is announced once; an incident soon after it
says so and proposes the rollback to the release before, which needs two people."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import LoadedConfig, load_settings
from bot.records import ProposalState
from bot.runtime import Parts, build
from bot.slack import delivery
from bot.slack.render import APPROVE_PREFIX
from bot.store import proposals as store_proposals
from tests.support.clock import FakeClock
from tests.support.fly_standin import APP, WEB, WORKER, FlyStandin, fly_api
from tests.support.slack_inprocess import QUIET, Selfreg, built, read_rows, standin_env
from tests.support.slack_selfreg import ALICE, BOB
from tests.support.slack_standin import SlackEmulator

CONFIG = (
    QUIET
    + """
[[checks]]
kind = "fly"
name = "fly-app"
app = "{app}"
base_url = "{base}"
interval = "5s"
open_after = 1
confirm_after = "5s"
deploy_window = "30m"
remediate = ["fly-restart"]

[[actions]]
name = "fly-restart"
kind = "fly_restart_machine"
app = "{app}"
base_url = "{base}"
approvers = ["{alice}"]
verify_after = "0s"
wait_timeout = "5s"

[[actions]]
name = "fly-rollback"
kind = "fly_rollback"
app = "{app}"
base_url = "{base}"
check = "fly-app"
approvers = ["{alice}", "{bob}"]
verify_after = "0s"
wait_timeout = "5s"
"""
)


@pytest.fixture
async def fly(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FlyStandin]:
    async with fly_api(monkeypatch) as standin:
        yield standin


@pytest.fixture
def configured(
    emu: SlackEmulator, fly: FlyStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[LoadedConfig, FakeClock]:
    """The config (the Fly and Slack stand-ins, a data folder) and the clock selfreg runs on."""
    monkeypatch.setattr(delivery, "PACE", 0.0)
    path = tmp_path / "selfreg.toml"
    path.write_text(CONFIG.format(app=APP, base=fly.url, alice=ALICE, bob=BOB))
    env = standin_env(emu, tmp_path / "data")
    return load_settings(str(path), env), FakeClock(time.time())


@pytest.fixture
async def selfreg(
    emu: SlackEmulator, configured: tuple[LoadedConfig, FakeClock]
) -> AsyncIterator[tuple[Selfreg, Parts]]:
    """selfreg as ``build`` makes it, driven through the in-process Slack helper."""
    config, clock = configured
    async with built(emu, config, clock) as driven:
        yield driven


async def settle(selfreg: Selfreg, parts: Parts) -> None:
    """Background runs and their verification finish; the outbox is delivered."""
    assert parts.remediation is not None
    await parts.remediation.wait_idle(20)
    await selfreg.deliver()


async def run_checks(driver: Selfreg) -> None:
    """One scheduled run of the fly check (interval 5s), then one delivery pass."""
    await driver.runner.run_interval(5.0)
    await driver.deliver()


def proposal_for(parts: Parts, incident_id: int, action: str) -> int:
    [found] = [
        p for p in store_proposals.for_incident(parts.store, incident_id) if p.action == action
    ]
    return found.id


async def test_a_stopped_machine_is_restarted_by_an_approval_click(
    selfreg: tuple[Selfreg, Parts], fly: FlyStandin
) -> None:
    driver, parts = selfreg
    fly.crash(WORKER)
    await run_checks(driver)
    incident = driver.incident("fly-app")
    assert incident.subject == f"{WORKER} (ams)"
    message = driver.message("fly-app")
    assert "OOM killed" in str(message.blocks)
    assert "restart the incident's Fly machine of selfreg-bot" in str(message.blocks)
    proposed = [p.action for p in store_proposals.for_incident(parts.store, incident.id)]
    assert proposed == ["fly-restart"]  # no deploy before it: no rollback

    proposal = proposal_for(parts, incident.id, "fly-restart")
    await driver.click(message, f"{APPROVE_PREFIX}{proposal}", user=ALICE)
    await settle(driver, parts)

    assert fly.state_of(WORKER) == "started"
    assert store_proposals.get(parts.store, proposal).state is ProposalState.VERIFIED
    assert driver.message("fly-app").text.startswith("✅ RESOLVED")
    assert fly.state_of(WEB) == "started"


def versions(fly: FlyStandin) -> set[str]:
    return {m["image_ref"]["labels"]["fly.version"] for m in fly.machines.values()}


async def test_an_incident_after_a_deploy_says_so_and_offers_a_two_person_rollback(
    selfreg: tuple[Selfreg, Parts], fly: FlyStandin
) -> None:
    driver, parts = selfreg
    await run_checks(driver)  # v17 is what runs: the first sighting is no deploy
    fly.deploy(18)
    await run_checks(driver)
    await run_checks(driver)
    notices = [m.text for m in driver.top_level() if "deployed" in m.text]
    assert notices == ["selfreg-bot v18 deployed to ams, 2 machines (was v17)"]
    stored = read_rows(parts.store, "SELECT subject FROM events WHERE kind = 'release.deployed'")
    assert [r["subject"] for r in stored] == [APP]

    driver.clock.advance(180)
    fly.fail_check(WEB)
    await run_checks(driver)
    incident = driver.incident("fly-app")
    blocks = str(driver.message("fly-app").blocks)
    assert "Started 3 m after v18 was deployed." in blocks
    assert "roll back to v17" in blocks

    rollback = proposal_for(parts, incident.id, "fly-rollback")
    action_id = f"{APPROVE_PREFIX}{rollback}"
    await driver.click(driver.message("fly-app"), action_id, user=ALICE)
    await settle(driver, parts)
    assert versions(fly) == {"v18"}  # one approval of a high-risk action runs nothing
    await driver.click(driver.message("fly-app"), action_id, user=BOB)
    await settle(driver, parts)
    assert versions(fly) == {"v17"}
    assert store_proposals.get(parts.store, rollback).state is ProposalState.VERIFIED


async def test_a_restarted_selfreg_does_not_announce_the_release_again(
    selfreg: tuple[Selfreg, Parts], fly: FlyStandin, configured: tuple[LoadedConfig, FakeClock]
) -> None:
    driver, parts = selfreg
    await run_checks(driver)
    fly.deploy(18)
    await run_checks(driver)
    parts.store.close()
    config, clock = configured
    again = build(config, clock=clock, out=io.StringIO())  # the check state is read back
    try:
        await again.runner.run_interval(5.0)
        fly.deploy(19)
        await again.runner.run_interval(5.0)
        stored = read_rows(
            again.store, "SELECT detail FROM events WHERE kind = 'release.deployed' ORDER BY id"
        )
    finally:
        await again.http.close()
        again.store.close()
    deploys = [(d["version"], d["previous"]) for d in (json.loads(r["detail"]) for r in stored)]
    assert deploys == [("v18", "v17"), ("v19", "v18")]  # v18 once, then only the new one
