"""Fly machine actions: restart, start or stop one machine, written once.

The three kinds (``fly_restart_machine``, ``fly_start_machine``, ``fly_stop_machine``) differ
only in the verb they POST and the state they wait for, so one class, ``FlyMachineAction``,
runs all three; each kind keeps its own module, which declares its ``Spec`` and its verb.

The machine is the entry's ``machine`` when set, else the one the incident's subject names
(the fly check's subjects are ``"<machine id> (<region>)"``); on the app's own incident
(too few machines started) a start or restart takes every machine not running. A restart of a stopped machine
starts it. A run takes the machine's lease,
POSTs the verb with the lease nonce, releases the lease, then waits for the state through the
API's wait endpoint; the engine's verification then re-runs the check.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from actions.base import ActionContext, ActionResult
from actions.fly_common import FlyAction, FlyActionSpec, FlyRefused
from checks.fly_api import FlyApi
from checks.fly_machines import STOPPED, machine_id_of

MachineVerb = Literal["restart", "start", "stop"]
REACHES: dict[MachineVerb, str] = {"restart": "started", "start": "started", "stop": "stopped"}
PAST: dict[MachineVerb, str] = {"restart": "restarted", "start": "started", "stop": "stopped"}


class FlyMachineSpec(FlyActionSpec):
    """The keys of a Fly machine action's entry."""

    machine: str | None = Field(
        default=None,
        pattern=r"^[0-9a-z]{6,32}$",
        description="A fixed machine id; default: the machine the incident's subject names.",
    )


class FlyMachineAction(FlyAction):
    """POST ``verb`` to one machine under its lease, then wait for the state it leads to."""

    Spec: ClassVar[type[FlyMachineSpec]]
    verb: ClassVar[MachineVerb]

    def __init__(self, spec: FlyMachineSpec) -> None:
        super().__init__(spec)
        self.spec: FlyMachineSpec = spec

    def describe(self) -> str:
        which = self.spec.machine or "the incident's"
        return f"{self.verb} {which} Fly machine of {self.spec.app}"

    async def act(self, api: FlyApi, ctx: ActionContext, dry_run: bool) -> ActionResult:
        targets = await self._targets(api, ctx)
        listed = ", ".join(targets)
        if dry_run:
            return ActionResult(
                ok=True, summary=f"would {self.verb} Fly machine {listed} of {self.spec.app}"
            )
        done = [await self._act(api, machine_id) for machine_id in targets]
        return ActionResult(ok=True, summary="; ".join(r.summary for r in done))

    async def _targets(self, api: FlyApi, ctx: ActionContext) -> list[str]:
        """The configured machine, else the incident's; for the app's own incident (subject
        ""), a start or restart takes every machine not running, and a stop none."""
        named = self.spec.machine or machine_id_of(ctx.subject)
        if named is not None:
            return [named]
        if self.verb != "stop":
            idle = [m.id for m in await self.machines(api, None) if m.state != "started"]
            if idle:
                return idle
        raise FlyRefused(
            f"no machine to {self.verb}: the incident names none and the action sets no "
            "machine; nothing was changed"
        )

    async def _act(self, api: FlyApi, machine_id: str) -> ActionResult:
        spec = self.spec
        before = await api.machine(machine_id)
        verb = self.verb
        if verb == "restart" and before.get("state") in STOPPED:
            verb = "start"  # a stopped machine is restarted by starting it
        async with api.lease(machine_id, f"selfreg: {verb}", int(spec.lease_ttl)) as nonce:
            await api.post(machine_id, verb, nonce)
        state = REACHES[verb]
        instance = str(before.get("instance_id", "")) if state == "stopped" else None
        await api.wait(machine_id, state, spec.wait_timeout, instance)
        was = before.get("state", "?")
        return ActionResult(
            ok=True,
            summary=f"{PAST[verb]} Fly machine {machine_id} of {spec.app} (was {was}, now {state})",
        )
