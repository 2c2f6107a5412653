"""``stop_component``: stop every instance of one supervised component (until started again)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.base import Action, ActionContext, ActionResult, ActionSpec


class StopComponentSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``stop_component``."""

    kind: Literal["stop_component"] = Field(description='Always "stop_component".')
    component: str = Field(min_length=1, description="The [[components]] entry to stop.")


class StopComponent(Action):
    """Ask the supervisor to stop a configured component and keep it stopped."""

    Spec = StopComponentSpec

    def __init__(self, spec: StopComponentSpec) -> None:
        super().__init__(spec)
        self.spec: StopComponentSpec = spec

    def describe(self) -> str:
        return f"stop {self.spec.component}"

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        name = self.spec.component
        if dry_run:
            return ActionResult(ok=True, summary=f"would stop component {name}")
        try:
            what = await ctx.components.stop(name)
        # The controls are the supervisor's and may fail in their own ways (unknown name,
        # a start that failed); any of them is a failed run, reported with its text.
        except Exception as exc:
            return ActionResult(ok=False, summary=f"could not stop component {name}: {exc}")
        return ActionResult(ok=True, summary=f"stopped component {name}: {what}")
