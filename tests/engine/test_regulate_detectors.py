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
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import actions
import checks
from bot.config.alerts import AlertsSettings
from bot.config.regulate import RegulateSettings
from bot.engine.alerting import Alerting
from bot.engine.regulate.detecting import Detectors
from bot.engine.regulate.planning import Planner
from bot.engine.remediation import Remediation
from bot.engine.remediation_runs import Verification
from bot.engine.runner import CheckRunner
from bot.records import ProposalState, Severity
from bot.store import Store
from bot.store import proposals as store_proposals
from bot.store import regulation as store_regulation
from bot.store.retention import roll_up
from bot.store.samples import add_samples
from checks.base import Observation, Status
from tests.support.action_context import RealActionContext, action_context
from tests.support.clock import FakeClock
from tests.support.db import rows

GROWER = """
import os, signal, sys, time
blocks = []
def grow(*_):
    blocks.append(b"x" * (8 << 20))
def spin(*_):
    end = time.process_time() + 3600
    while time.process_time() < end:
        pass
signal.signal(signal.SIGUSR1, grow)
signal.signal(signal.SIGUSR2, spin)
open(sys.argv[1] + ".tmp", "w").write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(60)
"""


@pytest.fixture
async def pidfile(tmp_path: Path) -> Path:
    return tmp_path / "api.pid"


@pytest.fixture
async def ctx(pidfile: Path) -> AsyncIterator[RealActionContext]:
    async with action_context({"api": [sys.executable, "-c", GROWER, str(pidfile)]}) as context:
        await context.components.start("api")
        for _ in range(100):  # bounded: the child writes its pid file at once
            if pidfile.exists():
                break
            await asyncio.sleep(0.05)
        yield context


def action(**entry: Any) -> Any:
    cls = actions.REGISTRY[entry["kind"]]
    return cls(cls.Spec(approvers=["*"], verify_after="0s", **entry))


class Rig:
    """Detectors over a store fed by a real process check, with remediation over real children."""

    def __init__(
        self, store: Store, ctx: RealActionContext, pidfile: Path, tmp_path: Path, **regulate: Any
    ):
        self.store, self.ctx, self.clock = store, ctx, FakeClock(1_700_000_000.0)
        spec = checks.REGISTRY["process"].Spec(
            name="api-proc", kind="process", pidfile=str(pidfile), rss={"critical": "2GB"},
            remediate=["restart-api", "renice-api"],
        )  # fmt: skip
        system = checks.REGISTRY["system"].Spec(name="host", kind="system")
        self.specs = {"api-proc": spec, "host": system}
        self.check = checks.REGISTRY["process"](spec)
        self.alerting = Alerting(
            store, self.clock, AlertsSettings(), self.specs, {"slack": Severity.INFO}
        )
        found = {
            "restart-api": action(name="restart-api", kind="restart_component", component="api"),
            "renice-api": action(name="renice-api", kind="renice_process", check="api-proc"),
            "clean-data": action(
                name="clean-data", kind="cleanup_files", folder=str(tmp_path / "data"),
                older_than="1d",
            ),
        }  # fmt: skip
        self.remediation = Remediation(
            store=store, clock=self.clock, actions=found, remediations={}, alerting=self.alerting,
            context=ctx, verify=self.verify, groups_of=self.groups,
        )  # fmt: skip
        self.settings = RegulateSettings(**regulate)
        parts = {"store": store, "clock": self.clock, "alerting": self.alerting}
        self.planner = Planner(
            remediation=self.remediation, settings=self.settings, specs=self.specs, **parts
        )
        self.detectors = Detectors(
            remediation=self.remediation, planner=self.planner, settings=self.settings,
            specs=self.specs, **parts,
        )  # fmt: skip
        self.runner = CheckRunner(
            checks=[self.check],
            store=store,
            clock=self.clock,
            http=ctx.http,
            alerting=self.alerting,
        )

    async def verify(self, check: str) -> Verification:
        return Verification(ok=True, summary="api is back to its usual memory")

    async def groups(self, user: str) -> set[str]:
        return set()

    async def measure(self, times: int, every: float, signal_each: int | None = None) -> None:
        """Run the process check ``times`` times, ``every`` fake seconds apart, optionally
        signalling the child first (SIGUSR1 grows it by 8 MB)."""
        pid = int(Path(self.check.spec.pidfile or "").read_text())
        for _ in range(times):
            if signal_each is not None:
                os.kill(pid, signal_each)
                await asyncio.sleep(0.05)  # the handler runs between the child's sleeps
            self.clock.advance(every)
            self.runner.record(await self.runner.run_now(["api-proc"]))
            roll_up(self.store, self.clock.now() + 60)


async def test_a_steady_growth_proposes_a_restart_with_the_evidence(
    store: Store, ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, ctx, pidfile, tmp_path)
    await rig.measure(30, 600.0, signal.SIGUSR1)  # 5 h, +8 MB every 10 min
    [finding] = [f for f in await rig.detectors.run() if f.detector == "leak"]
    assert finding.evidence["r2"] > 0.95 and finding.evidence["slope_per_hour"] > 40e6
    assert "a leak" in finding.summary and not finding.urgent
    [decision] = store_regulation.decisions(store)
    assert decision.action == "restart-api" and decision.outcome == "proposed"
    proposal = store_proposals.get(store, decision.proposal_id or 0)
    assert proposal is not None and proposal.state is ProposalState.PROPOSED
    assert await rig.detectors.run() == []  # one proposal per episode
    before = ctx.components.pids("api")
    await rig.remediation.approve(proposal.id, "U0ALICE")
    await rig.remediation.wait_idle()
    assert ctx.components.pids("api") != before
    assert store_proposals.get(store, proposal.id).state is ProposalState.VERIFIED  # type: ignore[union-attr]


async def test_steady_memory_and_a_switched_off_detector_propose_nothing(
    store: Store, ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, ctx, pidfile, tmp_path)
    await rig.measure(30, 600.0)
    assert await rig.detectors.run() == []
    off = Rig(store, ctx, pidfile, tmp_path, leak={"enabled": False})
    off.clock = rig.clock
    await rig.measure(30, 600.0, signal.SIGUSR1)
    assert [f for f in off.detectors.findings(rig.clock.now()) if f.detector == "leak"] == []
    assert [f.detector for f in rig.detectors.findings(rig.clock.now())] == ["leak"]


async def test_a_filling_disk_proposes_the_cleanup_with_its_dry_run(
    store: Store, ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = time.time() - 3 * 86400
    for i in range(3):
        (data / f"dump-{i}.log").write_bytes(b"x" * 100_000)
        os.utime(data / f"dump-{i}.log", (old, old))
    rig = Rig(store, ctx, pidfile, tmp_path)
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
    store: Store, ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, ctx, pidfile, tmp_path, cpu={"min_percent": 10.0, "factor": 3.0})
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
