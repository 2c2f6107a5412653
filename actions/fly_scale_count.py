"""``fly_scale_count``: run more or fewer machines of an app's process group, within bounds.

Up: a clone of a started machine of the group (its full config, in its region) is created
and waited for. Down: the newest machine is destroyed under its lease. The bounds live in the
action's own entry, so no number of approvals takes the group past them. A machine with a
volume cannot be cloned (a volume attaches to one machine): such a group is refused.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actions.base import ActionContext, ActionResult
from actions.fly_common import FlyAction, FlyActionSpec, FlyRefused
from checks.fly_api import FlyApi
from checks.fly_machines import Machine, parse


class FlyScaleCountSpec(FlyActionSpec):
    """An ``[[actions]]`` entry of kind ``fly_scale_count``."""

    kind: Literal["fly_scale_count"] = Field(description='Always "fly_scale_count".')
    process_group: str | None = Field(
        default=None, description="The process group scaled; default every machine of the app."
    )
    step: int = Field(default=1, description="Machines to add per run (negative: remove).")
    min: int = Field(default=1, ge=0, description="Never fewer machines than this.")
    max: int = Field(ge=1, description="Never more machines than this.")

    @model_validator(mode="after")
    def _bounds(self) -> FlyScaleCountSpec:
        if self.step == 0:
            raise ValueError("step must not be 0: positive scales up, negative down")
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be at least min ({self.min})")
        return self


class FlyScaleCount(FlyAction):
    """Clone or destroy machines by ``step``, clamped to ``[min, max]``."""

    Spec = FlyScaleCountSpec

    def __init__(self, spec: FlyScaleCountSpec) -> None:
        super().__init__(spec)
        self.spec: FlyScaleCountSpec = spec

    def describe(self) -> str:
        spec = self.spec
        group = f" {spec.process_group}" if spec.process_group else ""
        direction = "up" if spec.step > 0 else "down"
        return f"scale {spec.app}{group} {direction} by {abs(spec.step)} machine(s)"

    async def act(self, api: FlyApi, ctx: ActionContext, dry_run: bool) -> ActionResult:
        spec = self.spec
        machines = await self.machines(api, spec.process_group)
        target = max(spec.min, min(spec.max, len(machines) + spec.step))
        if target == len(machines):
            return ActionResult(
                ok=False,
                summary=f"{spec.app} already runs {len(machines)} machines, the bound "
                f"({spec.min}..{spec.max}); nothing was changed",
            )
        if dry_run:
            return ActionResult(
                ok=True, summary=f"would scale {spec.app} from {len(machines)} to {target} machines"
            )
        if target > len(machines):
            made = await self._clone(api, machines, target - len(machines))
            return ActionResult(
                ok=True, summary=f"scaled {spec.app} up to {target}: created {', '.join(made)}"
            )
        newest = sorted(machines, key=lambda m: (m.updated_at, m.id))[target - len(machines) :]
        for machine in newest:
            async with api.lease(machine.id, "selfreg: scale down", int(spec.lease_ttl)) as nonce:
                await api.destroy(machine.id, nonce)
        gone = ", ".join(m.id for m in newest)
        return ActionResult(
            ok=True, summary=f"scaled {spec.app} down to {target}: destroyed {gone}"
        )

    async def _clone(self, api: FlyApi, machines: list[Machine], count: int) -> list[str]:
        """Create ``count`` clones of a started machine of the group and wait for each."""
        template = next((m for m in machines if m.state == "started" and m.complete), None)
        if template is None:
            raise FlyRefused(
                f"{self.spec.app} has no started machine with a full config to clone; "
                "nothing was changed"
            )
        if template.has_mounts:
            raise FlyRefused(
                "its machines have volumes, which a clone cannot share; nothing was changed"
            )
        made = []
        for _ in range(count):
            created = parse(
                await api.create({"config": dict(template.config), "region": template.region})
            )
            await api.wait(created.id, "started", api.timeout)
            made.append(f"{created.id} ({created.region})")
        return made
