"""Detectors in mode ``auto`` (fake clock, real child processes): a leak found in a real
process's growing memory restarts it by itself through the one gate (now when urgent, else at
the quiet window, where a pause in between hands it back to people), verified and audited, and
says so in a thread offering *Pause regulation*; the same finding is only proposed when the
kill switch is on, the detector's budget is spent, its action is not low risk, or the circuit
breaker (tripped by a fix that did not help) has paused regulation."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from bot.records import ProposalState
from bot.store import Store, audit
from bot.store import incidents as incident_rows
from bot.store import proposals as store_proposals
from bot.store import regulation as store_regulation
from bot.store.retention import roll_up
from bot.store.samples import add_samples
from checks.base import Observation, Status
from tests.support.action_context import RealActionContext
from tests.support.db import rows
from tests.support.regulation_rig import Rig


def outbox_text(store: Store) -> str:
    return "\n".join(r["payload"] for r in rows(store, "SELECT payload FROM outbox"))


async def leak(rig: Rig) -> None:
    """5 h of a real process growing 8 MB every 10 min, then one detector run."""
    await rig.measure(30, 600.0, signal.SIGUSR1)
    await rig.detectors.run()
    await rig.mover.wait_idle()


async def filling_disk(rig: Rig, tmp_path: Path) -> None:
    """A mount heading for full within hours, old files its cleanup would delete, one run."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    old = time.time() - 3 * 86400
    for i in range(3):
        (data / f"dump-{i}.log").write_bytes(b"x" * 1000)
        os.utime(data / f"dump-{i}.log", (old, old))
    for i in range(60):
        rig.clock.advance(600)
        observation = Observation(
            check="host", subject=str(tmp_path), status=Status.OK, summary="",
            values={"disk_percent": 60 + 0.5 * i}, at=rig.clock.now(),
        )  # fmt: skip
        with rig.store.transaction():
            add_samples(rig.store, [observation])
        roll_up(rig.store, rig.clock.now() + 60)
    await rig.detectors.run()
    await rig.mover.wait_idle()


def decision_of(store: Store, detector: str) -> store_regulation.DecisionRow:
    [found] = [d for d in store_regulation.decisions(store) if d.rule.startswith(detector)]
    return found


async def test_an_urgent_auto_leak_restarts_by_itself_verified_audited_and_said(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    from bot.slack import render

    rig = Rig(store, grower_ctx, pidfile, tmp_path, risk="low", rss="1GB", leak={"mode": "auto"})
    before = grower_ctx.components.pids("api")
    await leak(rig)
    assert grower_ctx.components.pids("api") != before  # the real process was restarted
    decision = decision_of(store, "leak")
    assert (decision.mode, decision.outcome, decision.action) == ("auto", "moved", "restart-api")
    assert decision.signal["urgent"] is True
    proposal = store_proposals.get(store, decision.proposal_id or 0)
    assert proposal is not None and proposal.state is ProposalState.VERIFIED
    assert proposal.decided_by == "selfreg"
    [approval] = [r for r in audit.rows(store) if r["kind"] == "decision.approve"]
    assert approval["actor"] == "selfreg" and json.loads(approval["detail"])["door"] == "regulate"
    [detected] = [json.loads(r["detail"]) for r in audit.rows(store) if r["kind"] == "regulate.detected"]  # fmt: skip
    assert detected["outcome"] == "moved" and detected["signal"]["r2"] > 0.95
    assert "selfreg runs restart api by itself now" in outbox_text(store)
    incident = incident_rows.get_incident(store, decision.incident_id or 0)
    assert incident is not None
    blocks = json.dumps(render.render_incident(incident, rig.clock.now()).blocks, default=str)
    assert render.PAUSE_REGULATION in blocks


@pytest.mark.parametrize("paused", [False, True])
async def test_a_leak_that_can_wait_is_fixed_by_itself_at_the_quiet_window(
    paused: bool, store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path, risk="low", leak={"mode": "auto"})
    before = grower_ctx.components.pids("api")
    await leak(rig)
    assert grower_ctx.components.pids("api") == before  # not urgent: nothing runs yet
    [run] = store_regulation.scheduled_runs(store)
    assert run.scheduled_by == "selfreg" and run.door == {"door": "regulate"}
    assert "by itself at the next quiet window" in outbox_text(store)
    if paused:  # the button, between the finding and the window
        rig.mover.pause("U0DAN", True)
    rig.clock.advance(run.run_at - rig.clock.now() + 1)
    await rig.planner.tick()
    await rig.remediation.wait_idle()
    proposal = store_proposals.get(store, run.proposal_id)
    assert proposal is not None
    if paused:  # people decide: the proposal stays open, nothing ran
        assert grower_ctx.components.pids("api") == before
        assert proposal.state is ProposalState.PROPOSED
        assert store_regulation.scheduled_run(store, run.id).state == "refused"  # type: ignore[union-attr]
        assert "regulation is paused by <@U0DAN>" in outbox_text(store)
        return
    assert grower_ctx.components.pids("api") != before
    assert proposal.state is ProposalState.VERIFIED and proposal.decided_by == "selfreg"
    [approval] = [r for r in audit.rows(store) if r["kind"] == "decision.approve"]
    detail = json.loads(approval["detail"])
    assert approval["actor"] == "selfreg" and (detail["door"], detail["via"]) == (
        "schedule", "regulate",
    )  # fmt: skip


@pytest.mark.parametrize("refusal", ["kill switch", "budget", "risk"])
async def test_an_auto_detector_only_proposes_when_safety_says_no(
    refusal: str, store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    disk = {"mode": "auto", "budget": "0/1d" if refusal == "budget" else "2/1d"}
    risk = "medium" if refusal == "risk" else "low"
    rig = Rig(store, grower_ctx, pidfile, tmp_path, risk=risk, disk=disk)
    if refusal == "kill switch":
        rig.remediation.pause("U0BOB", True)
    await filling_disk(rig, tmp_path)
    decision = decision_of(store, "disk")
    assert (decision.mode, decision.outcome, decision.action) == ("auto", "proposed", "clean-data")
    wanted = {"kill switch": "actions are paused", "budget": "budget of 0", "risk": "low-risk"}
    assert wanted[refusal] in decision.reason and wanted[refusal] in outbox_text(store)
    assert len(list((tmp_path / "data").iterdir())) == 3  # nothing deleted
    proposal = store_proposals.get(store, decision.proposal_id or 0)
    assert proposal is not None and proposal.state is ProposalState.PROPOSED


async def test_a_fix_that_did_not_help_trips_the_breaker_and_later_fixes_wait_for_people(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    auto = {"mode": "auto"}
    rig = Rig(store, grower_ctx, pidfile, tmp_path, risk="low", rss="1GB", leak=auto, disk=auto)
    rig.verified_ok = False  # the restart runs, but its check says it did not help
    before = grower_ctx.components.pids("api")
    await leak(rig)
    assert grower_ctx.components.pids("api") != before
    proposal = store_proposals.get(store, decision_of(store, "leak").proposal_id or 0)
    assert proposal is not None and proposal.state is ProposalState.NOT_EFFECTIVE
    await filling_disk(rig, tmp_path)  # the next run: the breaker trips first
    paused = store_regulation.paused(store)
    assert paused is not None and paused[0].startswith("circuit breaker") and paused[1] == "selfreg"
    assert decision_of(store, "leak").outcome == "failed"
    assert [r for r in audit.rows(store) if r["kind"] == "regulate.breaker"]
    disk = decision_of(store, "disk")
    assert disk.outcome == "proposed" and "regulation is paused (circuit breaker" in disk.reason
    assert len(list((tmp_path / "data").iterdir())) == 3


def test_the_retired_enabled_key_is_refused_naming_what_to_write(tmp_path: Path) -> None:
    from bot.config import load_settings
    from bot.errors import ConfigError

    path = tmp_path / "selfreg.toml"
    path.write_text("[regulate.leak]\nenabled = false\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(str(path))
    text = str(raised.value)
    assert str(path) in text and "regulate.leak" in text
    assert 'enabled = false is no longer read: write mode = "off"' in text
