"""Resource detectors in process: a real child process grows its memory on command while a
real ``process`` check measures it (fake clock: hours pass between runs, rolled up as the
housekeeping job does); the leak detector proposes a restart with the evidence, and approving
it restarts the real component. A steady one is left alone; a switched-off detector never
looks. A disk heading for full proposes the configured cleanup with what its dry run frees.
A core pinned far above its usual proposes renice."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from bot.records import ProposalState
from bot.store import Store
from bot.store import proposals as store_proposals
from bot.store import regulation as store_regulation
from bot.store.retention import roll_up
from bot.store.samples import add_samples
from checks.base import Observation, Status
from tests.support.action_context import RealActionContext
from tests.support.db import rows
from tests.support.regulation_rig import Rig


async def test_a_steady_growth_proposes_a_restart_with_the_evidence(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    await rig.measure(30, 600.0, signal.SIGUSR1)  # 5 h, +8 MB every 10 min
    [finding] = [f for f in await rig.detectors.run() if f.detector == "leak"]
    assert finding.evidence["r2"] > 0.95 and finding.evidence["slope_per_hour"] > 40e6
    assert "a leak" in finding.summary and not finding.urgent
    [decision] = store_regulation.decisions(store)
    assert decision.action == "restart-api" and decision.outcome == "proposed"
    proposal = store_proposals.get(store, decision.proposal_id or 0)
    assert proposal is not None and proposal.state is ProposalState.PROPOSED
    assert await rig.detectors.run() == []  # one proposal per episode
    before = grower_ctx.components.pids("api")
    await rig.remediation.approve(proposal.id, "U0ALICE")
    await rig.remediation.wait_idle()
    assert grower_ctx.components.pids("api") != before
    assert store_proposals.get(store, proposal.id).state is ProposalState.VERIFIED  # type: ignore[union-attr]


async def test_steady_memory_and_a_switched_off_detector_propose_nothing(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    await rig.measure(30, 600.0)
    assert await rig.detectors.run() == []
    off = Rig(store, grower_ctx, pidfile, tmp_path, leak={"mode": "off"})
    off.clock = rig.clock
    await rig.measure(30, 600.0, signal.SIGUSR1)
    assert [f for f in off.detectors.findings(rig.clock.now()) if f.detector == "leak"] == []
    assert [f.detector for f in rig.detectors.findings(rig.clock.now())] == ["leak"]


async def test_a_filling_disk_proposes_the_cleanup_with_its_dry_run(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = time.time() - 3 * 86400
    for i in range(3):
        (data / f"dump-{i}.log").write_bytes(b"x" * 100_000)
        os.utime(data / f"dump-{i}.log", (old, old))
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    for i in range(60):  # 60 % rising 3 points an hour to 89.5 %: full in 3.5 h
        rig.clock.advance(600)
        observation = Observation(
            check="host", subject=str(tmp_path), status=Status.OK, summary="",
            values={"disk_percent": 60 + 0.5 * i}, at=rig.clock.now(),
        )  # fmt: skip
        with store.transaction():
            add_samples(store, [observation])
        roll_up(store, rig.clock.now() + 60)
    [finding] = await rig.detectors.run()
    assert (
        finding.detector == "disk" and finding.urgent and 3 * 3600 < (finding.eta or 0) < 4 * 3600
    )
    [decision] = store_regulation.decisions(store)
    assert decision.action == "clean-data"
    replies = [r["payload"] for r in rows(store, "SELECT payload FROM outbox")]
    assert any("would delete 3 files" in r for r in replies), replies
    assert len(list(data.iterdir())) == 3  # a dry run only


async def test_a_pinned_core_proposes_renice(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path, cpu={"min_percent": 10.0, "factor": 3.0})
    await rig.measure(24, 900.0)  # 6 h idle: its usual is about 0 %
    pid = int(pidfile.read_text())
    os.kill(pid, signal.SIGUSR2)  # spins for up to an hour of CPU
    for _ in range(4):
        await asyncio.sleep(0.5)  # real time for the check to see real CPU use
        await rig.measure(1, 120.0)
    found = {f.detector: f for f in await rig.detectors.run()}
    assert found["cpu"].evidence["recent"] >= 10
    decision = next(d for d in store_regulation.decisions(store) if d.rule.startswith("cpu"))
    assert decision.action == "renice-api"


async def test_a_log_growing_without_rotation_proposes_its_cleanup(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    logs = tmp_path / "data" / "logs"
    logs.mkdir(parents=True)
    rotated = tmp_path / "rotated.log"
    rig = Rig(
        store, grower_ctx, pidfile, tmp_path,
        growth={"paths": [str(logs), str(rotated)], "min_per_hour": 1e6},
    )  # fmt: skip
    found = []
    for i in range(30):  # 5 h: the folder +1 MB every 10 min; the other file cut each hour
        with (logs / "app.log").open("ab") as log:
            log.write(b"x" * 1_000_000)
        rotated.write_bytes(b"x" * (200_000 * (i % 6 + 1)))
        rig.clock.advance(600)
        found += await rig.detectors.run()
        roll_up(store, rig.clock.now() + 60)
    [finding] = found
    assert finding.detector == "growth" and finding.subject == str(logs)
    assert 5e6 < finding.evidence["bytes_per_hour"] < 7e6
    [decision] = store_regulation.decisions(store)
    assert decision.action == "clean-data"  # the cleanup whose folder holds the logs
    off = Rig(store, grower_ctx, pidfile, tmp_path, growth={"mode": "off", "paths": [str(logs)]})
    assert off.detectors.findings(rig.clock.now()) == []
