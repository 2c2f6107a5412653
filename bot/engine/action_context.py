"""The engine's side of the action contract: ``ActionContext`` and ``ComponentControls``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import aiohttp

from bot import messages
from bot.clock import Clock


class SupervisorLike(Protocol):
    """What the supervisor offers actions (its own richer API stays its own)."""

    async def restart(self, name: str) -> Any: ...

    async def stop_component(self, name: str) -> Any: ...

    async def start_component(self, name: str) -> Any: ...

    async def scale(self, name: str, instances: int) -> Any: ...

    def snapshot(self) -> list[dict[str, Any]]: ...


class SupervisorControls:
    """Adapts the supervisor to ``actions.base.ComponentControls`` (names only, from config)."""

    def __init__(self, supervisor: SupervisorLike) -> None:
        self.supervisor = supervisor

    def _pids(self, name: str) -> list[int]:
        for component in self.supervisor.snapshot():
            if component["name"] == name:
                instances = component.get("instances") or [component]
                return [i["pid"] for i in instances if i.get("pid")]
        raise LookupError(messages.no_component_named(name))

    async def restart(self, name: str) -> str:
        before = self._pids(name)
        await self.supervisor.restart(name)
        return messages.component_restarted(name, _pids_text(before), _pids_text(self._pids(name)))

    async def stop(self, name: str) -> str:
        before = self._pids(name)
        await self.supervisor.stop_component(name)
        return messages.component_stopped(name, _pids_text(before))

    async def start(self, name: str) -> str:
        await self.supervisor.start_component(name)
        return messages.component_started(name, _pids_text(self._pids(name)))

    async def scale(self, name: str, instances: int) -> str:
        before = self.instances(name)
        result = self.supervisor.scale(name, instances)
        if hasattr(result, "__await__"):
            await result
        return messages.component_scaled(name, before, instances)

    def instances(self, name: str) -> int:
        for component in self.supervisor.snapshot():
            if component["name"] == name:
                return len(component.get("instances") or [component])
        raise LookupError(messages.no_component_named(name))


def _pids_text(pids: Sequence[int]) -> str:
    return ", ".join(str(p) for p in pids) or "none"


@dataclass(kw_only=True, slots=True)
class EngineActionContext:
    """What an action is handed: component controls, the HTTP session, the clock, matched pids."""

    components: SupervisorControls
    http: aiohttp.ClientSession
    logger: logging.Logger
    clock: Clock
    check_state: Callable[[str], Mapping[str, Any]]
    subject: str = ""

    def now(self) -> float:
        return self.clock.now()

    def for_subject(self, subject: str) -> EngineActionContext:
        """The same parts for one run that answers an incident on ``subject``."""
        return replace(self, subject=subject)

    def matched_pids(self, check: str) -> Sequence[int]:
        """From the process check's committed state: ``pids`` holds [pid, start time] pairs."""
        entries = self.check_state(check).get("pids", [])
        return [
            int(entry[0]) if isinstance(entry, list | tuple) else int(entry) for entry in entries
        ]
