"""``scale_component``: run more or fewer instances of a component, within configured bounds.

The bounds live in the action's own entry, so a run can never take a component past what the
operator wrote down, however often it is approved.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actions.base import Action, ActionContext, ActionResult, ActionSpec


class ScaleComponentSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``scale_component``."""

    kind: Literal["scale_component"] = Field(description='Always "scale_component".')
    component: str = Field(min_length=1, description="The [[components]] entry to scale.")
    step: int = Field(
        default=1, description="Instances to add per run: positive scales up, negative down."
    )
    min: int = Field(default=1, ge=0, description="Never fewer instances than this.")
    max: int = Field(ge=0, description="Never more instances than this.")

    @model_validator(mode="after")
    def _step_and_bounds(self) -> ScaleComponentSpec:
        if self.step == 0:
            raise ValueError("step must not be 0: positive scales up, negative down")
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be at least min ({self.min})")
        return self


class ScaleComponent(Action):
    """Change a component's instance count by ``step``, clamped to ``[min, max]``."""

    Spec = ScaleComponentSpec

    def __init__(self, spec: ScaleComponentSpec) -> None:
        super().__init__(spec)
        self.spec: ScaleComponentSpec = spec

    def describe(self) -> str:
        direction = "up" if self.spec.step > 0 else "down"
        return f"scale {self.spec.component} {direction} by {abs(self.spec.step)}"

    def target(self, current: int) -> int | None:
        """The count a run moves to from ``current``; None when already at the bound."""
        spec = self.spec
        if (spec.step > 0 and current >= spec.max) or (spec.step < 0 and current <= spec.min):
            return None
        return max(spec.min, min(spec.max, current + spec.step))

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        spec, name = self.spec, self.spec.component
        try:
            current = ctx.components.instances(name)
        # The supervisor's errors (an unknown name, say) are a failed run, not a bug here.
        except Exception as exc:
            return ActionResult(ok=False, summary=f"could not scale component {name}: {exc}")
        wanted = self.target(current)
        if wanted is None:
            bound = f"max {spec.max}" if spec.step > 0 else f"min {spec.min}"
            return ActionResult(ok=False, summary=f"component {name} is already at {bound}")
        change = f"from {current} to {wanted} instances"
        if dry_run:
            return ActionResult(ok=True, summary=f"would scale component {name} {change}")
        try:
            what = await ctx.components.scale(name, wanted)
        except Exception as exc:
            return ActionResult(ok=False, summary=f"could not scale component {name}: {exc}")
        return ActionResult(ok=True, summary=f"scaled component {name} {change}: {what}")
