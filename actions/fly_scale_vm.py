"""``fly_scale_vm``: set the memory / CPUs of an app's machines (vertical scale).

The Machines API takes no partial update: each machine's full config is read, its ``guest``
changed, and the whole config written back under the machine's lease (with its current
version, so a config changed meanwhile is refused rather than overwritten); a running machine
restarts with the new size and is waited for. Machines already at the size are left alone.
A ``[[vm]]`` section in the app's fly.toml puts the old size back on the next ``fly deploy``:
the run's output says so.
"""

from __future__ import annotations

import copy
from typing import Literal

from pydantic import Field, model_validator

from actions.base import ActionContext, ActionResult
from actions.fly_common import FlyAction, FlyActionSpec, require_full_configs, update_config
from checks.fly_api import FlyApi
from checks.fly_machines import Machine

DEPLOY_NOTE = "a [[vm]] section in fly.toml restores the old size on the next fly deploy"


class FlyScaleVmSpec(FlyActionSpec):
    """An ``[[actions]]`` entry of kind ``fly_scale_vm``."""

    kind: Literal["fly_scale_vm"] = Field(description='Always "fly_scale_vm".')
    process_group: str | None = Field(
        default=None, description="Only this process group's machines; default every machine."
    )
    memory_mb: int | None = Field(
        default=None, ge=256, multiple_of=256, description="Memory per machine, in MB."
    )
    cpus: Literal[1, 2, 4, 8, 16] | None = Field(default=None, description="CPUs per machine.")
    cpu_kind: Literal["shared", "performance"] | None = Field(
        default=None, description="shared or performance CPUs."
    )

    @model_validator(mode="after")
    def _something(self) -> FlyScaleVmSpec:
        if self.memory_mb is None and self.cpus is None and self.cpu_kind is None:
            raise ValueError("set at least one of memory_mb, cpus, cpu_kind")
        return self


class FlyScaleVm(FlyAction):
    """Write the configured guest size into each machine's config."""

    Spec = FlyScaleVmSpec

    def __init__(self, spec: FlyScaleVmSpec) -> None:
        super().__init__(spec)
        self.spec: FlyScaleVmSpec = spec

    def _size(self) -> str:
        spec = self.spec
        parts = [f"{spec.memory_mb} MB" if spec.memory_mb else ""]
        if spec.cpus or spec.cpu_kind:
            parts.append(" ".join(str(p) for p in (spec.cpus, spec.cpu_kind) if p) + " CPU")
        return ", ".join(p for p in parts if p)

    def describe(self) -> str:
        group = f" ({self.spec.process_group})" if self.spec.process_group else ""
        return f"scale {self.spec.app}{group} machines to {self._size()}"

    def _guest(self, machine: Machine) -> dict[str, object]:
        spec = self.spec
        guest = dict(machine.config.get("guest") or {})
        for key in ("memory_mb", "cpus", "cpu_kind"):
            if getattr(spec, key) is not None:
                guest[key] = getattr(spec, key)
        return guest

    async def act(self, api: FlyApi, ctx: ActionContext, dry_run: bool) -> ActionResult:
        spec = self.spec
        machines = await self.machines(api, spec.process_group)
        todo = [m for m in machines if self._guest(m) != dict(m.config.get("guest") or {})]
        if not todo:
            return ActionResult(
                ok=bool(machines),
                summary=f"every machine of {spec.app} is already {self._size()}"
                if machines
                else f"{spec.app} has no machines to scale",
            )
        require_full_configs(todo)
        changed = [f"{m.id} {m.memory_mb} MB/{m.cpus} CPU" for m in todo]
        if dry_run:
            return ActionResult(
                ok=True, summary=f"would scale {', '.join(changed)} to {self._size()}"
            )
        for machine in todo:
            config = copy.deepcopy(dict(machine.config))
            config["guest"] = self._guest(machine)
            await update_config(api, machine, config, spec.lease_ttl, "selfreg: scale vm")
        return ActionResult(
            ok=True,
            summary=f"scaled {', '.join(changed)} to {self._size()}",
            output=f"note: {DEPLOY_NOTE}",
        )
