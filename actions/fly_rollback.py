"""``fly_rollback``: put an app's machines back on the release before the running one.

The release history is the ``fly`` check's (its state keeps each release seen with its image
and release metadata); the release rolled back to is the newest recorded one older than the
current (by number, so a second rollback goes further back, never forward again). Each machine not on it gets its full config back with that image and metadata, under
its lease, and is waited for. High risk by default: two people approve it. The engine proposes
it on incidents that open within the deploy window after a deploy of its app.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from actions.base import ActionContext, ActionResult, Risk
from actions.fly_common import (
    FlyAction,
    FlyActionSpec,
    FlyRefused,
    require_full_configs,
    update_config,
)
from checks.fly import CURRENT_KEY, HISTORY_KEY
from checks.fly_api import FlyApi
from checks.fly_machines import release_number


class FlyRollbackSpec(FlyActionSpec):
    """An ``[[actions]]`` entry of kind ``fly_rollback``."""

    kind: Literal["fly_rollback"] = Field(description='Always "fly_rollback".')
    check: str = Field(
        min_length=1, description="The fly check of this app whose release history is used."
    )
    process_group: str | None = Field(
        default=None, description="Only this process group's machines; default every machine."
    )
    risk: Risk = Field(default=Risk.HIGH, description="high (default): two people approve it.")


def previous_release(state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The release to roll back to, from a fly check's state: the newest recorded release
    older than the current one (by number: after a rollback from v18 to v17 that is v16, not
    v18 again); for versions that are not numbers, the one seen before the current."""
    history = [h for h in state.get(HISTORY_KEY, []) or [] if isinstance(h, Mapping)]
    versions = [h.get("version") for h in history]
    current = state.get(CURRENT_KEY)
    number = release_number(str(current or ""))
    if number:
        older = [h for h in history if 0 < release_number(str(h.get("version"))) < number]
        return max(older, key=lambda h: release_number(str(h.get("version")))) if older else None
    if current not in versions:
        return history[-1] if history else None
    at = versions.index(current)
    return history[at - 1] if at > 0 else None


class FlyRollback(FlyAction):
    """Write the previous release's image into each machine's config."""

    Spec = FlyRollbackSpec

    def __init__(self, spec: FlyRollbackSpec) -> None:
        super().__init__(spec)
        self.spec: FlyRollbackSpec = spec

    def undoes_deploys_of(self) -> str:
        return self.spec.app

    def describe(self) -> str:
        return f"roll back {self.spec.app} to the previous release"

    async def act(self, api: FlyApi, ctx: ActionContext, dry_run: bool) -> ActionResult:
        target = previous_release(ctx.check_state(self.spec.check))
        if target is None or not target.get("image"):
            raise FlyRefused(
                f"check {self.spec.check} has recorded no earlier release of {self.spec.app}; "
                "nothing was changed"
            )
        spec, version = self.spec, str(target.get("version", "?"))
        machines = await self.machines(api, spec.process_group)
        todo = [m for m in machines if m.image != target["image"]]
        if not todo:
            raise FlyRefused(
                f"every machine of {spec.app} already runs {version}; nothing was changed"
            )
        require_full_configs(todo)
        ids = ", ".join(m.id for m in todo)
        if dry_run:
            return ActionResult(
                ok=True, summary=f"would roll back {ids} of {spec.app} to {version}"
            )
        for machine in todo:
            config = copy.deepcopy(dict(machine.config))
            config["image"] = target["image"]
            config["metadata"] = {**config.get("metadata", {}), **target.get("metadata", {})}
            await update_config(api, machine, config, spec.lease_ttl, "selfreg: roll back")
        return ActionResult(ok=True, summary=f"rolled back {ids} of {spec.app} to {version}")
