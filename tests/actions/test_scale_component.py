"""``scale_component`` against a tiny supervisor of real child processes."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from actions.scale_component import ScaleComponent, ScaleComponentSpec
from tests.support.action_context import RealActionContext

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
COMPONENTS = {"web": SLEEPER}


def scale(**fields: Any) -> ScaleComponent:
    fields = {"component": "web", "min": 1, "max": 4, **fields}
    return ScaleComponent(ScaleComponentSpec(name="scale-web", kind="scale_component", **fields))


async def test_it_scales_up_by_the_step(ctx: RealActionContext) -> None:
    await ctx.components.scale("web", 2)
    result = await scale().execute(ctx, dry_run=False)
    assert (
        result.ok
        and result.summary == "scaled component web from 2 to 3 instances: 2 -> 3 instances"
    )
    assert ctx.components.instances("web") == 3


async def test_a_negative_step_scales_down(ctx: RealActionContext) -> None:
    await ctx.components.scale("web", 3)
    result = await scale(step=-2).execute(ctx, dry_run=False)
    assert result.ok and ctx.components.instances("web") == 1


async def test_a_step_past_the_bound_stops_at_the_bound(ctx: RealActionContext) -> None:
    await ctx.components.scale("web", 3)
    result = await scale(step=5).execute(ctx, dry_run=False)
    assert result.ok and ctx.components.instances("web") == 4


async def test_it_refuses_when_already_at_max(ctx: RealActionContext) -> None:
    await ctx.components.scale("web", 4)
    result = await scale().execute(ctx, dry_run=False)
    assert not result.ok and result.summary == "component web is already at max 4"
    assert ctx.components.instances("web") == 4


async def test_it_refuses_when_already_at_min(ctx: RealActionContext) -> None:
    await ctx.components.scale("web", 1)
    result = await scale(step=-1).execute(ctx, dry_run=False)
    assert not result.ok and result.summary == "component web is already at min 1"


async def test_a_dry_run_names_the_new_count_and_changes_nothing(ctx: RealActionContext) -> None:
    await ctx.components.scale("web", 2)
    before = ctx.components.pids("web")
    result = await scale().execute(ctx, dry_run=True)
    assert result.ok and result.summary == "would scale component web from 2 to 3 instances"
    assert ctx.components.pids("web") == before


async def test_an_unknown_component_fails_with_the_supervisors_words(
    ctx: RealActionContext,
) -> None:
    result = await scale(component="nope").execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary == "could not scale component nope: no component named nope"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"step": 0}, "step must not be 0"),
        ({"min": 3, "max": 2}, "max (2) must be at least min (3)"),
        ({"min": -1}, "greater than or equal to 0"),
    ],
)
def test_config_rejects_a_zero_step_and_bounds_out_of_order(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        scale(**fields)
