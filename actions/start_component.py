"""``start_component``: start a stopped supervised component."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.base import Action, ActionContext, ActionResult, ActionSpec


class StartComponentSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``start_component``."""

    kind: Literal["start_component"] = Field(description='Always "start_component".')
    component: str = Field(min_length=1, description="The [[components]] entry to start.")


class StartComponent(Action):
    """Ask the supervisor to start a configured component that is not running."""

    Spec = StartComponentSpec

    def __init__(self, spec: StartComponentSpec) -> None:
        super().__init__(spec)
        self.spec: StartComponentSpec = spec

    def describe(self) -> str:
        return f"start {self.spec.component}"

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        name = self.spec.component
        if dry_run:
            return ActionResult(ok=True, summary=f"would start component {name}")
        try:
            what = await ctx.components.start(name)
        # The controls are the supervisor's and may fail in their own ways (unknown name,
        # a start that failed); any of them is a failed run, reported with its text.
        except Exception as exc:
            return ActionResult(ok=False, summary=f"could not start component {name}: {exc}")
        return ActionResult(ok=True, summary=f"started component {name}: {what}")
