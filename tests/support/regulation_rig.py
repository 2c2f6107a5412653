"""A regulation rig for tests: a real child process that grows its memory (SIGUSR1, 8 MB a
time) or spins a core (SIGUSR2) on command, a real ``process`` check that measures it under a
fake clock (rolled up as the housekeeping job does), and the detectors and the planner over
remediation of real children (``restart-api``, ``renice-api``, ``clean-data``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import actions
import checks
from bot.config.alerts import AlertsSettings
from bot.config.regulate import RegulateSettings
from bot.engine.alerting import Alerting
from bot.engine.regulate.detecting import Detectors
from bot.engine.regulate.moves import Mover
from bot.engine.regulate.planning import Planner
from bot.engine.remediation import Remediation
from bot.engine.remediation_runs import Verification
from bot.engine.runner import CheckRunner
from bot.records import Severity
from bot.store import Store
from bot.store.retention import roll_up
from tests.support.action_context import RealActionContext, action_context
from tests.support.clock import FakeClock


def scale_rule(**extra: object) -> str:
    """A ``[[regulate.scale]]`` entry keeping the ``queue`` check's latency in 0.01..0.1 s
    with the ``workers-up`` action (10 s above the band before a move); ``extra`` keys are
    written as given (TOML values)."""
    extra = {"up_for": '"10s"', **extra}
    lines = [
        "[[regulate.scale]]", 'name = "workers"', 'check = "queue"', 'metric = "latency"',
        "low = 0.01", "high = 0.1", 'up = "workers-up"',
        *(f"{key} = {value}" for key, value in extra.items()),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


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


@contextlib.asynccontextmanager
async def grower(pidfile: Path) -> AsyncIterator[RealActionContext]:
    """A context whose component ``api`` is one real grower, its pid in ``pidfile``."""
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


def rig_actions(tmp_path: Path, risk: str) -> dict[str, Any]:
    """The rig's actions: restart and renice the grower, clean ``tmp_path/data``."""
    return {
        "restart-api": action(
            name="restart-api", kind="restart_component", component="api", risk=risk
        ),
        "renice-api": action(
            name="renice-api", kind="renice_process", check="api-proc", risk=risk
        ),
        "clean-data": action(
            name="clean-data", kind="cleanup_files", folder=str(tmp_path / "data"),
            older_than="1d", risk=risk,
        ),
    }  # fmt: skip


class Rig:
    """Detectors over a store fed by a real process check, with remediation over real children."""

    def __init__(
        self,
        store: Store,
        ctx: RealActionContext,
        pidfile: Path,
        tmp_path: Path,
        risk: str = "medium",
        rss: str = "2GB",
        **regulate: Any,
    ):
        """``risk`` of the three actions, ``rss`` the check's critical memory limit (1GB makes
        a 5-hour leak urgent: it reaches it before the next quiet window); ``regulate`` the
        ``[regulate]`` section's keys."""
        self.store, self.ctx, self.clock = store, ctx, FakeClock(1_700_000_000.0)
        self.verified_ok = True
        spec = checks.REGISTRY["process"].Spec(
            name="api-proc", kind="process", pidfile=str(pidfile), rss={"critical": rss},
            remediate=["restart-api", "renice-api"],
        )  # fmt: skip
        system = checks.REGISTRY["system"].Spec(name="host", kind="system")
        self.specs = {"api-proc": spec, "host": system}
        self.check = checks.REGISTRY["process"](spec)
        self.alerting = Alerting(
            store, self.clock, AlertsSettings(), self.specs, {"slack": Severity.INFO}
        )
        found = rig_actions(tmp_path, risk)
        self.remediation = Remediation(
            store=store, clock=self.clock, actions=found, remediations={}, alerting=self.alerting,
            context=ctx, verify=self.verify, groups_of=self.groups,
        )  # fmt: skip
        self.settings = RegulateSettings(**regulate)
        parts = {"store": store, "clock": self.clock, "alerting": self.alerting}
        self.planner = Planner(
            remediation=self.remediation, settings=self.settings, specs=self.specs, **parts
        )
        self.mover = Mover(remediation=self.remediation, settings=self.settings, **parts)
        self.detectors = Detectors(
            remediation=self.remediation, planner=self.planner, mover=self.mover,
            settings=self.settings, specs=self.specs, **parts,
        )  # fmt: skip
        self.runner = CheckRunner(
            checks=[self.check],
            store=store,
            clock=self.clock,
            http=ctx.http,
            alerting=self.alerting,
        )

    async def verify(self, check: str) -> Verification:
        return Verification(ok=self.verified_ok, summary="api's memory, after the fix")

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
