"""The supervisor's controls: what buttons, commands and remediation actions may ask of it.

Each control takes a configured component name (an unknown one raises ``UnknownComponent``)
and returns a short sentence saying what happened, e.g. ``"pid 41 -> 57"``. Controls of one
component run one at a time (a lock per component), so two clicks cannot interleave.

``reconfigure`` is a live reload's: it runs the plan of ``reconfigure.py`` (start added
components, stop removed ones, restart changed ones, scale where only ``instances`` changed)
and leaves every other component, and its pids, alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot import messages
from bot.config import ComponentSettings
from bot.engine.supervisor import rows
from bot.engine.supervisor.core import SupervisorCore, SupervisorEvent
from bot.engine.supervisor.reconfigure import Step, plan
from bot.engine.supervisor.state import ComponentState, Instance
from bot.errors import BadInstanceCount

log = logging.getLogger(__name__)

MOST_INSTANCES = 64


class Supervisor(SupervisorCore):
    """Starts, watches, restarts and stops the configured components; and obeys controls."""

    def instances(self, name: str) -> int:
        """How many copies of the component there are (running or being restarted)."""
        return len(self._get(name).instances)

    async def restart(self, name: str) -> str:
        """Stop every instance (SIGTERM, then SIGKILL), start them again, wait until ready."""
        component = self._get(name)
        async with component.lock:
            before = _pids(component.instances)
            self._release(component)
            for instance in component.instances:
                await self._stop_instance(component, instance)
                instance.restarts += 1
                await self._start_instance(component, instance)
            await self._until_ready(component.instances)
            return messages.pids_restarted(before, _pids(component.instances))

    async def stop_component(self, name: str) -> str:
        """Stop every instance and keep them stopped until started again."""
        component = self._get(name)
        async with component.lock:
            before = _pids(component.instances)
            component.held = True
            await self._stop_all(component)
            return messages.pids_stopped(before)

    async def start_component(self, name: str) -> str:
        """Start every instance that is not running (clearing a crash loop); wait until ready."""
        component = self._get(name)
        async with component.lock:
            self._release(component)
            started = [i for i in component.instances if i.pid is None]
            for instance in started:
                await self._start_instance(component, instance)
            await self._until_ready(started)
        if not started:
            return messages.pids_already_running(_pids(component.instances))
        return messages.pids_started(_pids(started))

    async def restart_anyway(self, name: str) -> str:
        """The crash-loop incident's "Restart anyway": forget the loop and start it again."""
        return await self.start_component(name)

    async def keep_stopped(self, name: str) -> str:
        """The crash-loop incident's "Keep stopped": no automatic restarts until started.

        Copies still running (of a component with several) are left alone.
        """
        component = self._get(name)
        component.held, component.crash_looped = True, False
        component.exits.clear()
        for instance in component.instances:
            if instance.pid is None:
                instance.status = "stopped"
        self._record(component, SupervisorEvent.KEPT_STOPPED)
        running = [i for i in component.instances if i.pid is not None]
        return messages.kept_stopped_detail(_pids(running) if running else None)

    async def scale(self, name: str, instances: int) -> str:
        """Run ``instances`` copies: start the new ones (waiting until ready) or stop the last."""
        component = self._get(name)
        if not 1 <= instances <= MOST_INSTANCES:
            raise BadInstanceCount(name, instances, MOST_INSTANCES)
        async with component.lock:
            before = len(component.instances)
            if instances > before:
                added = [self._new_instance(component, i) for i in range(before, instances)]
                component.instances.extend(added)
                await asyncio.gather(*(self._start_instance(component, i) for i in added))
                await self._until_ready(added)
            elif instances < before:
                removed = component.instances[instances:]
                await asyncio.gather(*(self._stop_instance(component, i) for i in removed))
                del component.instances[instances:]
                for instance in removed:
                    rows.forget(self.store, name, instance.index)
            self._record(component, SupervisorEvent.SCALED, before=before, after=instances)
        return messages.instances_scaled(before, instances, _pids(component.instances))

    async def reconfigure(self, wanted: Sequence[ComponentSettings]) -> None:
        """Run exactly ``wanted``, in its order, touching only the components that differ."""
        current = self.components
        change = plan({name: c.settings for name, c in current.items()}, wanted)
        for name in change.removed:
            await self._retire(current[name], keep=0)
            log.info("component %s removed from the config: stopped", name)
        components: dict[str, ComponentState] = {}
        fresh: list[str] = []
        for settings, step in change.steps:
            old = current.get(settings.name)
            if old is not None and step in (Step.KEEP, Step.SCALE):
                components[settings.name] = old
                if step is Step.SCALE:
                    old.settings = settings
                    await self.scale(settings.name, settings.instances)
                continue
            if old is not None:  # changed: stop the old copies, start afresh on the new settings
                await self._retire(old, keep=settings.instances)
                log.info("component %s changed in the config: restarting", settings.name)
            components[settings.name] = ComponentState.of(settings)
            fresh.append(settings.name)
        self.components = components
        rows.forget_components(self.store, keep=list(components))
        for name in fresh:
            await self.start_one(name, {})

    async def _retire(self, component: ComponentState, *, keep: int) -> None:
        """Stop every copy for good (no restart races the stop); forget the rows past ``keep``."""
        async with component.lock:
            component.held = True
            await self._stop_all(component)
            for instance in component.instances[keep:]:
                rows.forget(self.store, component.name, instance.index)

    def _release(self, component: ComponentState) -> None:
        """Lift a hold and a crash loop: the operator asked for the component to run."""
        component.held = component.crash_looped = False
        component.exits.clear()
        for instance in component.instances:
            instance.delay = None


def _pids(instances: list[Instance]) -> str:
    return ", ".join(str(i.pid) if i.pid is not None else "-" for i in instances) or "-"
