"""A live config reload's changes to the supervisor: start added components, stop removed ones,
restart changed ones, and leave every other component (and its pid) alone.

A component whose only change is ``instances`` is scaled instead of restarted: the copies it
keeps keep their pids.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.config import ComponentSettings
from bot.engine.supervisor import rows
from bot.engine.supervisor.controls import Supervisor
from bot.engine.supervisor.restarts import ExitWindow
from bot.engine.supervisor.state import ComponentState

log = logging.getLogger(__name__)


def _state(settings: ComponentSettings) -> ComponentState:
    return ComponentState(
        settings=settings,
        exits=ExitWindow(settings.crash_loop.exits, settings.crash_loop.window),
    )


async def _start(supervisor: Supervisor, component: ComponentState) -> None:
    """Start every instance of a component new to the supervisor; wait until ready."""
    started = []
    for index in range(component.settings.instances):
        instance = supervisor._new_instance(component, index)
        component.instances.append(instance)
        if await supervisor._start_instance(component, instance):
            started.append(instance)
    await supervisor._until_ready(started)


async def _remove(supervisor: Supervisor, component: ComponentState) -> None:
    async with component.lock:
        component.held = True  # no restart of an exit that races the stop
        await supervisor._stop_all(component)
        for instance in component.instances:
            rows.forget(supervisor.store, component.name, instance.index)
    log.info("component %s removed from the config: stopped", component.name)


def _only_instances_changed(old: ComponentSettings, new: ComponentSettings) -> bool:
    return old.model_copy(update={"instances": new.instances}) == new


async def apply(supervisor: Supervisor, wanted: Sequence[ComponentSettings]) -> None:
    """Make the supervisor run exactly ``wanted``, in its order, touching only what differs."""
    current = supervisor.components
    wanted_names = {c.name for c in wanted}
    for name in [n for n in current if n not in wanted_names]:
        await _remove(supervisor, current[name])
    rebuilt: dict[str, ComponentState] = {}
    fresh: list[ComponentState] = []
    for settings in wanted:
        old = current.get(settings.name)
        if old is not None and old.settings == settings:
            rebuilt[settings.name] = old
        elif old is not None and _only_instances_changed(old.settings, settings):
            old.settings = settings
            rebuilt[settings.name] = old
            await supervisor.scale(settings.name, settings.instances)
        else:
            if old is not None:  # changed: stop the old copies, start afresh on the new settings
                async with old.lock:
                    old.held = True
                    await supervisor._stop_all(old)
                    for instance in old.instances[settings.instances :]:
                        rows.forget(supervisor.store, old.name, instance.index)
                log.info("component %s changed in the config: restarting", settings.name)
            rebuilt[settings.name] = component = _state(settings)
            fresh.append(component)
    supervisor.components = rebuilt
    rows.forget_components(supervisor.store, keep=list(rebuilt))
    for component in fresh:
        await _start(supervisor, component)
