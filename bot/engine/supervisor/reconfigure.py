"""A live config reload's plan for the supervisor: which components to stop, which to leave
alone, which to scale, which to restart and which to start (``Supervisor.reconfigure`` carries
it out).

A component whose only change is ``instances`` is scaled instead of restarted: the copies it
keeps keep their pids. Pure: settings in, a plan out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.config import ComponentSettings


class Step(StrEnum):
    """What a reload does to one component of the new config."""

    KEEP = "keep"  # unchanged: left alone, pids and all
    SCALE = "scale"  # only ``instances`` changed: copies added or the last ones stopped
    RESTART = "restart"  # changed: the old copies stop, new ones start on the new settings
    ADD = "add"  # new to the config: started


@dataclass(frozen=True, slots=True)
class Plan:
    """``removed``: components no longer configured; ``steps``: the new config's, in order."""

    removed: tuple[str, ...]
    steps: tuple[tuple[ComponentSettings, Step], ...]


def plan(current: Mapping[str, ComponentSettings], wanted: Sequence[ComponentSettings]) -> Plan:
    """How to go from the components running on ``current`` to exactly ``wanted``."""
    wanted_names = {c.name for c in wanted}
    return Plan(
        removed=tuple(name for name in current if name not in wanted_names),
        steps=tuple((settings, _step(current.get(settings.name), settings)) for settings in wanted),
    )


def _step(old: ComponentSettings | None, new: ComponentSettings) -> Step:
    if old is None:
        return Step.ADD
    if old == new:
        return Step.KEEP
    if old.model_copy(update={"instances": new.instances}) == new:
        return Step.SCALE
    return Step.RESTART
