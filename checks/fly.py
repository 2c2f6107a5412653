"""``fly``: a Fly.io app's machines through the Machines API, one observation per machine.

Per machine (subject ``"<machine id> (<region>)"``): its state, region, release, host status,
Fly's own health checks (passing / warning / critical with their output), restart count and
the newest exit (code, OOM kill). For the app (subject ``""``): machines by state and region,
the release running and, when ``health_url`` is set, the app's response time. The Machines
API gives each machine's guest size (memory, CPUs) but no usage: memory and CPU in use are not
read here (a metrics endpoint of the app would be the place).

Deploy tracking: the release running is kept in the check's state (committed with the run, so
a restart of selfreg does not take the next run for a deploy); a different one later is a
deploy, reported on the app observation as ``Observation.deploy``; a change back to an older
release (a rollback) is announced too, but names no checks, so no incident offers to roll
"back" to the release just left. The release history (the last few versions and their images)
is kept too: the ``fly_rollback`` action reads it.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import replace
from typing import Any, Literal

import aiohttp
from pydantic import Field

from checks.base import Check, CheckContext, CheckSpec, Deploy, Observation, Status, Threshold
from checks.fly_api import (
    FlyAccess,
    FlyApi,
    FlyError,
    FlyNotFound,
    FlyRateLimited,
    FlyUnauthorized,
)
from checks.fly_health import fetch_health
from checks.fly_machines import GONE, Machine, parse, release_number
from checks.fly_status import judge_machine, machine_values
from checks.thresholds import DurationThreshold
from common.units import Duration, format_duration

HISTORY_KEY = "releases"
"""Check-state key of the release history: newest last, ``{"version", "image", "metadata"}``."""
CURRENT_KEY = "release"
_HISTORY_KEEP = 10


class FlySpec(CheckSpec, FlyAccess):
    """An ``[[checks]]`` entry of kind ``fly``."""

    kind: Literal["fly"]
    app: str = Field(min_length=1, description="The Fly app's name.")
    process_group: str | None = Field(
        default=None, description="Only machines of this process group (e.g. 'app', 'web')."
    )
    regions: list[str] = Field(
        default_factory=list, description="Only machines in these regions; empty: every region."
    )
    health_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="The app's health endpoint, fetched each run for its response time.",
    )
    response_time: DurationThreshold = Field(
        default_factory=DurationThreshold, description="Limits on health_url's response time."
    )
    health_fields: dict[str, str] = Field(
        default_factory=dict,
        description="Numbers to record from health_url's JSON body: value name = dotted path "
        "(e.g. memory_mb = 'memory.rss_mb').",
    )
    min_started: int = Field(
        default=1, ge=0, description="Fewer started machines than this: the app is critical."
    )
    stopped: Literal["critical", "warning", "ok"] = Field(
        default="critical",
        description="How a stopped or suspended machine counts ('ok' for apps that autostop).",
    )
    stuck_after: Duration = Field(
        default=300.0, gt=0, description="A machine this long in a passing state is critical."
    )
    restarts: Threshold = Field(
        default_factory=Threshold, description="Limits on a machine's restart count."
    )
    deploy_window: Duration = Field(
        default=1800.0,
        ge=0,
        description="Incidents opening this long after a deploy name it; 0 turns that off.",
    )
    deploy_affects: list[str] = Field(
        default_factory=list,
        description="Other checks whose incidents name a deploy of this app.",
    )


class FlyCheck(Check):
    """Read the app's machines once per run; see the module docstring."""

    Spec = FlySpec

    def __init__(self, spec: FlySpec) -> None:
        super().__init__(spec)
        self.spec: FlySpec = spec

    def _timeout(self) -> float:
        """What one run's requests may take together: 90 % of the run's timeout, so a slow
        answer ends as this check's words rather than as the engine's timeout."""
        return self.spec.run_timeout * 0.9

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec = self.spec
        token = os.environ.get(spec.token_env, "").strip()
        if not token:
            return [self.observe(ctx, Status.UNKNOWN, f"{spec.token_env} is not set")]
        ends = time.monotonic() + self._timeout()  # the API call and health_url share it
        api = FlyApi(
            ctx.http, app=spec.app, token=token, base_url=spec.base_url, timeout=self._timeout()
        )
        try:
            raw = await api.machines()
        except (FlyError, aiohttp.ClientError, TimeoutError) as exc:
            return [self._api_failure(ctx, exc)]
        machines = [m for m in map(parse, raw) if self._wanted(m)]
        now = ctx.now()
        observed = [
            self.observe(ctx, *judge_machine(m, spec, now), machine_values(m), m.subject)
            for m in machines
        ]
        return [await self._app(ctx, machines, ends), *observed]

    def _wanted(self, machine: Machine) -> bool:
        spec = self.spec
        if machine.state in GONE:
            return False
        if spec.process_group and machine.process_group != spec.process_group:
            return False
        return not spec.regions or machine.region in spec.regions

    def _api_failure(self, ctx: CheckContext, exc: BaseException) -> Observation:
        """A failed list call as the app's observation: a refused token or an unanswered call
        means the check cannot tell (unknown); an app Fly does not know is critical."""
        spec = self.spec
        if isinstance(exc, FlyUnauthorized):
            text = f"Fly rejected {spec.token_env} for app {spec.app} (HTTP {exc.status})"
            return self.observe(ctx, Status.UNKNOWN, text)
        if isinstance(exc, FlyNotFound):
            text = f"Fly has no app {spec.app} (HTTP 404: {exc})"
            return self.observe(ctx, Status.CRITICAL, text)
        if isinstance(exc, FlyRateLimited):
            return self.observe(ctx, Status.UNKNOWN, f"Fly API: {exc}")
        if isinstance(exc, TimeoutError):
            waited = format_duration(self._timeout())
            return self.observe(ctx, Status.UNKNOWN, f"Fly API did not answer within {waited}")
        if isinstance(exc, FlyError):
            return self.observe(ctx, Status.UNKNOWN, f"Fly API: HTTP {exc.status}: {exc}")
        return self.observe(ctx, Status.UNKNOWN, f"Fly API unreachable: {type(exc).__name__}")

    async def _app(self, ctx: CheckContext, machines: list[Machine], ends: float) -> Observation:
        """The app as a whole: started count against ``min_started``, states and regions,
        the release running, the health endpoint's answer, and a deploy when there was one."""
        spec = self.spec
        started = [m for m in machines if m.state == "started"]
        states = Counter(m.state for m in machines)
        regions = Counter(m.region for m in machines)
        version = _running_version(machines)
        values: dict[str, float] = {
            "machines": len(machines),
            "started": len(started),
            "regions": len(regions),
        }
        if version.lstrip("v").isdigit():
            values["release"] = float(version.lstrip("v"))
        status = Status.CRITICAL if len(started) < spec.min_started else Status.OK
        parts = [
            f"{len(started)} of {len(machines)} machines started",
            ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no machines",
            "regions " + (", ".join(f"{r} ({n})" for r, n in sorted(regions.items())) or "none"),
        ]
        if version:
            parts.append(f"release {version}")
        if spec.health_url:
            left = max(ends - time.monotonic(), 0.05)
            health = await fetch_health(
                ctx.http, spec.health_url, left, spec.response_time, spec.health_fields
            )
            status = Status.worst([status, health.status])
            parts.append(health.text)
            values.update(health.values)
        deploy = self._track_release(ctx, machines, version)
        observation = self.observe(ctx, status, f"{spec.app}: " + "; ".join(parts), values)
        return observation if deploy is None else replace(observation, deploy=deploy)

    def _track_release(
        self, ctx: CheckContext, machines: list[Machine], version: str
    ) -> Deploy | None:
        """Keep the running release (and its history) in the check's state; a change from a
        recorded one is a deploy."""
        if not version:
            return None
        previous = ctx.state.get(CURRENT_KEY)
        if previous == version:
            return None
        ctx.state.set(CURRENT_KEY, version)
        _remember(ctx, machines, version)
        if not previous:
            return None  # the first sighting is what runs, not a deploy
        running = [m for m in machines if m.version == version]
        spec = self.spec
        # back to an older release (a rollback): announced, but no incident is worded with
        # it, so none is offered a "rollback" to the release just left
        back = 0 < release_number(version) < release_number(str(previous))
        return Deploy(
            app=spec.app,
            version=version,
            previous=str(previous),
            regions=tuple(sorted({m.region for m in running})),
            machines=len(running),
            window=spec.deploy_window,
            checks=() if back else (spec.name, *spec.deploy_affects),
        )


def _running_version(machines: list[Machine]) -> str:
    """The release the app runs: the newest version among started machines (else any)."""
    pool = [m for m in machines if m.state == "started" and m.version] or [
        m for m in machines if m.version
    ]
    return max(pool, key=lambda m: m.release).version if pool else ""


def _remember(ctx: CheckContext, machines: list[Machine], version: str) -> None:
    """Add ``version`` with its image and metadata to the release history (newest last)."""
    example = next(m for m in machines if m.version == version)
    history: list[dict[str, Any]] = [
        h for h in ctx.state.get(HISTORY_KEY, []) or [] if h.get("version") != version
    ]
    history.append(
        {
            "version": version,
            "image": example.image,
            "metadata": dict(example.config.get("metadata") or {}),
        }
    )
    ctx.state.set(HISTORY_KEY, history[-_HISTORY_KEEP:])
