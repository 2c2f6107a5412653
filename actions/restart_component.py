"""``restart_component``: restart every instance of one supervised component."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.base import Action, ActionContext, ActionResult, ActionSpec


class RestartComponentSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``restart_component``."""

    kind: Literal["restart_component"] = Field(description='Always "restart_component".')
    component: str = Field(min_length=1, description="The [[components]] entry to restart.")


class RestartComponent(Action):
    """Ask the supervisor to restart a configured component (stop, then start again)."""

    Spec = RestartComponentSpec

    def __init__(self, spec: RestartComponentSpec) -> None:
        super().__init__(spec)
        self.spec: RestartComponentSpec = spec

    def describe(self) -> str:
        return f"restart {self.spec.component}"

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        name = self.spec.component
        if dry_run:
            return ActionResult(ok=True, summary=f"would restart component {name}")
        try:
            what = await ctx.components.restart(name)
        # The controls are the supervisor's and may fail in their own ways (unknown name,
        # a start that failed); any of them is a failed run, reported with its text.
        except Exception as exc:
            return ActionResult(ok=False, summary=f"could not restart component {name}: {exc}")
        return ActionResult(ok=True, summary=f"restarted component {name}: {what}")
